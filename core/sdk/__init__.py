"""What an agent imports to be seen: the Emitter, its Publisher, redaction and resource sampling.

Kept light on purpose: importing `swarmscope.core.sdk.emitter` loads msgpack and
pyzmq, never the hub, the model or the session files. Every call an agent makes
here is cheap and never raises on a hub that is down.
"""
