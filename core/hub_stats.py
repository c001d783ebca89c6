"""What a hub has seen: messages, events, refusals by reason, gaps per agent, connections.

Plain ints and counters, updated by the hub's tap thread and read from any
thread (the stats line, `--json`, tests).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from .wire import DecodeStats


@dataclass
class HubStats:
    """What the hub has seen; read from any thread (plain ints, updated by the tap)."""

    started: float = field(default_factory=time.time)
    messages_in: int = 0
    bytes_in: int = 0
    decode: DecodeStats = field(default_factory=DecodeStats)
    gaps: Counter = field(default_factory=Counter)
    """Events lost before the hub, per agent."""
    restarts: int = 0
    publishers: int = 0
    """Connections from agents right now."""
    viewers: int = 0
    """Connections from viewers and recorders right now."""
    dropped_connections: int = 0
    """Peers cut off by ZeroMQ (oversized frame or protocol error, or no CURVE to a CURVE hub)."""
    refused_clients: int = 0
    """Handshakes CURVE refused: a key not among the hub's clients."""
    unrecorded: int = 0
    """Messages still queued for the tap when the hub stopped, past DRAIN_S: neither counted nor recorded."""
    frames_passed: int = 0
    """Frames the proxy took in from agents, as of the last time it was asked (Hub.count_passed).
    ZeroMQ tallies frames, not messages: one from the SDK is two (topic, batch)."""
    frames_taken: int = 0
    """Frames the tap took off its queue (counted, or left unrecorded at stop)."""

    @property
    def behind(self) -> int:
        """Messages (of two frames) the proxy passed that the tap has not taken: queued for a tap that
        is behind, or, past the tap's queue, dropped for it (neither counted nor recorded; viewers had
        them). After a stop, only the dropped ones."""
        return max(0, self.frames_passed - self.frames_taken) // 2

    def to_dict(self) -> dict:
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "messages_in": self.messages_in, "bytes_in": self.bytes_in,
            "events_in": self.decode.events, "refused": dict(self.decode.refused),
            "gaps": sum(self.gaps.values()), "gaps_by_agent": dict(self.gaps),
            "restarts": self.restarts, "publishers": self.publishers,
            "viewers": self.viewers, "dropped_connections": self.dropped_connections,
            "refused_clients": self.refused_clients, "unrecorded_at_stop": self.unrecorded,
            "behind": self.behind,
        }
