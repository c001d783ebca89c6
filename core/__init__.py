"""swarmscope's core: everything that is not a screen. Never imports Textual or Rich.

The rooms, each a subpackage (docs/architecture.md draws how they connect):

- `sdk`: what an agent imports (Emitter, Publisher, redaction); kept light.
- `wire`: the wire format, its gate, endpoints and CURVE keys; shared by the SDK and the hub.
- `hub`: the hub and what reads from it (feed, intake, ledger, late join, forwarding).
- `model`: the swarm model an event stream folds into, its views, health and diffs.
- `live`: what a viewer reads from while a swarm runs, and the simulated swarm of the demo.
- `session`: session files (format, writers, reader, repair, keyframes), the recorder, the store.
- `replay`: a recorded session opened for scrubbing: seek, step, play, blame, scan, compare, export.

The names below are importable from here, each on first use: an agent that imports
`Emitter` loads the SDK and nothing of the hub, the model or the session files.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "Emitter": "sdk.emitter",
    "ConfigError": "errors",
    "SessionError": "errors",
    "SwarmscopeError": "errors",
    "WireError": "errors",
    "Event": "events",
    "AsyncFeed": "hub.feed",
    "Feed": "hub.feed",
    "Hub": "hub.hub",
    "Health": "model.health",
    "SwarmModel": "model.swarm",
    "open_session": "replay.session",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    """Import a public name's module when the name is first used (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
