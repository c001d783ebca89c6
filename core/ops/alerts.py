"""When an agent needs a person: the alert rules the hub (`--on-alert`, `--alert-webhook`) and the
live view's Alerts tab share.

An agent's condition is the worst of: FAILED (its health is FAILED, which a `failed` status is
too), CRITICAL (health CRITICAL), ERROR (it raised an error in the last QUIET_S). An alert goes out
when the condition rises above what was last said of the agent: one per transition, so an agent
that fails says so once, not once for its error, once for its status and once for its silence.
An error waits GRACE_S before it is said on its own: an agent that raises and then fails (the
usual order) is one alert, FAILED, carrying the error. The rules are fed agents' conditions on a
clock (the hub's ticks, the screen's frames), so they need no events: a silent agent turns
CRITICAL with nothing arriving. A caller may pass only the agents whose condition changed (the
screen does, so ten thousand quiet agents cost nothing a frame): the rules judge again, from what
they last saw, every agent with a timer running (an error's grace, its quiet, a recovery).

No storm: what was said of an agent stands until it has been well for RECOVER_S. An agent that
flaps between healthy and critical meanwhile, or raises error after error, says nothing more;
each rise held back is counted, and the next alert for that agent says how many. A rise to a
worse condition (CRITICAL to FAILED) is always said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from swarmscope.core.model.health import Health

GRACE_S = 1.0
"""An error waits this long for its agent to fail before it is said on its own."""
QUIET_S = 60.0
"""An agent counts as raising errors until this long after its last one."""
RECOVER_S = 60.0
"""What was said of an agent stands until it has been well this long: rises meanwhile are held
back and counted, not said."""
MAX_WATCHED = 100_000
"""Agents the rules remember (the model's own bound): past it, new agents are judged without
memory of what was said of them."""


REASONS = ("failed", "critical", "error", "error_rate")
"""What an alert can be about (Alert.reason): /metrics counts each from zero."""


class Level(IntEnum):
    """An agent's condition, worst last."""

    OK = 0
    ERROR = 1
    CRITICAL = 2
    FAILED = 3


Seen = tuple[str, str, str, Health, int, str]
"""An agent as the rules see it: (id, role, status, health now, errors raised so far, its last
error as "Type: message")."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing a person should look at: an agent's condition, or the swarm's error rate."""

    ts: int
    """When it was seen, in ns on the clock the rules were given."""
    level: Level
    agent: str
    """"" for the swarm (the error rate)."""
    role: str = ""
    status: str = ""
    health: Health | None = None
    was: Health | None = None
    """Its health when it was last seen before."""
    error: str = ""
    """Its last error, "Type: message", if it raised one."""
    suppressed: int = 0
    """Rises of this agent held back since its last alert (RECOVER_S)."""
    rate: float | None = None
    """Errors per second over the swarm, for the error-rate alert."""

    @property
    def reason(self) -> str:
        """What the alert is about, as JSON, counters and rules name it."""
        return "error_rate" if self.rate is not None else self.level.name.lower()

    @property
    def text(self) -> str:
        """One line a person reads as is (a chat webhook shows it unchanged)."""
        if self.rate is not None:
            return f"swarmscope: the swarm raises {self.rate:.2f} errors/s"
        who = f"{self.agent} ({self.role})" if self.role else self.agent
        words = {
            Level.FAILED: "FAILED",
            Level.CRITICAL: "is CRITICAL (silent for over 2 heartbeats)",
            Level.ERROR: "raised an error",
        }
        line = f"swarmscope: {who} {words[self.level]}"
        if self.level is Level.FAILED and self.status == "failed":
            line += " (it reports status failed)"
        if self.error:
            line += f": {self.error}"
        if self.suppressed:
            line += f" [{self.suppressed} more held back]"
        return line

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """What a hook is given (on stdin, or as a webhook's body)."""
        return {
            "text": self.text,
            "reason": self.reason,
            "agent": self.agent or None,
            "role": self.role or None,
            "status": self.status or None,
            "health": self.health.value if self.health else None,
            "was": self.was.value if self.was else None,
            "error": self.error or None,
            "suppressed": self.suppressed,
            "errors_per_second": self.rate,
            "ts": self.ts / 1e9,
            **extra,
        }


def level_of(health: Health) -> Level:
    if health is Health.FAILED:
        return Level.FAILED
    return Level.CRITICAL if health is Health.CRITICAL else Level.OK


class _Agent:
    """What the rules remember of one agent."""

    __slots__ = ("said", "errors", "error_at", "pending", "well_since", "last", "held", "health")

    def __init__(self, errors: int, health: Health) -> None:
        self.said = Level.OK
        """The worst condition said of it since it was last well for RECOVER_S."""
        self.errors = errors
        self.error_at: int | None = None
        """When it last raised an error (ns)."""
        self.pending: int | None = None
        """When an error not yet said began to wait (GRACE_S)."""
        self.well_since: int | None = None
        self.last = Level.OK
        self.held = 0
        self.health = health


class AgentAlerts:
    """Agents' conditions over time, as alerts (see the module's docstring)."""

    def __init__(self, quiet_first: bool = False) -> None:
        """`quiet_first`: an agent's condition when first seen is taken as known, not said (a view
        that joined late shows it anyway); the hub says it, as it sees agents from their start."""
        self._agents: dict[str, _Agent] = {}
        self._ticking: dict[str, Seen] = {}
        """Agents whose condition moves with the clock alone, as last seen."""
        self._quiet_first = quiet_first
        self.suppressed = 0
        """Rises held back, over all agents."""

    def update(self, agents: Iterable[Seen], now_ns: int) -> list[Alert]:
        """The alerts these agents' conditions at `now_ns` call for, and those of agents not
        passed whose timers ran out."""
        alerts, judged = [], set()
        for seen in agents:
            judged.add(seen[0])
            alerts.append(self._judge(seen, now_ns))
        for agent_id, seen in list(self._ticking.items()):
            if agent_id not in judged:
                alerts.append(self._judge(seen, now_ns))
        return [a for a in alerts if a is not None]

    def forget(self, agent_ids: Iterable[str]) -> None:
        """Agents no longer watched (the hub's retention): should one come back, it starts anew."""
        for agent_id in agent_ids:
            self._agents.pop(agent_id, None)
            self._ticking.pop(agent_id, None)

    def _judge(self, seen: Seen, now: int) -> Alert | None:
        alert = self._rules(seen, now)
        a = self._agents.get(seen[0])
        if a is not None and self._timed(a, now):
            self._ticking[seen[0]] = seen
        else:
            self._ticking.pop(seen[0], None)
        return alert

    def _timed(self, a: _Agent, now: int) -> bool:
        """Whether its condition can change with nothing new seen: an error waiting out its grace
        or its quiet, or a recovery under way."""
        return (
            a.pending is not None
            or self._erring(a, now) is Level.ERROR
            or (a.last is Level.OK and a.said is not Level.OK)
        )

    def _rules(self, seen: Seen, now: int) -> Alert | None:
        agent_id, _, _, health, errors, _ = seen
        a = self._agents.get(agent_id)
        if a is None:
            a = _Agent(errors if self._quiet_first else 0, health)
            if self._quiet_first:
                a.said = a.last = level_of(health)
            if len(self._agents) < MAX_WATCHED:
                self._agents[agent_id] = a
        was, a.health = a.health, health
        new_error = errors > a.errors
        if new_error:
            a.errors, a.error_at = errors, now
            a.pending = now if a.pending is None else a.pending
        level = max(level_of(health), self._erring(a, now))
        rose, a.last = level > a.last, level
        self._recover(a, level, now)
        if level <= a.said:
            a.pending = None  # said already, at this level or worse
            if level and (rose or new_error):
                a.held += 1
                self.suppressed += 1
            return None
        if level is Level.ERROR and now - a.pending < GRACE_S * 1e9:
            return None  # it may yet fail: one alert then
        a.said, a.pending = level, None
        held, a.held = a.held, 0
        return Alert(now, level, agent_id, seen[1], seen[2], health, was, seen[5], held)

    @staticmethod
    def _erring(a: _Agent, now: int) -> Level:
        if a.error_at is not None and now - a.error_at < QUIET_S * 1e9:
            return Level.ERROR
        return Level.OK

    @staticmethod
    def _recover(a: _Agent, level: Level, now: int) -> None:
        """Well for RECOVER_S: what was said of it no longer stands."""
        if level is not Level.OK:
            a.well_since = None
            return
        if a.well_since is None:
            a.well_since = now
        if now - a.well_since >= RECOVER_S * 1e9:
            a.said = Level.OK


class RateMeter:
    """Rate of a growing counter over the last few seconds of a clock (errors per second)."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_ns = int(window_s * 1e9)
        self._samples: list[tuple[int, int]] = []

    def update(self, now_ns: int, count: int) -> float:
        if self._samples:
            last_ns, last_count = self._samples[-1]
            if now_ns < last_ns or count < last_count or now_ns - last_ns > self.window_ns:
                self._samples.clear()  # a replay moved back, or jumped past the window: start over
        self._samples.append((now_ns, count))
        while len(self._samples) > 2 and self._samples[1][0] <= now_ns - self.window_ns:
            self._samples.pop(0)
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / ((t1 - t0) / 1e9) if t1 > t0 else 0.0


class ErrorRate:
    """The swarm's errors per second past a threshold: said when it crosses, said again only once
    it has stayed under for RECOVER_S."""

    def __init__(self, threshold: float, window_s: float = 60.0) -> None:
        self.threshold = threshold
        self._meter = RateMeter(window_s)
        self._said = False
        self._under_since: int | None = None

    def update(self, errors: int, now_ns: int) -> Alert | None:
        rate = self._meter.update(now_ns, errors)
        if rate <= self.threshold:
            if self._under_since is None:
                self._under_since = now_ns
            if now_ns - self._under_since >= RECOVER_S * 1e9:
                self._said = False
            return None
        self._under_since = None
        if self._said:
            return None
        self._said = True
        return Alert(now_ns, Level.ERROR, "", rate=rate)
