"""The hub's ledger: how far each agent's events have passed the hub, said in the feed itself.

A reader that falls behind loses messages in ZeroMQ's queue at the hub,
silently. A later message of the same agent shows the loss as a jump in
seqs, but nothing shows a lost tail (the last events of an agent that then
falls silent, its bye among them), nor a lost start (the first events of an
agent the reader then sees from seq 40 on, which a model takes for a reader
that joined late). So every LEDGER_S, a hub publishes into its own proxy,
on topic `evh`, how far each agent that sent anything since its last ledger
has got, and every LEDGER_ALL ledgers how far every agent has got:
`[2, [[agent, inc, next_seq, first_seq], ...], whole, hub, baselines]`
(`first_seq`: where the incarnation began at this hub; `hub`: a number the
hub drew at start, as readers of chained hubs get the ledgers of each).

The ledger enters the proxy after every message it counts has passed it,
so each reader receives the ledger after whatever of those messages
reaches it (ZeroMQ keeps order on one connection). A reader holding less
of an agent than the ledger says (same incarnation, a lower next seq) has
lost the rest: it says so with a `lost` event (sequence.py), in place, and
the loss is counted.

What a reader lost of an agent's start it can judge only against where
that agent stood when the reader came: its baseline. Each reader also
subscribes to `evh/` and a nonce of its own; the hub sees that
subscription pass its proxy, at the place in the stream where the reader
began to receive, and answers with a whole ledger naming the nonce (within
BASELINE_S, so it may stand a moment later: a loss in that moment is taken
for what came before the reader, never the other way). What the baseline
holds came before the reader; an agent whose first seq the reader had is
past where the baseline left it lost the seqs between; an agent the
baseline does not hold began after the reader came, at the first seq a
later ledger names. Such a loss is learned after later events of the agent
have been written, so it is said as a `late` loss, which counts on its own
(sequence.py). Each hub's baseline judges the agents passing that hub:
behind a chain, the subscription travels up to the host hubs, which
answer too. Until its baseline has come, a reader claims nothing of agents
it never saw.

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
from typing import Any, NamedTuple

import msgpack

from swarmscope.core.events import Event
from swarmscope.core.model.sequence import MAX_GAP
from swarmscope.core.model.swarm import MAX_AGENTS
from swarmscope.core.wire.gate import LIMITS, MAX_AGENT_LEN, BatchHead

TOPIC_LEDGER = b"evh"
"""A prefix of nothing an agent sends (`ev` is the events' topic): readers subscribed to `ev` get
it."""
TOPIC_BASELINE = TOPIC_LEDGER + b"/"
"""A reader subscribes to this and its nonce: the hub answers with the reader's baseline."""
MAX_NONCE = 32
"""Bytes of a nonce a hub reads (a reader's are 16 hex digits)."""
LEDGER_VERSION = 2
LEDGER_S = 1.0
"""How often a hub says how far agents have got (only those that sent something since)."""
LEDGER_ALL = 5
"""Every this many ledgers, every agent: a reader too far behind loses ledgers as it loses events,
and learns of a lost tail from the next whole one."""
LEDGER_ROWS = 10_000
"""Agents per ledger message (more go in more messages)."""
BASELINE_S = 0.1
"""How soon a hub answers a subscription with a baseline, and how often at most (readers that
subscribe meanwhile share one: a flood of subscriptions costs one whole ledger per this long)."""
MAX_BASELINES = 64
"""Readers one baseline names (more that subscribe within BASELINE_S get none, and judge no
agent they never saw)."""
MAX_HUBS = 64
"""Hubs whose ledgers a reader tells apart (a chain of hubs, or a made-up number a message)."""


Row = tuple[str, int, int, int]
"""(agent, incarnation, seq expected next, first seq of the incarnation at the hub)."""
Whole = tuple[int, int, int]
"""Which whole ledger, which part of it, of how many parts."""
Claim = tuple[str, int, int, int, bool]
"""(agent, incarnation, first seq lost, last seq lost, late): a run a reader lost; `late` if
learned after later events of the agent (sequence.py counts it on its own)."""


class Ledger(NamedTuple):
    """One ledger message as read: the rows that read as rows, which part of which whole ledger it
    is (None if it is not one), the hub's number (0 if it says none), and the nonces of the readers
    it is the baseline of."""

    rows: list[Row]
    whole: Whole | None = None
    hub: int = 0
    baselines: tuple[str, ...] = ()


def ledger_messages(
    rows: Iterable[Row], whole: int | None, hub: int, baselines: Iterable[str] = ()
) -> list[list[bytes]]:
    """The ledger for these rows, as messages of at most LEDGER_ROWS rows; `whole`: the number of a
    whole ledger (every agent the hub knows), which each part then says with its place in it;
    `hub`: the publishing hub's number; `baselines`: the nonces of readers it answers."""
    rows, baselines = list(rows), list(baselines)
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
                    baselines,
                ]
            ),
        ]
        for k, part in enumerate(parts)
        if part or whole is not None
    ]


def read_ledger(payload: bytes) -> Ledger:
    """A ledger message as far as it reads (anything else in it is left out)."""
    try:
        msg = msgpack.unpackb(payload, **LIMITS)
    except (ValueError, TypeError, msgpack.OutOfData):
        return Ledger([])
    if (
        type(msg) is not list
        or len(msg) < 3
        or msg[0] != LEDGER_VERSION
        or type(msg[1]) is not list
    ):
        return Ledger([])
    whole = msg[2]
    if not (
        type(whole) is list
        and len(whole) == 3
        and all(type(v) is int for v in whole)
        and 0 <= whole[1] < whole[2] <= 1 + MAX_AGENTS // LEDGER_ROWS
    ):
        whole = None
    hub = msg[3] if len(msg) > 3 and type(msg[3]) is int else 0
    named = msg[4] if len(msg) > 4 and type(msg[4]) is list else []
    baselines = tuple(n for n in named[:MAX_BASELINES] if type(n) is str)
    rows = [tuple(row) for row in msg[1] if _good_row(row)]
    return Ledger(rows, tuple(whole) if whole else None, hub, baselines)


def _good_row(row: Any) -> bool:
    return (
        type(row) is list
        and len(row) == 4
        and type(row[0]) is str
        and 0 < len(row[0]) <= MAX_AGENT_LEN
        and all(type(v) is int and v >= 0 for v in row[1:])
        and row[3] <= row[2]
    )


UNSEEN = -1
"""An agent's start in a Tally: known from a ledger only, none of its events delivered yet."""
JUDGED = -2
"""An agent's start in a Tally: nothing before its first delivered seq is in question."""


class Tally:
    """How far each agent's events have reached a reader, and where they began: what a ledger is
    held against (see the module's docstring). At most MAX_AGENTS agents (a flood of made-up ids
    passes untallied)."""

    def __init__(self, nonce: str = "") -> None:
        """`nonce`: the one this reader subscribed with, which names its baselines."""
        self.nonce = nonce
        self.next: dict[str, list[int]] = {}
        """Each agent's [incarnation, seq after the last accounted for, start]: start the first seq
        delivered while what came before it is not yet judged, else UNSEEN or JUDGED."""
        self.wholes: set[int] = set()
        """Hubs whose whole baseline has come: from then, an agent such a hub's ledger names that
        its baseline did not was lost from its first seq."""
        self._parts: dict[tuple[int, int], set[int]] = {}
        """The parts of baselines come so far, by hub and ledger (until the hub's is whole)."""

    @property
    def whole(self) -> bool:
        """Whether any hub's whole baseline has come."""
        return bool(self.wholes)

    def note(self, head: BatchHead | None, events: Iterable[Event] = ()) -> list[Claim]:
        """A message delivered: from its head (2.x), else from its events."""
        if head is not None:
            return self.delivered(head.agent, head.inc, head.first, head.last + 1)
        return [c for ev in events for c in self.delivered(ev.agent, ev.inc, ev.seq, ev.seq + 1)]

    def delivered(self, agent: str, inc: int, first: int, after: int) -> list[Claim]:
        """Seqs first..after-1 of the agent's incarnation `inc` came (or their loss was said):
        returns what was lost just before them, known from the baseline (said before them)."""
        known = self.next.get(agent)
        if known is None or known[0] != inc:
            if known is not None or len(self.next) < MAX_AGENTS:
                self.next[agent] = [inc, after, first if first > 0 else JUDGED]
            return []
        claims = []
        if known[2] == UNSEEN:
            if known[1] < first <= known[1] + MAX_GAP:
                claims.append((agent, inc, known[1], first - 1, False))
            known[2] = JUDGED
        known[1] = max(known[1], after)
        return claims

    def lost(self, ledger: Ledger) -> list[Claim]:
        """Every run of seqs a ledger says passed the hub and this reader lacks; each is then
        counted as reached."""
        baseline = self.nonce in ledger.baselines and ledger.whole is not None
        judged = ledger.hub in self.wholes
        claims: list[Claim] = []
        for agent, inc, after, first in ledger.rows:
            known = self.next.get(agent)
            if known is None:
                claims += self._new(agent, inc, first, after, baseline, judged)
            elif known[0] == inc:
                claims += self._known(known, agent, after, first, baseline, judged)
        if baseline and ledger.hub not in self.wholes:
            self._part(ledger.hub, ledger.whole)
        return claims

    def _new(
        self, agent: str, inc: int, first: int, after: int, baseline: bool, judged: bool
    ) -> list[Claim]:
        """An agent this reader never had: there before it (in its baseline), or, once the hub's
        baseline has come, lost from its first seq at the hub."""
        if not (baseline or judged) or len(self.next) >= MAX_AGENTS:
            return []
        self.next[agent] = [inc, after, UNSEEN if baseline else JUDGED]
        if baseline or not 0 < after - first <= MAX_GAP:
            return []
        return [(agent, inc, first, after - 1, False)]

    def _known(
        self, known: list[int], agent: str, after: int, first: int, baseline: bool, judged: bool
    ) -> list[Claim]:
        """An agent this reader has: its start judged (by its baseline, or by where it began at the
        hub once the baseline has come and did not hold it), then its tail."""
        inc, had, start = known
        claims = []
        if start >= 0 and (baseline or judged):
            began = after if baseline else first
            if began < start <= began + MAX_GAP:
                claims.append((agent, inc, began, start - 1, True))
            known[2] = JUDGED
        if had < after <= had + MAX_GAP:
            claims.append((agent, inc, had, after - 1, False))
            known[1] = after
        return claims

    def _part(self, hub: int, whole: Whole) -> None:
        """A part of this reader's baseline from a hub: once every part has come, the agents it
        did not name began at that hub after this reader came."""
        if len(self.wholes) >= MAX_HUBS:
            return
        ledger, part, parts = whole
        if (hub, ledger) not in self._parts and len(self._parts) >= MAX_HUBS:
            self._parts.pop(next(iter(self._parts)))  # the oldest: a later baseline will do
        got = self._parts.setdefault((hub, ledger), set())
        got.add(part)
        if len(got) == parts:
            self.wholes.add(hub)
            self._parts = {key: value for key, value in self._parts.items() if key[0] != hub}
