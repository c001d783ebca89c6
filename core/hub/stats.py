"""What a hub has seen: every message counted once, by what became of it; gaps per agent;
connections.

Plain ints and counters, updated by the hub's threads and read from any
thread (the stats line, `--json`, tests). Each message the tap takes is, in
the end, exactly one of: passed, refused (by field), dropped for a slow
worker (intake.py), or left unrecorded at a stop; and each one-frame
message is a viewer's subscription on its way to the agents.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from swarmscope.core.hub.intake import Intake
from swarmscope.core.wire.gate import DecodeStats


@dataclass
class HubStats:
    """What the hub has seen; read from any thread (plain ints, updated by the tap and the
    worker)."""

    intake: Intake
    started: float = field(default_factory=time.time)
    messages_in: int = 0
    """Messages the tap took in (subscriptions apart)."""
    bytes_in: int = 0
    subscriptions: int = 0
    """One-frame messages beginning 0 or 1: viewers (un)subscribing (or an agent sending what looks
    it)."""
    ledgers: int = 0
    """Ledger messages (ledger.py): the hub's own, on their way to its viewers."""
    decode: DecodeStats = field(default_factory=DecodeStats)
    """Messages through the gate: passed (`events`), refused by field."""
    gaps: Counter = field(default_factory=Counter)
    """Events lost before the hub, per agent."""
    restarts: int = 0
    publishers: int = 0
    """Connections from agents right now."""
    viewers: int = 0
    """Connections from viewers and recorders right now."""
    agent_disconnects: int = 0
    """Agent connections that ended: an agent that closed, or one ZeroMQ cut off for a frame over
    the hub's --max-message (ZeroMQ does not say which)."""
    dropped_connections: int = 0
    """Peers whose handshake failed (a protocol error, or no CURVE to a CURVE hub)."""
    refused_clients: int = 0
    """Handshakes CURVE refused: a key not among the hub's clients."""
    unrecorded: int = 0
    """Messages still waiting when the hub stopped, past DRAIN_S: neither checked nor recorded."""
    frames_passed: int = 0
    """Frames the proxy took in, both ways, as of the last time it was asked (Hub.count_passed).
    ZeroMQ tallies frames, not messages: one from the SDK is two (topic, batch)."""
    frames_taken: int = 0
    """Frames the tap took off its socket."""
    failures: int = 0
    """Messages or passes a bug of ours cost (the worker went on); `failure` says the last."""
    failure: str = ""

    @property
    def behind(self) -> int:
        """Frames the proxy passed that the tap has not taken yet, as messages of two: waiting for a
        tap thread without the CPU (past its queue the proxy waits for it, so none is dropped)."""
        return max(0, self.frames_passed - self.frames_taken) // 2

    def failed(self, exc: Exception) -> None:
        self.failures += 1
        self.failure = f"{type(exc).__name__}: {exc}"[:300]

    def to_dict(self) -> dict:
        intake = self.intake
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "messages_in": self.messages_in,
            "bytes_in": self.bytes_in,
            "subscriptions": self.subscriptions,
            "ledgers": self.ledgers,
            "checked": self.decode.messages,
            "events_in": self.decode.events,
            "refused": dict(self.decode.refused),
            "refusals": dict(self.decode.said),
            "dropped_messages": intake.dropped_messages,
            "dropped_events": sum(intake.dropped_events.values()),
            "dropped_by_agent": dict(intake.dropped_events),
            "dropped_unread": intake.dropped_unread,
            "waiting": intake.waiting,
            "unrecorded_at_stop": self.unrecorded,
            "behind": self.behind,
            "gaps": sum(self.gaps.values()),
            "gaps_by_agent": dict(self.gaps),
            "restarts": self.restarts,
            "publishers": self.publishers,
            "viewers": self.viewers,
            "agent_disconnects": self.agent_disconnects,
            "dropped_connections": self.dropped_connections,
            "refused_clients": self.refused_clients,
            "failures": self.failures,
            "failure": self.failure,
        }
