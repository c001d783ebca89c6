"""Health from heartbeats against the interval the agent announced.

Computed against a clock passed in (the feed's: wall time live, recorded
time in a replay), so a replay shows health as it was at that instant.
Any event counts as a beat: an agent that is busy talking is alive.
"""

from __future__ import annotations

from enum import Enum


class Health(str, Enum):
    """How an agent is doing, worst last. Each has a glyph so it reads without colour."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    CRITICAL = "critical"
    FAILED = "failed"
    STOPPED = "stopped"
    """Said bye cleanly: silence is expected, so it is not FAILED. (DESIGN.md's four
    levels have no word for an agent that finished; without one, every finished
    agent would turn FAILED three intervals after its bye.)"""

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def rank(self) -> int:
        """Sort key, worst first."""
        return _RANK[self]


_GLYPHS = {
    Health.HEALTHY: "●",
    Health.DEGRADED: "◐",
    Health.CRITICAL: "▲",
    Health.FAILED: "✖",
    Health.STOPPED: "○",
}
_RANK = {
    Health.FAILED: 0,
    Health.CRITICAL: 1,
    Health.DEGRADED: 2,
    Health.HEALTHY: 3,
    Health.STOPPED: 4,
}


SILENT_AFTER = 3.0
"""Heartbeat intervals of silence past which an agent counts as FAILED."""


DEGRADED_AFTER, CRITICAL_AFTER = 1.0, 2.0
THRESHOLDS = (DEGRADED_AFTER, CRITICAL_AFTER, SILENT_AFTER)
"""Heartbeat ages (in intervals) past which an agent is DEGRADED, CRITICAL, FAILED."""


def beat_ratio(last_beat_ns: int, interval_s: float, now_ns: int) -> float:
    """Heartbeat age in units of the announced interval (0 = just beat)."""
    return max(0, now_ns - last_beat_ns) / _interval_ns(interval_s)


def aged(last_beat_ns: int, interval_s: float, ratio: float) -> float:
    """The instant (ns) at which the heartbeat's age reaches `ratio` intervals."""
    return last_beat_ns + ratio * _interval_ns(interval_s)


def holds_until(last_beat_ns: int, interval_s: float, now_ns: int) -> int | None:
    """The last instant at which health_of (and whatever else turns on THRESHOLDS) says what it
    says at `now_ns`, by the clock alone; None once past the last threshold."""
    for ratio in THRESHOLDS:
        at = aged(last_beat_ns, interval_s, ratio)
        if at >= now_ns:
            return int(at)
    return None


def _interval_ns(interval_s: float) -> float:
    return max(interval_s, 1e-3) * 1e9


def health_of(
    last_beat_ns: int, interval_s: float, now_ns: int, status: str | None, said_bye: bool
) -> Health:
    """HEALTHY within 1x the interval, DEGRADED within 2x, CRITICAL within 3x, else FAILED."""
    if status == "failed":
        return Health.FAILED
    if said_bye:
        return Health.STOPPED
    ratio = beat_ratio(last_beat_ns, interval_s, now_ns)
    if ratio <= DEGRADED_AFTER:
        return Health.HEALTHY
    if ratio <= CRITICAL_AFTER:
        return Health.DEGRADED
    if ratio <= SILENT_AFTER:
        return Health.CRITICAL
    return Health.FAILED
