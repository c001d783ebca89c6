"""The hub's ledger: how far each agent's events have passed the hub, said in the feed itself.

A reader that falls behind loses messages in ZeroMQ's queue at the hub,
silently. A later message of the same agent shows the loss as a jump in
seqs, but nothing shows a lost tail: the last events of an agent that
then falls silent, its bye among them. So every LEDGER_S, a hub publishes
into its own proxy, on topic `evh`, how far each agent that sent anything
since its last ledger has got, and every LEDGER_ALL ledgers how far every
agent has got: `[1, [[agent, inc, next_seq], ...], whole, hub]` (`hub`: a number
the hub drew at start, as readers of chained hubs get the ledgers of each).

The ledger enters the proxy after every message it counts has passed it,
so each reader receives the ledger after whatever of those messages
reaches it (ZeroMQ keeps order on one connection). A reader holding less
of an agent than the ledger says (same incarnation, a lower next seq)
has lost the rest: it says so with a `lost` event (sequence.py), in
place, and the loss is counted. An agent the reader has never seen is
judged only once the reader has had a whole ledger: the agents in that
one were there before it (a reader that joined late is not told it lost
what came before it); one that first shows after it, the reader lost from
its first seq. A whole ledger comes in parts of at most LEDGER_ROWS
agents, each saying which part of which ledger it is, and counts only once
every part has come. Each hub's first whole ledger does so for that hub:
behind a chain, the host hub's ledger names agents whose events never
reached the central hub the reader joined late (its subscription had not
come up the chain yet), and those are not the reader's loss either.

A ledger may be a moment old by the time it comes (the proxy passes what
arrived meanwhile first): behind the reader for an agent, it claims
nothing; for an agent the reader has seen in another incarnation, it
cannot tell the older from the newer (incarnations are random), so it
claims nothing then either.

Any agent could send on `evh`; a lying ledger claims losses, as a lying
agent can already claim anything of any agent: no reader believes a
claim past sequence.MAX_GAP.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgpack

from swarmscope.core.model.sequence import MAX_GAP
from swarmscope.core.model.swarm import MAX_AGENTS
from swarmscope.core.wire.gate import LIMITS, MAX_AGENT_LEN, BatchHead

TOPIC_LEDGER = b"evh"
"""A prefix of nothing an agent sends (`ev` is the events' topic): readers subscribed to `ev` get
it."""
LEDGER_VERSION = 1
LEDGER_S = 1.0
"""How often a hub says how far agents have got (only those that sent something since)."""
LEDGER_ALL = 5
"""Every this many ledgers, every agent: a reader too far behind loses ledgers as it loses events,
and learns of a lost tail from the next whole one."""
LEDGER_ROWS = 10_000
"""Agents per ledger message (more go in more messages)."""


Row = tuple[str, int, int]
"""(agent, incarnation, seq expected next)."""


MAX_HUBS = 64
"""Hubs whose ledgers a reader tells apart (a chain of hubs, or a made-up number a message)."""
Whole = tuple[int, int, int]
"""Which whole ledger, which part of it, of how many parts."""


def ledger_messages(rows: Iterable[Row], whole: int | None, hub: int) -> list[list[bytes]]:
    """The ledger for these rows, as messages of at most LEDGER_ROWS rows; `whole`: the number of a
    whole ledger (every agent the hub knows), which each part then says with its place in it;
    `hub`: the publishing hub's number."""
    rows = list(rows)
    parts = [rows[k : k + LEDGER_ROWS] for k in range(0, len(rows), LEDGER_ROWS)] or [[]]
    return [
        [
            TOPIC_LEDGER,
            msgpack.packb(
                [
                    LEDGER_VERSION,
                    part,
                    [whole, k, len(parts)] if whole is not None else None,
                    hub,
                ]
            ),
        ]
        for k, part in enumerate(parts)
        if part or whole is not None
    ]


def ledger_rows(payload: bytes) -> tuple[list[Row], Whole | None, int]:
    """The rows of a ledger message that read as rows (anything else in it is left out); for a
    part of a whole ledger, (which ledger, which part, of how many); and the hub's number (0 if it
    says none)."""
    try:
        msg = msgpack.unpackb(payload, **LIMITS)
    except (ValueError, TypeError, msgpack.OutOfData):
        return [], None, 0
    if (
        type(msg) is not list
        or len(msg) < 3
        or msg[0] != LEDGER_VERSION
        or type(msg[1]) is not list
    ):
        return [], None, 0
    whole = msg[2]
    if not (
        type(whole) is list
        and len(whole) == 3
        and all(type(v) is int for v in whole)
        and 0 <= whole[1] < whole[2] <= 1 + MAX_AGENTS // LEDGER_ROWS
    ):
        whole = None
    hub = msg[3] if len(msg) > 3 and type(msg[3]) is int else 0
    rows = [tuple(row) for row in msg[1] if _good_row(row)]
    return rows, tuple(whole) if whole else None, hub


def _good_row(row: Any) -> bool:
    return (
        type(row) is list
        and len(row) == 3
        and type(row[0]) is str
        and 0 < len(row[0]) <= MAX_AGENT_LEN
        and type(row[1]) is int
        and type(row[2]) is int
        and row[1] >= 0
        and row[2] >= 0
    )


class Tally:
    """How far each agent's events have reached a reader (its incarnation, the seq after its last):
    what a ledger is compared with. At most MAX_AGENTS agents (a flood of made-up ids passes
    untallied)."""

    def __init__(self) -> None:
        self.next: dict[str, list[int]] = {}
        self.wholes: set[int] = set()
        """Hubs whose whole ledger has come: from then, an agent such a hub's ledger names and this
        reader never saw was lost."""
        self._parts: dict[tuple[int, int], tuple[set[int], list[Row]]] = {}
        """The parts of whole ledgers come so far, by hub and ledger (only until the hub's first is
        whole)."""

    def note(self, head: BatchHead | None, events: Iterable[Any] = ()) -> None:
        """A message delivered: from its head (2.x), else from its events."""
        if head is not None:
            self.reached(head.agent, head.inc, head.last + 1)
            return
        for ev in events:
            self.reached(ev.agent, ev.inc, ev.seq + 1)

    def reached(self, agent: str, inc: int, after: int) -> None:
        """The agent's events up to (not including) seq `after` of incarnation `inc` are accounted
        for."""
        known = self.next.get(agent)
        if known is None:
            if len(self.next) < MAX_AGENTS:
                self.next[agent] = [inc, after]
        elif known[0] != inc or after > known[1]:
            known[0], known[1] = inc, after

    @property
    def whole(self) -> bool:
        """Whether any hub's whole ledger has come."""
        return bool(self.wholes)

    def lost(
        self, rows: list[Row], whole: Whole | None = None, hub: int = 0
    ) -> list[tuple[str, int, int, int]]:
        """(agent, inc, first, last) for every run of seqs a ledger says passed the hub and this
        reader lacks; each is then counted as reached."""
        if hub not in self.wholes and whole is not None:
            self._part(rows, whole, hub)
        runs = []
        for agent, inc, after in rows:
            known = self.next.get(agent)
            if known is not None and known[0] == inc:
                if known[1] < after <= known[1] + MAX_GAP:
                    runs.append((agent, inc, known[1], after - 1))
                    known[1] = after
            elif (
                hub in self.wholes
                and known is None
                and 0 < after <= MAX_GAP
                and len(self.next) < MAX_AGENTS
            ):
                runs.append((agent, inc, 0, after - 1))  # an agent never seen here
                self.next[agent] = [inc, after]
        return runs

    def _part(self, rows: list[Row], whole: Whole, hub: int) -> None:
        """A part of a hub's whole ledger: once every part has come, the agents it names that this
        reader never saw were there before it (nothing of theirs is claimed lost), and it judges
        that hub's ledgers from here."""
        if len(self.wholes) >= MAX_HUBS:
            return
        ledger, part, parts = whole
        if (hub, ledger) not in self._parts and len(self._parts) >= MAX_HUBS:
            self._parts.pop(next(iter(self._parts)))  # the oldest: a hub's next whole one will do
        got, seen = self._parts.setdefault((hub, ledger), (set(), []))
        got.add(part)
        seen += rows
        if len(got) < parts:
            return
        for agent, inc, after in seen:
            if agent not in self.next and len(self.next) < MAX_AGENTS:
                self.next[agent] = [inc, after]
        self.wholes.add(hub)
        self._parts = {key: value for key, value in self._parts.items() if key[0] != hub}
