"""The swarm model: a reducer that folds events into what a viewer shows.

`apply(event)` updates agents, tasks, the links between agents and the
counters in place, in O(1) per event. Agent states are immutable values
(see patch.py), so `snapshot()` is cheap and safe to keep as a keyframe.
Untrusted fields are read defensively: a wrong type is ignored, never raised.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
from itertools import accumulate, repeat
from operator import floordiv
from typing import Any

from swarmscope.core.events import KINDS, Event
from swarmscope.core.gcpause import bulk_allocation
from swarmscope.core.model.fields import (
    compact_of,
    fill_copy,
    fill_from_compact,
    fill_from_snapshot,
    snapshot_of,
)
from swarmscope.core.model.health import Health
from swarmscope.core.model.reducers import (
    HANDLERS,
    MAX_DONE_TASKS,
    MAX_FAILED_TASKS,
    MAX_LINKS,
    KindReducers,
    without_superseded,
)
from swarmscope.core.model.sequence import LOST, advance, is_run
from swarmscope.core.model.views import AgentView, LinkView, TaskView

__all__ = [
    "AgentView",
    "LinkView",
    "MAX_AGENTS",
    "MAX_DONE_TASKS",
    "MAX_FAILED_TASKS",
    "MAX_LINKS",
    "SwarmModel",
    "TaskView",
]

MAX_AGENTS = 100_000
"""Past this many distinct agent ids, new ids are refused (a flood of fake ids must not eat
memory)."""
MAX_KINDS = 1_000
"""Distinct kinds counted by name; past it, new names count together as OTHER_KINDS (kinds are
any string an agent sends: a flood of new names must not grow every viewer's memory)."""
OTHER_KINDS = "(other kinds)"
MAX_RECENT_ERRORS = 200
RATE_WINDOW_S = 60


class SwarmModel(KindReducers):
    """Folds events into agents, tasks, links and counters; the rule per kind is in reducers.py."""

    def __init__(self) -> None:
        self.agents: dict[str, AgentView] = {}
        self.tasks: OrderedDict[str, TaskView] = OrderedDict()
        self._done: deque[str] = deque()
        """Ids of tasks finished ok, oldest first, so the oldest can go past MAX_DONE_TASKS."""
        self._failed: deque[str] = deque()
        """Ids of tasks that failed or were cancelled, oldest first (MAX_FAILED_TASKS)."""
        self._shared: set[str] = set()
        """Ids of tasks whose TaskView another model (a copy()) may hold too: replaced by
        a private one before any change, so a copy costs no TaskView per task."""
        self.links: dict[tuple[str, str], LinkView] = {}
        self.recent_errors: deque[dict] = deque(maxlen=MAX_RECENT_ERRORS)
        self.by_kind: Counter[str] = Counter()
        self.events = 0
        self.gaps = 0
        self.reordered = 0
        self.restarts = 0
        self.refused = 0
        """Events the model could not fold (bad fields, too many agents)."""
        self.state_items = 0
        """What all agents' states weigh together (reducers.MAX_STATE_TOTAL bounds it); derived from
        the agents, so never stored apart."""
        self.now = 0
        """The feed's clock: the newest event time seen."""
        self.rate: deque[list[int]] = deque(maxlen=RATE_WINDOW_S)
        """[second, events] buckets on the feed's clock, newest last."""

    # -- folding --------------------------------------------------------------

    def apply_many(self, events: Iterable[Event]) -> None:
        """Fold a batch: the same result as apply() on each event, for less.

        Handlers run event by event, in order (they depend on each other);
        the bookkeeping that only adds up (counters, rate buckets, sequence
        accounting) is done once per batch, with an exact per-event fallback
        where a batch is not one agent's contiguous run.
        """
        batch = events if type(events) is list else list(events)
        if not batch:
            return
        if self._may_refuse(batch):  # keep the per-event rules for who is refused
            for ev in batch:
                self.apply(ev)
            return
        # the fold's per-event objects die within it: a collector pass here only walks the batch
        with bulk_allocation():
            self._fold(batch)
            self._count_batch(batch)

    def apply(self, ev: Event) -> None:
        agent = self.agents.get(ev.agent)
        if agent is None:
            if len(self.agents) >= MAX_AGENTS:
                self.refused += 1
                return
            agent = self.agents[ev.agent] = AgentView(ev.agent, first_seen=ev.ts)
        self._count(agent, ev)
        handler = HANDLERS.get(ev.kind)
        if handler is not None:
            try:
                handler(self, agent, ev.data, ev.ts)
            except (TypeError, ValueError, AttributeError, KeyError):
                self.refused += 1

    def _may_refuse(self, batch: list[Event]) -> bool:
        """True if the batch brings so many new agents that MAX_AGENTS could refuse some."""
        if len(self.agents) + len(batch) <= MAX_AGENTS:
            return False
        return len(self.agents.keys() | {ev.agent for ev in batch}) > MAX_AGENTS

    def _fold(self, batch: list[Event]) -> None:
        """apply() for each event, less the counting: agents are created and handlers run in order.

        No handler reads what the counting updates, so counting can follow.
        The caller has made sure no agent can be refused. A run of progress
        events whose last says it all is folded as its first and last (reducers.py).
        """
        agents, handlers = self.agents, HANDLERS
        for ts, agent_id, _, kind, data, _ in without_superseded(batch):
            agent = agents.get(agent_id)
            if agent is None:
                agent = agents[agent_id] = AgentView(agent_id, first_seen=ts)
            handler = handlers.get(kind)
            if handler is not None:
                try:
                    handler(self, agent, data, ts)
                except (TypeError, ValueError, AttributeError, KeyError):
                    self.refused += 1

    def _count(self, agent: AgentView, ev: Event) -> None:
        """Sequence accounting (gaps, restarts, reordering) and the rate buckets, for one event."""
        self._count_seq(agent, ev.inc, ev.seq, ev.kind, ev.data)
        agent.events += 1
        ts = ev.ts
        if ts > agent.last_seen:
            agent.last_seen = ts
        self.events += 1
        by_kind = self.by_kind
        by_kind[ev.kind] = by_kind.get(ev.kind, 0) + 1
        if len(by_kind) > MAX_KINDS:
            self._bound_kinds()
        if ts > self.now:
            self.now = ts
        self._count_second(ts // 1_000_000_000)

    def _count_batch(self, batch: list[Event]) -> None:
        """_count() for every event of a batch, with whole columns at once where the result is the
        same."""
        ts, agent_ids, seqs, kinds, _, incs = zip(*batch)
        n, newest = len(batch), max(ts)
        if LOST in kinds:  # a loss said outright counts more than its one seq
            self._count_agents(batch)
        elif agent_ids.count(agent_ids[0]) == n:  # one agent, as from one emitter
            agent = self.agents[agent_ids[0]]
            if is_run(agent_ids, incs, seqs, agent.id, agent.inc, agent.next_seq):
                agent.next_seq += n
            else:
                for inc, seq in zip(incs, seqs):
                    self._count_seq(agent, inc, seq)
            agent.events += n
            if newest > agent.last_seen:
                agent.last_seen = newest
        else:
            self._count_agents(batch)
        self.events += n
        self.by_kind.update(kinds)  # counts in C, keys in first-seen order as per event
        if len(self.by_kind) > MAX_KINDS:
            self._bound_kinds()
        if newest > self.now:
            self.now = newest
        self._count_rate(ts, newest)

    def _bound_kinds(self) -> None:
        """Fold the names counted past MAX_KINDS into OTHER_KINDS (the newest names go first)."""
        by_kind = self.by_kind
        # errors stay counted as such
        extra = [k for k in list(by_kind)[MAX_KINDS - 1 :] if k not in KINDS]
        by_kind[OTHER_KINDS] = sum(by_kind.pop(k) for k in extra)

    def _count_agents(self, batch: list[Event]) -> None:
        """Per-agent counting of a batch, event by event (it mixes agents, or says a loss)."""
        agents = self.agents
        for t, agent_id, seq, kind, data, inc in batch:
            agent = agents[agent_id]
            self._count_seq(agent, inc, seq, kind, data)
            agent.events += 1
            if t > agent.last_seen:
                agent.last_seen = t

    def _count_seq(
        self, agent: AgentView, inc: int, seq: int, kind: str = "", data: Any = None
    ) -> None:
        if inc == agent.inc and seq == agent.next_seq and kind != LOST:
            agent.next_seq += 1  # the common case, kept cheap
            return
        agent.next_seq, lost, restarted, reordered = advance(
            agent.inc, agent.next_seq, inc, seq, kind, data
        )
        agent.inc = inc
        if lost:
            agent.gaps += lost
            self.gaps += lost
        if restarted:
            agent.restarts += 1
            self.restarts += 1
        elif reordered:
            self.reordered += 1

    def _count_rate(self, ts: tuple[int, ...], newest: int) -> None:
        """Rate buckets for a batch, as _count_second() per event gives them, counted in C.

        An event counts in the bucket of the latest second seen so far, so the
        running maximum of the seconds, counted, is every bucket the batch adds to.
        """
        rate = self.rate
        if rate and newest // 1_000_000_000 <= rate[-1][0]:
            rate[-1][1] += len(ts)
            return
        for sec, n in Counter(accumulate(map(floordiv, ts, repeat(1_000_000_000)), max)).items():
            if rate and sec <= rate[-1][0]:
                rate[-1][1] += n
            else:
                rate.append([sec, n])

    def _count_second(self, sec: int) -> None:
        """A bucket only ever opens for a later second; a late event counts in the newest one."""
        rate = self.rate
        if rate and sec <= rate[-1][0]:
            rate[-1][1] += 1
        else:
            rate.append([sec, 1])

    def forget(self, agent_ids: Iterable[str]) -> None:
        """Drop these agents and the links that name them, as a watcher that runs for months must
        (the hub's metrics: retention); counters stay, as what happened still happened. An agent
        heard from again is new. Its tasks go as any finished task goes."""
        gone = set(agent_ids) & self.agents.keys()
        for agent_id in gone:
            self.state_items -= self.agents.pop(agent_id).state_items
        if gone:
            for key in [k for k in self.links if k[0] in gone or k[1] in gone]:
                del self.links[key]

    # -- reading --------------------------------------------------------------

    def health(self, agent_id: str, now_ns: int | None = None) -> Health:
        return self.agents[agent_id].health(self.now if now_ns is None else now_ns)

    def health_counts(self, now_ns: int | None = None) -> Counter[Health]:
        now = self.now if now_ns is None else now_ns
        return Counter(a.health(now) for a in self.agents.values())

    def events_per_second(self, now_ns: int | None = None, window_s: int = 5) -> float:
        """Mean rate over the last `window_s` whole seconds before `now_ns`."""
        now_s = (self.now if now_ns is None else now_ns) // 1_000_000_000
        total = sum(n for s, n in self.rate if now_s - window_s <= s < now_s)
        return total / window_s

    def rate_series(self, now_ns: int | None = None, seconds: int = RATE_WINDOW_S) -> list[int]:
        """Events per second for each of the last `seconds` seconds, oldest first (for
        sparklines)."""
        now_s = (self.now if now_ns is None else now_ns) // 1_000_000_000
        by_sec = dict((s, n) for s, n in self.rate)
        return [by_sec.get(s, 0) for s in range(now_s - seconds + 1, now_s + 1)]

    @property
    def errors(self) -> int:
        return self.by_kind.get("error", 0)

    # -- snapshots ---------------------------------------------------------------
    # Every field's part in these is in fields.py, the one list of them.

    def snapshot(self) -> dict[str, Any]:
        """The whole model as plain data (msgpack- and JSON-friendly), for keyframes.

        One level is copied per view: what the model changes in place (metrics,
        rate buckets) is copied, the rest (states, blockers, errors: values the
        model only ever replaces) is shared, so a later event cannot change it.
        """
        return snapshot_of(self)

    @classmethod
    def restore(cls, snap: dict[str, Any]) -> SwarmModel:
        """The inverse of snapshot(): `restore(m.snapshot())` behaves as `m`."""
        m = cls()
        fill_from_snapshot(m, snap)
        m._file_finished(t.id for t in m.tasks.values() if t.result is not None)
        return m

    def compact(self) -> dict[str, Any]:
        """The whole model as rows in field order (what keyframes store): smaller than
        snapshot() and quicker to pack, unpack and restore. Exact: it keeps the order
        finished tasks will be forgotten in, which snapshot() leaves out. It shares
        what the model changes in place (metrics): pack it before the model moves on."""
        return compact_of(self)

    @classmethod
    def from_compact(cls, rows: dict[str, Any]) -> SwarmModel:
        """The inverse of compact()."""
        m = cls()
        fill_from_compact(m, rows)
        if "f" not in rows:  # a format 1.1 keyframe: "d" lists every finished task
            finished = list(m._done)
            m._done.clear()
            m._file_finished(finished)
        return m

    def _file_finished(self, ids: Iterable[str]) -> None:
        """Queue finished tasks for forgetting, oldest first, each by its result."""
        for task_id in ids:
            task = self.tasks.get(task_id)
            if task is not None:
                (self._done if task.result == "ok" else self._failed).append(task_id)

    def copy(self) -> SwarmModel:
        """An independent model equal to this one (what restore(snapshot()) gives, exactly, for
        less).

        Agents and links are copied; tasks (thousands, mostly finished and never
        changed again) are shared copy-on-write: whichever model changes one
        first through apply() gets its own. Views are read-only outside the model.
        """
        m = SwarmModel()
        fill_copy(m, self)
        m._shared = set(self.tasks)
        self._shared = set(m._shared)
        return m

    def to_dict(self, now_ns: int | None = None) -> dict[str, Any]:
        """snapshot() plus each agent's health at `now_ns` (default: the feed's clock)."""
        snap = self.snapshot()
        now = self.now if now_ns is None else now_ns
        for agent_id, a in snap["agents"].items():
            a["health"] = self.agents[agent_id].health(now).value
        return snap
