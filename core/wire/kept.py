"""Wire messages kept as they came: checked once by a recording hub, decoded by whoever reads them.

A recorder that decoded every message into Events, folded them into a model
and encoded them again did three times the work of the hub's own decoding
(docs/benchmarks.md). A recording hub instead passes each message through
the gate's message layer (`keep`: head and columns read and checked, the
data column stepped over in C, not built), and the session file stores the
messages as they came, compressed in blocks; the model that keyframes need
is folded behind, in another process (keyframer.py).

What `keep` passes, `events_kept` reads back as exactly the events the
head counts, the same events a viewer decoded live: both go through the
same gate, which marks an event whose data fails it (gate.py) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from swarmscope.core.events import Event
from swarmscope.core.model.sequence import LOST
from swarmscope.core.wire.format import encode_batch
from swarmscope.core.wire.gate import (
    LIMITS,
    MSGPACK_ERRORS,
    BatchHead,
    DecodeStats,
    Refused,
    check_size,
    decode,
    read_columns,
)


class Kept(NamedTuple):
    """One message as a recording hub keeps it, with what a session block says of its events.
    (A named tuple: made for every message a recording hub takes.)"""

    payload: bytes
    count: int
    first_ts: int
    max_ts: int
    errors: int
    checkpoints: int
    head: BatchHead | None
    """One agent's incarnation and seqs, rising (a 2.x message): what the hub counts gaps from.
    None for rows, and for a message holding a `lost` event (it counts more than its seqs say)."""
    hello: bool
    """A hello among the events (a recorder splitting by run reads its tags)."""
    events: list[Event] | None
    """The events, where they were decoded anyway (rows, 1.x)."""


def keep(payload: bytes) -> Kept:
    """The message ready to store, once its head and columns pass the gate; Refused otherwise, with
    the field a viewer would name. Its data column is stepped over, not built (most of what
    decoding costs): readers mark what fails the data gate, alike live and in a replay. Rows
    (1.x, not what Emitters send) are decoded whole, as a viewer decodes them."""
    check_size(payload)
    try:
        got = read_columns(payload, LIMITS, items=False)
    except MSGPACK_ERRORS:  # binary text among them: the whole gate's verdict names the field
        raise _refusal(payload) from None
    if got is None:
        return _kept_rows(payload)
    cols, _ = got
    table, kinds = cols.table, cols.kinds
    head = cols.head if LOST not in table else None
    return Kept(
        payload,
        cols.count,
        cols.ts[0],
        max(cols.ts),
        _kind_count(table, kinds, "error"),
        _kind_count(table, kinds, "checkpoint"),
        head,
        "hello" in table,
        None,
    )


def _refusal(payload: bytes) -> Refused:
    """What the whole gate says of a message keep could not read: the field at fault, named."""
    try:
        decode(payload)
    except Refused as exc:
        return exc
    # never seen: keep steps where decode reads
    return Refused("msgpack", "a message only a full decode reads")


def _kind_count(table: list, kinds: list, name: str) -> int:
    return kinds.count(table.index(name)) if name in table else 0


def _kept_rows(payload: bytes) -> Kept:
    events = decode(payload)
    ts = [ev.ts for ev in events]
    kinds = [ev.kind for ev in events]
    return Kept(
        payload,
        len(events),
        ts[0],
        max(ts),
        kinds.count("error"),
        kinds.count("checkpoint"),
        None,
        "hello" in kinds,
        events,
    )


def events_kept(kept: Kept) -> list[Event]:
    """The events of a kept message (decoded now, unless they were already)."""
    return kept.events if kept.events is not None else decode(kept.payload)


def without(kept: list[Kept], drop: Callable[[Event], bool]) -> tuple[list[Kept], int]:
    """The messages less the events `drop` picks (a message that loses some is made anew), and how
    many were dropped. `drop` sees every event: for the few messages of a late join's overlap."""
    out, dropped = [], 0
    for k in kept:
        events = events_kept(k)
        left = [e for e in events if not drop(e)]
        dropped += len(events) - len(left)
        if len(left) == len(events):
            out.append(k)
        elif left:
            out.append(kept_of(left))
    return out, dropped


def kept_of(events: list[Event]) -> Kept:
    """A message made of events already decoded (a part of a kept message, or a test's own)."""
    return keep(encode_batch(events))


def keep_counted(stats: DecodeStats, frames: list[bytes]) -> Kept | None:
    """Keep one multipart message, counting it into `stats` as `DecodeStats.decode` would."""
    if not stats.envelope_ok(frames):
        return None
    try:
        kept = keep(frames[1])
    except Refused as exc:
        stats.refuse(exc)
        return None
    stats.events += kept.count
    return kept
