"""Where the time went in a run: tasks by name and by role, agents by what they spent their time
on, the swarm's throughput and errors over time, and the critical path.

A Profile is folded from events, exactly (every task's duration is kept, so percentiles are
exact, not sampled), and read at any instant: `report(to_ns)` closes what is still open at that
instant without changing the fold, so a live view reads it every frame and feeds it more events
after. A profile of A to B starts from the swarm as it stood at A (`seed`): the statuses then,
and the tasks then running, which count when they end.

Only the kinds it sums are looked at event by event (tasks, statuses, messages, errors, metrics,
hello, bye): the rest (progress, state, logs: most of a run) are counted per second in C, which
keeps a profile of a session near the cost of decoding it (`swarmscope bench --only sessions`).

The critical path is the chain that set the run's end: from the task that ended last, back
through what each task waited for. A task waited for the last message its agent received before
it began, if that came after the agent's previous task ended; else for that previous task. A
message waited for the task its sender was running, or had last finished, when it was sent.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from operator import floordiv, itemgetter
from typing import Any

from swarmscope.core.events import Event, series
from swarmscope.core.model.reducers import as_num, as_str

SUMMED = frozenset(
    {"task_start", "task_end", "status", "message", "error", "metric", "hello", "bye"}
)
"""The kinds a profile reads one by one."""
MAX_NAMES = 10_000
"""Task names (and roles) told apart; past it, new names count together as OTHER."""
OTHER = "(other)"
MAX_OPEN = 100_000
"""Tasks started and not ended that a profile waits for (a flood of starts must not grow it)."""
MAX_KEPT = 2_000_000
"""Finished tasks and messages kept for the critical path; past it, the newest are left out of it
(the sums still count them)."""
MAX_AGENTS = 100_000
MAX_SERIES = 100
"""Metric series summed per agent."""
_KIND = itemgetter(3)
_TS = itemgetter(0)
S = 1_000_000_000


@dataclass(slots=True)
class Durations:
    """The tasks of one name (or role): how they ended, and every duration, in ns."""

    ok: int = 0
    failed: int = 0
    cancelled: int = 0
    other: int = 0
    """Ended with a result that is none of the three (an agent's own word)."""
    took: array = field(default_factory=lambda: array("q"))

    @property
    def count(self) -> int:
        return len(self.took)

    def add(self, result: str, ns: int) -> None:
        if result in ("ok", "failed", "cancelled"):
            setattr(self, result, getattr(self, result) + 1)
        else:
            self.other += 1
        self.took.append(ns)

    def row(self, name: str) -> dict[str, Any]:
        """`sessions profile --json`'s row: counts, and durations in seconds."""
        took = sorted(self.took)
        return {
            "name": name,
            "count": len(took),
            "ok": self.ok,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "p50_s": percentile(took, 0.50) / S,
            "p95_s": percentile(took, 0.95) / S,
            "p99_s": percentile(took, 0.99) / S,
            "max_s": (took[-1] if took else 0) / S,
            "total_s": sum(took) / S,
        }


def percentile(ordered: list[int], p: float) -> int:
    """The nearest-rank percentile: a duration some task really took."""
    if not ordered:
        return 0
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass(slots=True)
class AgentTime:
    """One agent's run: time in each status, tasks, errors, messages, metrics summed."""

    role: str = ""
    status: str | None = None
    since: int = 0
    ended: bool = False
    """Said bye: nothing after counts as its time."""
    time: Counter = field(default_factory=Counter)
    """ns in each status."""
    tasks: int = 0
    failed: int = 0
    errors: int = 0
    msgs_in: int = 0
    msgs_out: int = 0
    metrics: dict = field(default_factory=dict)
    """Each metric series, summed."""

    def in_status(self, status: str, to_ns: int) -> int:
        """ns spent in `status` up to `to_ns` (what spent() says of one status, without a copy)."""
        open_ = self.status == status and not self.ended and to_ns > self.since
        return self.time.get(status, 0) + (to_ns - self.since if open_ else 0)

    def spent(self, to_ns: int) -> Counter:
        """Time in each status up to `to_ns` (the open stretch closed there)."""
        spent = Counter(self.time)
        if self.status is not None and not self.ended and to_ns > self.since:
            spent[self.status] += to_ns - self.since
        return spent


@dataclass(frozen=True, slots=True)
class Step:
    """One link of the critical path: a task, or a message between two agents' tasks."""

    kind: str
    """"task" or "message"."""
    agent: str
    name: str
    """The task's name, or the message's receiver."""
    start: int
    end: int


class Profile:
    """A run's profile, folded event by event (see the module's docstring)."""

    def __init__(self) -> None:
        self.by_name: dict[str, Durations] = {}
        self.by_role: dict[str, Durations] = {}
        self.agents: dict[str, AgentTime] = {}
        self.events = 0
        self.first = 0
        self.last = 0
        self.per_second: Counter[int] = Counter()
        self.errors_per_second: Counter[int] = Counter()
        self.ended_per_second: Counter[int] = Counter()
        self._open: dict[str, tuple[str, str, int]] = {}
        """Running tasks: id -> (name, agent, start)."""
        self._finished: dict[str, list[tuple[int, int, str]]] = {}
        """Per agent, its finished tasks as (start, end, name), in the order they ended."""
        self._received: dict[str, list[tuple[int, str]]] = {}
        """Per agent, the messages it was sent: (ts, sender)."""
        self._kept = 0

    # -- folding ------------------------------------------------------------------------------

    def seed(self, model: Any, at_ns: int) -> None:
        """Start from a swarm model as it stood at `at_ns`: each agent's status from then, and
        the tasks then running (they count when they end)."""
        for a in model.agents.values():
            agent = self._agent(a.id)
            if agent is not None:
                agent.role, agent.status, agent.since = a.role or "", a.status, at_ns
                agent.ended = a.said_bye
        for task in model.tasks.values():
            if task.result is None and len(self._open) < MAX_OPEN:
                self._open[task.id] = (task.name, task.agent, task.started)
        self.first = self.first or at_ns

    def apply_many(self, events: Iterable[Event]) -> None:
        batch = events if type(events) is list else list(events)
        if not batch:
            return
        stamps = list(map(_TS, batch))
        self.per_second.update(map(floordiv, stamps, repeat(S)))
        self.events += len(batch)
        self.first = self.first or min(stamps)
        self.last = max(self.last, max(stamps))
        summed = SUMMED
        for ev in batch:
            if ev[3] in summed:
                self._apply(ev)

    def _apply(self, ev: Event) -> None:
        ts, agent_id, _, kind, data, _ = ev
        agent = self._agent(agent_id)
        if agent is None or type(data) is not dict:
            return
        if kind == "task_start":
            self._start(agent_id, data, ts)
        elif kind == "task_end":
            self._end(agent, agent_id, data, ts)
        elif kind == "status":
            self._status(agent, as_str(data.get("status")), ts)
        elif kind == "message":
            self._message(agent, agent_id, as_str(data.get("to")), ts)
        elif kind == "error":
            agent.errors += 1
            self.errors_per_second[ts // S] += 1
        elif kind == "metric":
            self._metric(agent, data)
        elif kind == "hello":
            agent.role, agent.ended = as_str(data.get("role"), agent.role) or "", False
        else:  # bye
            self._status(agent, as_str(data.get("status"), "done"), ts)
            agent.ended = True

    def _agent(self, agent_id: str) -> AgentTime | None:
        agent = self.agents.get(agent_id)
        if agent is None and len(self.agents) < MAX_AGENTS:
            agent = self.agents[agent_id] = AgentTime()
        return agent

    def _start(self, agent_id: str, data: dict, ts: int) -> None:
        task_id = as_str(data.get("task"))
        if task_id is not None and (task_id in self._open or len(self._open) < MAX_OPEN):
            self._open[task_id] = (as_str(data.get("name"), task_id) or task_id, agent_id, ts)

    def _end(self, agent: AgentTime, agent_id: str, data: dict, ts: int) -> None:
        started = self._open.pop(as_str(data.get("task")) or "", None)
        if started is None:
            return  # its start came before what this profile saw
        name, _, start = started
        result = as_str(data.get("result"), "ok") or "ok"
        took = max(0, ts - start)
        _named(self.by_name, name).add(result, took)
        _named(self.by_role, agent.role or "(no role)").add(result, took)
        agent.tasks += 1
        agent.failed += result != "ok"
        self.ended_per_second[ts // S] += 1
        tokens = as_num(data.get("tokens"))
        if tokens is not None:
            agent.metrics["tokens"] = agent.metrics.get("tokens", 0) + tokens
        if self._kept < MAX_KEPT:
            self._kept += 1
            self._finished.setdefault(agent_id, []).append((start, ts, name))

    def _status(self, agent: AgentTime, status: str | None, ts: int) -> None:
        if status is None or agent.ended:
            return
        if agent.status is not None and ts > agent.since:
            agent.time[agent.status] += ts - agent.since
        agent.status, agent.since = status, max(ts, agent.since)

    def _message(self, agent: AgentTime, sender: str, to: str | None, ts: int) -> None:
        if to is None:
            return
        agent.msgs_out += 1
        receiver = self._agent(to)
        if receiver is not None:
            receiver.msgs_in += 1
        if self._kept < MAX_KEPT:
            self._kept += 1
            self._received.setdefault(to, []).append((ts, sender))

    @staticmethod
    def _metric(agent: AgentTime, data: dict) -> None:
        name, value = as_str(data.get("name")), as_num(data.get("value"))
        if name is None or value is None:
            return
        name = series(name, data.get("labels"))
        if name in agent.metrics or len(agent.metrics) < MAX_SERIES:
            agent.metrics[name] = agent.metrics.get(name, 0) + value

    # -- reading ------------------------------------------------------------------------------

    def tasks(self) -> list[dict[str, Any]]:
        """Task names, the most total time first."""
        return _rows(self.by_name)

    def roles(self) -> list[dict[str, Any]]:
        return _rows(self.by_role)

    def agent_rows(self, to_ns: int | None = None, top: int | None = None) -> list[dict[str, Any]]:
        """Agents, the most time blocked or waiting first (then the most failed tasks); the first
        `top` only, picked before their rows are built (a screen's ten thousand agents)."""
        to = self.last if to_ns is None else to_ns

        def order(item: tuple[str, AgentTime]) -> tuple[int, int, str]:
            agent_id, a = item
            return (-(a.in_status("blocked", to) + a.in_status("waiting", to)), -a.failed, agent_id)

        items = self.agents.items()
        picked = sorted(items, key=order) if top is None else heapq.nsmallest(top, items, key=order)
        return [_agent_row(agent_id, a, a.spent(to)) for agent_id, a in picked]

    def over_time(self, buckets: int = 60) -> dict[str, Any]:
        """Events, errors and tasks ended per second, in `buckets` spans of the run."""
        first, last = self.first // S, self.last // S
        width = max(1, math.ceil((last - first + 1) / buckets))
        series_of = {
            "events_per_s": self.per_second,
            "errors_per_s": self.errors_per_second,
            "tasks_per_s": self.ended_per_second,
        }
        out: dict[str, Any] = {"bucket_s": width, "from_s": first}
        for name, counts in series_of.items():
            spans = [0] * math.ceil((last - first + 1) / width)
            for sec, n in counts.items():
                if first <= sec <= last:
                    spans[(sec - first) // width] += n
            out[name] = [n / width for n in spans]
        return out

    def critical_path(self) -> list[Step]:
        """The chain of tasks and messages that set the run's end (see the module's docstring),
        first first."""
        ends = {a: sorted(tasks, key=itemgetter(1)) for a, tasks in self._finished.items()}
        if not ends:
            return []
        agent, (start, end, name) = max(
            ((a, t[-1]) for a, t in ends.items()), key=lambda pair: pair[1][1]
        )
        path = [Step("task", agent, name, start, end)]
        received = {a: sorted(m) for a, m in self._received.items()}
        seen = {(agent, start, end, name)}
        while True:
            before = _last_before(ends.get(agent, []), start, key=1)
            message = _last_before(received.get(agent, []), start, key=0)
            if message is not None and (before is None or message[0] >= before[1]):
                sender = message[1]
                path.append(Step("message", sender, agent, message[0], message[0]))
                task = _last_started_before(ends.get(sender, []), message[0])
                if task is None:
                    break
                agent, (start, end, name) = sender, task
            elif before is not None:
                start, end, name = before
            else:
                break
            if (agent, start, end, name) in seen:
                break  # a task that took no time, or a message sent as it began: no earlier link
            seen.add((agent, start, end, name))
            path.append(Step("task", agent, name, start, end))
        path.reverse()
        return path

    def summary(self, to_ns: int | None = None, top: int = 50) -> dict[str, Any]:
        """What a screen shows, as plain data: the `top` task names by total time, each with its
        histogram, the `top` agents by time blocked or waiting, and the critical path."""
        tasks = self.tasks()[:top]
        for row in tasks:
            row["histogram"] = self.histogram(row["name"])
        return {
            "events": self.events,
            "tasks": tasks,
            "agents": self.agent_rows(to_ns, top),
            "critical_path": self.critical_path(),
        }

    def histogram(self, name: str, bins: int = 10) -> list[int]:
        """How the durations of task `name` spread, over `bins` equal spans from the shortest to
        the longest."""
        took = self.by_name[name].took if name in self.by_name else array("q")
        if not took:
            return [0] * bins
        low, high = min(took), max(took)
        width = max(1, (high - low) / bins)
        counts = [0] * bins
        for ns in took:
            counts[min(bins - 1, int((ns - low) / width))] += 1
        return counts


def _named(table: dict[str, Durations], name: str) -> Durations:
    if name not in table and len(table) >= MAX_NAMES:
        name = OTHER
    got = table.get(name)
    if got is None:
        got = table[name] = Durations()
    return got


def _agent_row(agent_id: str, a: AgentTime, spent: Counter) -> dict[str, Any]:
    return {
        "agent": agent_id,
        "role": a.role,
        **{f"{s}_s": spent.get(s, 0) / S for s in ("running", "waiting", "blocked")},
        "idle_s": (spent.get("idle", 0) + spent.get("starting", 0)) / S,
        "tasks": a.tasks,
        "failed": a.failed,
        "errors": a.errors,
        "msgs_in": a.msgs_in,
        "msgs_out": a.msgs_out,
        "metrics": dict(a.metrics),
    }


def _rows(table: dict[str, Durations]) -> list[dict[str, Any]]:
    rows = [d.row(name) for name, d in table.items()]
    rows.sort(key=lambda r: (-r["total_s"], r["name"]))
    return rows


def _last_before(items: list[tuple], ts: int, key: int) -> tuple | None:
    """The last of `items` (sorted by element `key`) whose `key` is at or before `ts`."""
    i = bisect_right(items, ts, key=itemgetter(key))
    return items[i - 1] if i else None


def _last_started_before(tasks: list[tuple[int, int, str]], ts: int) -> tuple | None:
    """The sender's task running at `ts`, else the one it last finished before it."""
    running = [t for t in tasks if t[0] <= ts <= t[1]]
    if running:
        return max(running)
    return _last_before(tasks, ts, key=1)
