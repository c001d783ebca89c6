"""Per-agent gaps and restarts as a hub counts them, from batch heads or from events.

Each agent's incarnation, next expected seq and the first seq of its incarnation that passed is
remembered (up to MAX_AGENTS agents);
a batch that continues where the agent left off is counted in one step, anything else
event by event with the same rule a viewer's model uses (sequence.advance).
"""

from __future__ import annotations

from swarmscope.core.errors import WireError
from swarmscope.core.events import Event
from swarmscope.core.hub.stats import HubStats
from swarmscope.core.model.sequence import LOST, MAX_GAP, advance, is_run
from swarmscope.core.model.swarm import MAX_AGENTS
from swarmscope.core.wire.gate import BatchHead, decode


class GapTally:
    """Counts into a HubStats' `gaps` and `restarts`; used by the hub's tap thread only."""

    def __init__(self, stats: HubStats) -> None:
        self.stats = stats
        self.seqs: dict[str, list[int]] = {}
        """Each agent's [incarnation, seq expected next, first seq of the incarnation that
        passed]."""
        self._moved: set[str] = set()
        """Agents whose seq expected next has moved since `moved()` was last asked."""

    def moved(self, every: bool = False) -> list[tuple[str, int, int, int]]:
        """(agent, incarnation, seq expected next, first seq) of each agent that moved since last
        asked (or of `every` agent): what a ledger says (ledger.py)."""
        agents = self.seqs if every else self._moved
        rows = [(agent, *self.seqs[agent]) for agent in agents if agent in self.seqs]
        self._moved = set()
        return rows

    def count_head(self, head: BatchHead, payload: bytes) -> None:
        """Gaps and restarts from a batch's head, as event by event would count them.

        A batch whose first seq is behind what the agent already sent may hold
        late events among new ones, and one with holes past MAX_GAP a jump not believed: only
        its events tell, so it is decoded. (A batch with a `lost` event has no head: see
        wire/kept.py.)"""
        known = self._known(head.agent)
        if known is None:
            return
        inc, expected = known
        within = head.last - head.first + 1 - head.count
        if (inc == head.inc and head.first < expected) or within > MAX_GAP:
            self.count_events(_decoded(payload))
            return
        _, lost, restarted, _ = advance(inc, expected, head.inc, head.first)
        self._move(head.agent, head.inc, head.first, head.last + 1)
        if lost:
            self.stats.gaps[head.agent] += lost
        elif restarted:
            self.stats.restarts += 1
        if within:
            self.stats.gaps[head.agent] += within

    def skip(self, agent: str, inc: int, first: int, last: int) -> None:
        """Seqs first..last were dropped in the hub (and counted so): the agent goes on after them,
        and only a hole before them counts as lost before the hub."""
        known = self._known(agent)
        if known is None:
            return
        _, lost, restarted, _ = advance(known[0], known[1], inc, first)
        self._move(agent, inc, first, last + 1)
        if lost:
            self.stats.gaps[agent] += lost
        elif restarted:
            self.stats.restarts += 1

    def count_events(self, events: list[Event]) -> None:
        """Per-agent gaps and restarts: one check for a run from one agent, else event by event."""
        if not events:
            return
        first = events[0]
        known = self.seqs.get(first.agent)
        if known is not None:
            _, agents, seqs, kinds, _, incs = zip(*events)
            if LOST not in kinds and is_run(agents, incs, seqs, first.agent, known[0], known[1]):
                known[1] += len(events)
                self._moved.add(first.agent)
                return
        for ev in events:
            self._count_gap(ev)

    def _count_gap(self, ev: Event) -> None:
        known = self._known(ev.agent)
        if known is None:
            return
        inc, expected = known
        nxt, lost, restarted, _ = advance(inc, expected, ev.inc, ev.seq, ev.kind, ev.data)
        self._move(ev.agent, ev.inc, _first_of(ev), nxt)
        if lost:
            self.stats.gaps[ev.agent] += lost
        if restarted:
            self.stats.restarts += 1

    def _move(self, agent: str, inc: int, first: int, after: int) -> None:
        """The agent's seq expected next is now `after`; `first`: where what just passed began,
        which starts the incarnation if it is a new one."""
        known = self.seqs.get(agent)
        if known is None or known[0] != inc:
            self.seqs[agent] = [inc, after, first]
        else:
            known[1] = after
        self._moved.add(agent)

    def _known(self, agent: str) -> tuple[int | None, int] | None:
        """The agent's incarnation and the seq expected next ((None, 0) for a new one); None past
        MAX_AGENTS agents: a flood of agent ids passes uncounted, not remembered."""
        known = self.seqs.get(agent)
        if known is None:
            return None if len(self.seqs) >= MAX_AGENTS else (None, 0)
        return known[0], known[1]


def _first_of(ev: Event) -> int:
    """The first seq an event accounts for: a `lost` event's first, any other its own."""
    first = ev.data.get("first") if ev.kind == LOST and isinstance(ev.data, dict) else None
    return first if type(first) is int and 0 <= first <= ev.seq else ev.seq


def _decoded(payload: bytes) -> list[Event]:
    """The events of a message counted from its head: none if a viewer would refuse it."""
    try:
        return decode(payload)
    except WireError:
        return []
