"""Adapters: what agent frameworks already say about their agents, as swarmscope events.

Each module here is one framework (or one standard: OpenTelemetry, Python logging), imported only
by the agent that asks for it, and each framework an optional extra (`pip install
swarmscope[otel]`); nothing in core imports this package. They share `pool.py`: one publisher per
process however many agents a framework runs, an Emitter per agent on first sight, and the agent
the framework is working for now, which other adapters (logging) attribute their events to.
"""
