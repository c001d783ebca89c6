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

from dataclasses import dataclass

import msgpack

from .errors import WireError
from .events import Event
from .wire import (_LIMITS, MAX_MESSAGE_BYTES, BatchHead, DecodeStats, _check_size, _check_version,
                   _columns, _refusing, _valid_events, checked_columns, decode_batch, encode_batch)


@dataclass(frozen=True, slots=True)
class Kept:
    """One message as a recording hub keeps it, with what a session block says of its events."""

    payload: bytes
    count: int
    first_ts: int
    max_ts: int
    errors: int
    checkpoints: int
    head: BatchHead | None
    """One agent's incarnation and seqs (a 2.0 message): what the hub counts gaps from."""
    events: list[Event] | None
    """The events, where they had to be decoded anyway: rows (1.x), and a 2.0 message with a hello
    in it (a recorder splitting by run reads the hello's tags)."""
    refused: int = 0
    """Events of the message refused one by one (rows only: a 2.0 message is kept or refused whole)."""


def keep(payload: bytes) -> Kept:
    """The message ready to store; WireError (with the decoder's reason) for one a viewer would refuse whole.

    Rows (1.x, not what Emitters send) are decoded as a viewer decodes them and,
    if some events were refused, stored as a new message of the good ones."""
    _check_size(payload)
    with _refusing():
        msg = msgpack.unpackb(payload, raw=True, **_LIMITS)
    if type(msg) is not list or len(msg) < 2:
        raise WireError("not-a-batch", "expected [version, events]")
    if _check_version(msg[0]) != 2:
        return _kept_rows(payload)
    agent, inc, first, ts, table, kinds, _, seqs = checked_columns(msg, bytes)
    if not ts:
        raise WireError("malformed", "columns: a batch of no events")
    last = first + len(ts) - 1 if seqs is None else seqs[-1]
    head = BatchHead(agent.decode("utf-8", "replace"), inc, first, last, len(ts))
    hello = b"hello" in table
    return Kept(payload, len(ts), ts[0], max(ts), _kind_count(table, kinds, b"error"),
                _kind_count(table, kinds, b"checkpoint"), head if _rising(seqs) else None,
                stored_events(payload) if hello or not _rising(seqs) else None)


def _kind_count(table: list, kinds: list, name: bytes) -> int:
    return kinds.count(table.index(name)) if name in table else 0


def _rising(seqs: list | None) -> bool:
    return seqs is None or all(a < b for a, b in zip(seqs, seqs[1:]))


def _kept_rows(payload: bytes) -> Kept:
    events, refused = decode_batch(payload)
    if not events:
        raise WireError("malformed", "rows: no event well formed")
    if refused:
        payload = encode_batch(events)
    ts = [ev.ts for ev in events]
    kinds = [ev.kind for ev in events]
    return Kept(payload, len(events), ts[0], max(ts), kinds.count("error"), kinds.count("checkpoint"), None,
                events, refused)


def kept_of(events: list[Event]) -> Kept:
    """A message made of events already decoded (a part of a kept message, or a test's own)."""
    return _kept_rows(encode_batch(events))


def stored_events(payload: bytes) -> list[Event]:
    """The events of a message `keep` accepted, its strings decoded (bad UTF-8 replaced)."""
    return events_of(msgpack.unpackb(payload, unicode_errors="replace", **_LIMITS))


def events_of(msg: object) -> list[Event]:
    """The events of an unpacked message `keep` accepted (WireError if it is not one)."""
    if type(msg) is not list or len(msg) < 2:
        raise WireError("not-a-batch", "expected [version, events]")
    if _check_version(msg[0]) == 2:
        return _columns(msg)
    rows = msg[1]
    events = _valid_events(rows) if type(rows) is list else None
    if events is None or len(events) != len(rows):
        raise WireError("malformed", "rows: a stored event that does not decode")
    return events


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


STORED_READER_LIMITS = dict(max_buffer_size=MAX_MESSAGE_BYTES, unicode_errors="replace", **_LIMITS)
"""How a session reader unpacks a block of stored messages, one after another."""
