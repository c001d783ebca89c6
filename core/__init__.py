"""swarmscope's core: everything that is not a screen. Never imports Textual.

An agent needs only `Emitter`; viewers and tools use the rest.
"""

from .emitter import Emitter
from .errors import ConfigError, SessionError, SwarmscopeError, WireError
from .events import Event
from .feed import AsyncFeed, Feed
from .health import Health
from .hub import Hub
from .model import SwarmModel

__all__ = [
    "AsyncFeed", "ConfigError", "Emitter", "Event", "Feed", "Health", "Hub",
    "SessionError", "SwarmModel", "SwarmscopeError", "WireError", "open_session",
]


def __getattr__(name: str) -> object:
    """`open_session` on first use: an agent importing Emitter should not pay for zstd and replay."""
    if name == "open_session":
        from .replay import open_session
        return open_session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
