"""Plain rows for the screen, read from the model once a frame under its lock.

Widgets get these tuples and nothing else: they never touch the model or a
socket. Rows are frozen dataclasses, hashable, so a widget can cache what it
rendered for a row that has not changed.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from itertools import compress, islice
from operator import attrgetter, itemgetter, ne

from swarmscope.core.model.filters import Filter
from swarmscope.core.model.health import SILENT_AFTER, Health, aged, beat_ratio, holds_until
from swarmscope.core.model.swarm import AgentView, SwarmModel, TaskView
from swarmscope.core.model.views import DEFAULT_INTERVAL_S

SORTS = ("health", "status", "id", "activity")
AGENT_FIELDS = ("id", "role", "status", "task", "health")
_ROW, _EVENTS = itemgetter(1), attrgetter("events")
NEVER = 2**63
"""A row the clock cannot change (its agent said bye)."""
_STATUS_ORDER = {
    "failed": 0,
    "blocked": 1,
    "waiting": 2,
    "running": 3,
    "starting": 4,
    "idle": 5,
    "done": 6,
}


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: str
    role: str
    status: str
    task: str
    progress: float | None
    health: Health
    error: str
    cpu: float | None
    """None once its heartbeats no longer say how it is now (AgentView.reporting)."""
    rss: int | None
    events: int
    gaps: int
    last_seen: int
    errors: int
    failed: bool = False
    """Its task and progress are where it failed, not a task in flight."""
    interval: float = DEFAULT_INTERVAL_S
    """The heartbeat interval it announced (s): with last_seen, how fresh it is at any instant."""
    held: tuple[int, int] = field(default=(0, NEVER), compare=False, repr=False)
    """The instants (ns, inclusive) between which the clock alone changes nothing in this row:
    its health and whether cpu and rss still report change only where its beat's age crosses 1, 2
    and 3 intervals."""

    def beat(self, now_ns: int) -> float:
        """Heartbeat age in intervals at `now_ns` (0 = just beat; 3+ = failed)."""
        return beat_ratio(self.last_seen, self.interval, now_ns)

    def fails_at(self) -> float:
        """When its silence would make it FAILED: the health sort's order within a health, so the
        agent closest to failing comes first and the order holds from one frame to the next."""
        return aged(self.last_seen, self.interval, SILENT_AFTER)


class AgentRows:
    """Agent rows, sorted, kept from one frame to the next: a frame costs what changed.

    A row is rebuilt when its agent saw an event or the clock crossed one of its health's
    thresholds (AgentRow.held), and the sorted list is mended row by row; with ten thousand quiet
    agents a frame rebuilds none. How fresh each beat is, which moves with every frame, is left
    to the grid, which draws it for the rows on screen only."""

    def __init__(self) -> None:
        self._rows: dict[str, AgentRow] = {}
        self._sorted: list[tuple[tuple, AgentRow]] = []
        """(sort key, row), in order: keys end with the id, so each row has one place, and
        comparing them never reaches the rows."""
        self._sort = ""
        self.changed: list[AgentRow] = []
        """Rows that differ from the last call's (new agents included): what the alert rules
        judge."""
        self.health: Counter[Health] = Counter()
        """Agents by health now."""
        self._ids: list[str] = []
        self._counts: list[int] = []
        """The agents' ids and event counts at the last call, in the model's order."""
        self._now = 0
        self._due: list[tuple[int, str]] = []
        """(the last instant its row holds, agent id), a heap: rows the clock alone will change."""

    def __call__(self, model: SwarmModel, now_ns: int, sort: str = "health") -> list[AgentRow]:
        """Every agent as a row, sorted; health as it is at `now_ns`."""
        cache, moved = self._rows, []
        for a in self._suspects(model, now_ns):
            row = cache.get(a.id)
            if row is None or row.events != a.events or not row.held[0] <= now_ns <= row.held[1]:
                new = cache[a.id] = _agent_row(a, now_ns)
                if new.held[1] != NEVER:
                    heappush(self._due, (new.held[1], a.id))
                if new != row:
                    moved.append((row, new))
        if len(cache) > len(model.agents):  # agents gone: a replay moved back before them
            moved += [(cache.pop(k), None) for k in set(cache).difference(model.agents)]
        self.changed = [new for _, new in moved if new is not None]
        self._count(moved)
        self._mend(moved, sort)
        return list(map(_ROW, self._sorted))

    def _suspects(self, model: SwarmModel, now_ns: int) -> Iterable[AgentView]:
        """The agents whose rows may have changed: those whose event count moved (compared in C
        while the model holds the same agents in the same order as at the last call, and the clock
        has not gone back) and those whose rows the clock has left; every agent otherwise."""
        agents = model.agents
        ids, counts = list(agents), list(map(_EVENTS, agents.values()))
        same = ids == self._ids and now_ns >= self._now
        old, self._ids, self._counts, self._now = self._counts, ids, counts, now_ns
        if not same or len(self._due) > 4 * len(ids) + 1000:
            self._due = [(r.held[1], k) for k, r in self._rows.items() if r.held[1] != NEVER]
            heapify(self._due)
        if not same:
            return agents.values()
        suspects = set(compress(ids, map(ne, counts, old)))
        while self._due and self._due[0][0] < now_ns:
            suspects.add(heappop(self._due)[1])
        return [agents[k] for k in suspects if k in agents]

    def _count(self, moved: list[tuple[AgentRow | None, AgentRow | None]]) -> None:
        for old, new in moved:
            if old is not None:
                self.health[old.health] -= 1
            if new is not None:
                self.health[new.health] += 1
        self.health = +self.health

    def _mend(self, moved: list[tuple[AgentRow | None, AgentRow | None]], sort: str) -> None:
        """A new order is sorted afresh. Else the rows that changed are taken out and put back in
        (by bisection, a few at a time; many at once, by one sort of a list that is mostly in
        order already, which Python's sort merges in about one pass)."""
        key, order = _SORT_KEYS[sort], self._sorted
        if sort != self._sort:
            self._sorted, self._sort = sorted((key(r), r) for r in self._rows.values()), sort
            return
        if len(moved) > len(order) // 16:
            gone = {old.id for old, _ in moved if old is not None}
            order = [entry for entry in order if entry[1].id not in gone]
            order += [(key(new), new) for _, new in moved if new is not None]
            order.sort()
            self._sorted = order
            return
        for old, new in moved:
            if old is not None:
                del order[bisect_left(order, (key(old),))]
            if new is not None:
                insort(order, (key(new), new))


def _agent_row(a: AgentView, now_ns: int) -> AgentRow:
    """What is true of `a` now: a task it failed shown as failed, not as in flight; no cpu or rss
    once they are no longer current."""
    err, reporting = a.last_error, a.reporting(now_ns)
    return AgentRow(
        a.id,
        a.role or "",
        a.status or "",
        a.task_name or a.failed_task or "",
        a.progress,
        a.health(now_ns),
        f"{err['type']}: {err['message']}" if err else "",
        a.cpu if reporting else None,
        a.rss if reporting else None,
        a.events,
        a.gaps,
        a.last_seen,
        a.errors,
        a.at_failure(),
        a.interval,
        (now_ns, _held_until(a, now_ns)),
    )


def _held_until(a: AgentView, now_ns: int) -> int:
    """Until when the clock alone leaves `a`'s row as it is: its health, and whether its cpu and
    rss still report (AgentView.reporting turns on the last threshold), change at THRESHOLDS."""
    until = None if a.said_bye else holds_until(a.last_seen, a.interval, now_ns)
    return NEVER if until is None else until


def filter_agents(rows: list[AgentRow], flt: Filter) -> list[AgentRow]:
    if not flt:
        return rows
    return [
        r
        for r in rows
        if flt.matches(
            {
                "id": r.id,
                "role": r.role,
                "status": r.status,
                "task": r.task,
                "health": r.health.value,
            }
        )
    ]


_SORT_KEYS = {
    "health": lambda r: (r.health.rank, r.fails_at(), r.id),
    "status": lambda r: (_STATUS_ORDER.get(r.status, 9), r.id),
    "id": lambda r: r.id,
    "activity": lambda r: (-r.last_seen, r.id),
}


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: str
    agent: str
    name: str
    progress: float | None
    result: str | None
    blockers: tuple[str, ...]
    elapsed_s: float
    eta_s: float | None
    message: str


class TaskRows:
    """Tasks in flight (oldest first), then the most recent failed ones, which stay visible.

    Elapsed time is kept to whole seconds, so a row changes at most once a
    second unless its task moves, and unchanged rows are reused."""

    def __init__(self, failed_kept: int = 50) -> None:
        self.failed_kept = failed_kept
        self._rows: dict[str, TaskRow] = {}

    def __call__(self, model: SwarmModel, now_ns: int) -> list[TaskRow]:
        running, failed = [], []
        for t in model.tasks.values():
            if t.result is None:
                running.append(self._row(t, now_ns))
            elif t.result != "ok":
                failed.append(t)
        failed = [self._row(t, now_ns) for t in failed[-self.failed_kept :]]
        if len(self._rows) > 4 * (len(running) + len(failed)) + 1000:
            self._rows = {r.id: r for r in running + failed}
        return running + failed[::-1]

    def _row(self, t: TaskView, now_ns: int) -> TaskRow:
        elapsed = float(((t.ended or now_ns) - t.started) // 1_000_000_000)
        row = self._rows.get(t.id)
        if (
            row is None
            or row.elapsed_s != elapsed
            or row.progress != t.progress
            or row.result != t.result
        ):
            row = self._rows[t.id] = _task_row(t, elapsed)
        return row


def _task_row(t: TaskView, elapsed: float) -> TaskRow:
    eta = None
    if t.result is None and t.progress and 0 < t.progress < 1:
        eta = elapsed / t.progress * (1 - t.progress)
    blockers = tuple(str(b) for b in t.blockers) if isinstance(t.blockers, list) else ()
    return TaskRow(
        t.id,
        t.agent,
        t.name,
        t.progress,
        t.result,
        blockers,
        max(0.0, elapsed),
        eta,
        t.message or "",
    )


@dataclass(frozen=True, slots=True)
class LinkRow:
    """Messages from one agent to another: who talks to whom, how much, and how lately."""

    src: str
    dst: str
    count: int
    bytes: int
    topic: str
    age_s: float
    """Whole seconds since the last message (rows change at most once a second)."""
    dst_health: Health | None
    """The receiver's health now; None if it was never seen (a message into the void)."""


MAX_LINKS = 500
"""Pairs listed, most recently active first."""


LINK_FIELDS = ("from", "to", "topic", "health")


def filter_links(rows: list[LinkRow], flt: Filter) -> list[LinkRow]:
    if not flt:
        return rows
    return [
        r
        for r in rows
        if flt.matches(
            {
                "from": r.src,
                "to": r.dst,
                "topic": r.topic,
                "health": r.dst_health.value if r.dst_health else "unknown",
            }
        )
    ]


def link_rows(model: SwarmModel, now_ns: int) -> list[LinkRow]:
    """The agent pairs that exchanged messages, most recently active first (the model keeps
    its links in that order, so no sort: a frame reads only the newest MAX_LINKS)."""
    latest = islice(reversed(model.links.items()), MAX_LINKS)
    agents = model.agents
    return [
        LinkRow(
            src,
            dst,
            link.count,
            link.bytes,
            link.topic or "",
            float(max(0, now_ns - link.last) // 10**9),
            agents[dst].health(now_ns) if dst in agents else None,
        )
        for (src, dst), link in latest
    ]


def swarm_eta(tasks: list[TaskRow]) -> float | None:
    """When the tasks now in flight should all be done: the slowest one's ETA."""
    etas = [t.eta_s for t in tasks if t.result is None and t.eta_s is not None]
    return max(etas) if etas else None
