"""Wire messages kept as they came: checked once by a recording hub, decoded by whoever reads them.

A recorder that decodes every message into Events, folds them into a model
and encodes them again, column by column, does three times the work of the
hub's own decoding, in the same interpreter (measured: 3.2 us/event against
0.9). A recording hub now checks each message once (`keep`: unpacked
without decoding its strings, every column's type checked) and the session
file stores the messages as they came, compressed in blocks; the model
that keyframes need is folded behind, in another process (keyframer.py).

The check guarantees what a reader needs: that `stored_events` gives back
exactly the events the message's head counts, the same events a viewer
decoded live. Strings are checked for UTF-8 only when read back, so a
string that is not is read with its bad bytes replaced rather than
refused (a viewer refuses the message; the recording keeps it, marked).
"""

from __future__ import annotations

from operator import lt
from typing import Callable, NamedTuple

import msgpack

from .errors import WireError
from .events import Event
from .wire import (_LIMITS, MAX_MESSAGE_BYTES, BatchHead, DecodeStats, _check_size, _check_version,
                   _columns, _refusing, _valid_events, check_columns, decode_batch, encode_batch)


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
    """One agent's incarnation and seqs, rising (a 2.0 message): what the hub counts gaps from."""
    hello: bool
    """A hello among the events (a recorder splitting by run reads its tags)."""
    events: list[Event] | None
    """The events, where they were decoded anyway (rows, 1.x)."""
    refused: int = 0
    """Events of the message refused one by one (rows only: a 2.0 message is kept or refused whole)."""


def keep(payload: bytes) -> Kept:
    """The message ready to store; WireError for one that is not a batch, with the reason a viewer
    refuses it for (asked of the decoder: refusals are rare, and counted by reason).

    A 2.0 message is read as far as its head and columns; its data column is
    stepped over (well-formed msgpack, not built), which is most of what
    decoding costs: data that is not one map per event is the reader's to
    mark. Rows (1.x, not what Emitters send) are decoded as a viewer decodes
    them and, if some events were refused, stored as a new message of the
    good ones."""
    try:
        return _kept(payload)
    except WireError as refused:
        raise _viewers_reason(payload) or refused from None


def _viewers_reason(payload: bytes) -> WireError | None:
    try:
        decode_batch(payload)
    except WireError as exc:
        return exc
    return None


def _kept(payload: bytes) -> Kept:
    _check_size(payload)
    reader = _reader(payload, raw=True)
    with _refusing():
        fields = reader.read_array_header()
        if fields < 2:
            raise WireError("not-a-batch", "expected [version, events]")
        if _check_version(reader.unpack()) != 2:
            return _kept_rows(payload)
        if fields < 11:
            raise WireError("not-a-batch", "a 2.0 batch has 11 fields")
        agent, inc, first, count, ts, table, kinds, seqs = _all_but_data(reader, fields)
        if reader.tell() != len(payload):
            raise WireError("trailing-bytes", "bytes after the message")
    check_columns(agent, inc, first, count, ts, table, kinds, seqs, len(ts), bytes)
    if not ts:
        raise WireError("empty", "a batch of no events")
    last = first + len(ts) - 1 if seqs is None else seqs[-1]
    head = BatchHead(agent.decode("utf-8", "replace"), inc, first, last, len(ts)) if _rising(seqs) else None
    return Kept(payload, len(ts), ts[0], max(ts), _kind_count(table, kinds, b"error"),
                _kind_count(table, kinds, b"checkpoint"), head, b"hello" in table, None)


def _reader(payload: bytes, raw: bool) -> msgpack.Unpacker:
    """An Unpacker on one message, with the decoder's limits; `raw` leaves strings as bytes."""
    reader = msgpack.Unpacker(raw=raw, unicode_errors="replace", max_buffer_size=MAX_MESSAGE_BYTES, **_LIMITS)
    reader.feed(payload)
    return reader


def _all_but_data(reader: msgpack.Unpacker, fields: int) -> tuple:
    """A 2.0 message's head and columns, read past its version: (agent, inc, first seq, count, ts,
    kind table, kind indices, seqs or None); its data column stepped over (well-formed msgpack:
    what it holds is for a reader to judge), and a newer minor's fields after it."""
    agent, inc, first, _, count, ts, table, kinds = [reader.unpack() for _ in range(8)]
    reader.skip()
    seqs = reader.unpack()
    for _ in range(fields - 11):
        reader.skip()
    return agent, inc, first, count, ts, table, kinds, seqs


def _kind_count(table: list, kinds: list, name: bytes) -> int:
    return kinds.count(table.index(name)) if name in table else 0


def _rising(seqs: list | None) -> bool:
    return seqs is None or all(map(lt, seqs, seqs[1:]))


def _kept_rows(payload: bytes) -> Kept:
    events, refused = decode_batch(payload)
    if not events:
        raise WireError("malformed", "rows: no event well formed")
    if refused:
        payload = encode_batch(events)
    ts = [ev.ts for ev in events]
    kinds = [ev.kind for ev in events]
    return Kept(payload, len(events), ts[0], max(ts), kinds.count("error"), kinds.count("checkpoint"), None,
                "hello" in kinds, events, refused)


def events_kept(kept: Kept) -> list[Event]:
    """The events of a kept message (decoded now, unless they were already)."""
    return kept.events if kept.events is not None else stored_events(kept.payload)


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
    return _kept_rows(encode_batch(events))


def stored_events(payload: bytes) -> list[Event]:
    """The events of a message `keep` accepted: as a viewer decodes them, or, where the message's
    data is not what a viewer accepts (not maps, strings too long or not UTF-8), each event as
    its head and columns say with data `{"unreadable": reason}` in place of its own."""
    try:
        return events_of(msgpack.unpackb(payload, **STORED))
    except UNREADABLE as exc:
        return _marked(payload, str(exc) or type(exc).__name__)


STORED = dict(unicode_errors="replace", **_LIMITS)
"""How stored messages are unpacked: as a viewer does, bad UTF-8 replaced."""
UNREADABLE = (ValueError, TypeError, msgpack.StackError, WireError)
"""What unpacking a stored message and reading its events raises when a viewer would refuse it."""


def events_of(msg: object) -> list[Event]:
    """The events of an unpacked stored message, as a viewer reads them (WireError otherwise)."""
    if type(msg) is list and msg and msg[0] // 1000 == 1:
        return _rows_of(msg)
    return _columns(msg)


def _rows_of(msg: list) -> list[Event]:
    rows = msg[1]
    events = _valid_events(rows) if type(rows) is list else None
    if events is None or len(events) != len(rows):
        raise WireError("malformed", "rows: a stored event that does not decode")
    return events


def _marked(payload: bytes, reason: str) -> list[Event]:
    reader = _reader(payload, raw=False)
    fields = reader.read_array_header()
    reader.unpack()  # the version: 2.x, as kept
    agent, inc, first, _, ts, table, kinds, seqs = _all_but_data(reader, fields)
    numbers = range(first, first + len(ts)) if seqs is None else seqs
    return [Event(t, agent, seq, table[k], {"unreadable": reason}, inc) for t, seq, k in zip(ts, numbers, kinds)]


def keep_counted(stats: DecodeStats, frames: list[bytes]) -> Kept | None:
    """Keep one multipart message, counting it into `stats` as `DecodeStats.decode` would."""
    if not stats.envelope_ok(frames):
        return None
    try:
        kept = keep(frames[1])
    except WireError as exc:
        stats.refused[exc.reason] += 1
        return None
    stats.events += kept.count
    if kept.refused:
        stats.refused["bad-event"] += kept.refused
    return kept
