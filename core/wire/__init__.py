"""The wire between agents, hubs and viewers: the format, the one gate every message passes,
endpoints and CURVE keys.

Shared by the SDK (which writes the format) and the hub and viewers (which read it
through `gate`), owned by neither. docs/wire.md is the format as a spec.
"""
