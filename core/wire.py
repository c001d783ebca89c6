"""The wire format: versioned msgpack batches of events, and a strict decoder.

A message is two ZeroMQ frames: a topic (`b"ev"`) and a msgpack payload.
The payload's first element is its version, `major * 1000 + minor`; a newer
minor may append fields (to the message, or to an event), which this
decoder ignores, so a newer agent and an older viewer still talk. A major
this build does not read is refused. Two majors are read:

- 2.0, columns: what an Emitter sends, a batch from one incarnation of one
  agent, seqs rising: `[2000, agent, inc, first_seq, last_seq, count,
  [ts...], [kind names], [kind index...], [data...], [seq...] | nil]`
  (seqs are nil when they run first..last without a hole). The agent and
  incarnation are said once, kinds by index: a viewer builds no list, no
  agent string and no kind string per event, and its collector has a
  third as much to walk (measured end to end, 500,000 events: the viewer's
  CPU 2.5 -> 1.23-1.58 us/event, 0.25x-0.34x -> 0.35x-0.59x of raw
  PUB->SUB); and the hub counts a batch from its first six fields
  (`peek_batch`).
- 1.x, rows: `[version, [event, ...], head?]`, each event an array in
  `Event` field order: any events, from any publisher (the design card's
  five fields are read as incarnation 0). Since 1.1 a batch from one
  incarnation of one agent carries a head `[agent, inc, first_seq,
  last_seq]` the hub counts from.

Every byte that arrives is untrusted: the decoder has hard limits on sizes
and nesting, checks every field's type, and reports what it refused by a
short reason so the caller can count it and go on.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import itemgetter, lt
from typing import Iterator, NamedTuple

import msgpack

from .errors import WireError
from .events import Event

TOPIC_EVENTS = b"ev"
WIRE_VERSION = 1001
"""Rows (see the module's docstring)."""
COLUMNS_VERSION = 2000
READ_MAJORS = (1, 2)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Frames larger than this are refused by ZeroMQ itself (maxmsgsize) at the hub."""
MAX_BATCH_EVENTS = 100_000
MAX_MAP_LEN = 10_000
MAX_STR_LEN = 1024 * 1024
MAX_AGENT_LEN = 256
MAX_KIND_LEN = 64


def message(events: list) -> list:
    """The message for a batch of event tuples (in Event field order): columns when one incarnation
    of one agent sent every event, seqs rising (what an Emitter sends), else rows."""
    if not events:
        return [WIRE_VERSION, []]
    ts, agents, seqs, kinds, datas, incs = zip(*events)
    n = len(events)
    if agents.count(agents[0]) != n or incs.count(incs[0]) != n:
        return [WIRE_VERSION, events]
    if not all(map(lt, seqs, seqs[1:])):
        # One agent's threads (or its heartbeat, from the flusher) numbered two events and queued them
        # a moment out of order: a viewer would count a gap. In seq order they are as they were emitted.
        events = sorted(events, key=_SEQ)
        ts, agents, seqs, kinds, datas, incs = zip(*events)
        if not all(map(lt, seqs, seqs[1:])):
            return [WIRE_VERSION, events]  # a seq twice: not one Emitter's numbering
    table = list(dict.fromkeys(kinds))
    index = {kind: k for k, kind in enumerate(table)}
    holes = seqs[-1] - seqs[0] + 1 != n
    return [COLUMNS_VERSION, agents[0], incs[0], seqs[0], seqs[-1], n, list(ts), table,
            list(map(index.__getitem__, kinds)), list(datas), list(seqs) if holes else None]


_SEQ = itemgetter(2)


def encode_batch(events: list) -> bytes:
    return msgpack.packb(message(events))


_LIMITS = dict(max_array_len=MAX_BATCH_EVENTS, max_map_len=MAX_MAP_LEN, max_str_len=MAX_STR_LEN,
               max_bin_len=MAX_STR_LEN, max_ext_len=0, strict_map_key=True)


@contextmanager
def _refusing() -> Iterator[None]:
    """msgpack's complaints about a payload, as WireErrors with a short reason."""
    try:
        yield
    except msgpack.StackError as exc:
        raise WireError("too-deep", "nesting exceeds the decoder's stack") from exc
    except msgpack.ExtraData as exc:
        raise WireError("trailing-bytes", "bytes after the message") from exc
    except msgpack.OutOfData as exc:
        raise WireError("malformed", "truncated") from exc
    except (ValueError, TypeError) as exc:  # limits, truncation, bad bytes, bad keys
        raise WireError("malformed", str(exc) or type(exc).__name__) from exc


def _check_size(payload: bytes) -> None:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError("too-large", f"{len(payload)} bytes, limit {MAX_MESSAGE_BYTES}")


def _unpack(payload: bytes) -> object:
    _check_size(payload)
    with _refusing():
        return msgpack.unpackb(payload, **_LIMITS)


def _check_version(version: object) -> int:
    """The major of a message's version, if this build reads it."""
    if type(version) is not int:
        raise WireError("bad-version", f"version is {type(version).__name__}")
    if version // 1000 not in READ_MAJORS:
        raise WireError("wrong-version", f"wire version {version}, this build reads 1.x and 2.x")
    return version // 1000


def _valid_event(raw: object) -> Event | None:
    """An Event if `raw` has the right shape and types, else None."""
    if type(raw) is not list or len(raw) < 5:
        return None
    if len(raw) != 6:  # the design card's five fields (incarnation 0), or a newer minor's extra ones
        raw = [*raw, 0] if len(raw) == 5 else raw[:6]
    ts, agent, seq, kind, data, inc = raw
    if (
        type(ts) is int and type(agent) is str and type(seq) is int
        and type(kind) is str and type(data) is dict and type(inc) is int
        and 0 < len(agent) <= MAX_AGENT_LEN and 0 < len(kind) <= MAX_KIND_LEN
    ):
        return Event(ts, agent, seq, kind, data, inc)
    return None


_ONLY_LIST, _ONLY_SIX, _ONLY_INT, _ONLY_DICT = {list}, {6}, {int}, {dict}


def _all_well_formed(rows: list) -> bool:
    """True when every row passes `_valid_event` unchanged: a 6-field list of the right types.

    Checks a column at a time with builtins that loop in C, a fraction of the
    cost of a Python-level check per event. The batches our emitters send
    always pass; anything else takes the exact per-event path.
    """
    if not rows or set(map(type, rows)) != _ONLY_LIST or set(map(len, rows)) != _ONLY_SIX:
        return False
    ts, agents, seqs, kinds, datas, incs = zip(*rows)
    return (
        set(map(type, ts)) == _ONLY_INT and set(map(type, seqs)) == _ONLY_INT
        and set(map(type, incs)) == _ONLY_INT and set(map(type, datas)) == _ONLY_DICT
        and _names_within(agents, MAX_AGENT_LEN) and _names_within(kinds, MAX_KIND_LEN)
    )


def _names_within(names: tuple, limit: int, text: type = str) -> bool:
    """Every name a non-empty `text` of at most `limit` characters.

    Checked once per distinct name, since a batch repeats a few agents and
    kinds. A non-str can never equal a str, so it survives into the set.
    """
    try:
        distinct = set(names)
    except TypeError:  # an unhashable name (a list, a map) is no name
        return False
    return all(type(name) is text and 0 < len(name) <= limit for name in distinct)


def _valid_events(rows: list) -> list[Event]:
    """The well-formed events among `rows`, in order."""
    if _all_well_formed(rows):
        # tuple.__new__ straight from each row: Event(*row) would run the Python-level __new__ per event
        return list(map(tuple.__new__, repeat(Event, len(rows)), rows))
    return [ev for ev in map(_valid_event, rows) if ev is not None]


def decode_batch(payload: bytes) -> tuple[list[Event], int]:
    """Decode one payload into (good events, count of events refused).

    Raises WireError for a payload that cannot be read as a batch at all;
    a batch with some bad events keeps the good ones.
    """
    msg = _unpack(payload)
    if type(msg) is not list or len(msg) < 2:
        raise WireError("not-a-batch", "expected [version, events]")
    version, raw_events = msg[0], msg[1]
    if _check_version(version) == 2:
        return _columns(msg), 0
    if type(raw_events) is not list:
        raise WireError("not-a-batch", "events is not a list")
    good = _valid_events(raw_events)
    return good, len(raw_events) - len(good)


def _columns(msg: list) -> list[Event]:
    """The events of a 2.0 message, every column checked in C; WireError if any is not as written."""
    agent, inc, first, ts, table, kinds, datas, seqs = checked_columns(msg, str)
    n = len(ts)
    names = list(map(table.__getitem__, kinds))
    numbers = range(first, first + n) if seqs is None else seqs
    return list(map(tuple.__new__, repeat(Event, n), zip(ts, repeat(agent, n), numbers, names, datas, repeat(inc, n))))


def checked_columns(msg: list, text: type) -> tuple:
    """A 2.0 message's fields (agent, inc, first seq, ts, kind table, kind indices, datas, seqs or None),
    once every column is as written; WireError if one is not. `text` is the type names arrive
    as: str, or bytes from a decoder that leaves them raw (wire_store)."""
    if len(msg) < 11:
        raise WireError("not-a-batch", "a 2.0 batch has 11 fields")
    _, agent, inc, first, _, count, ts, table, kinds, datas, seqs = msg[:11]
    if not (type(datas) is list and set(map(type, datas)) <= _ONLY_DICT):
        raise WireError("malformed", "columns: data that is not a map")
    check_columns(agent, inc, first, count, ts, table, kinds, seqs, len(datas), text)
    return agent, inc, first, ts, table, kinds, datas, seqs


def check_columns(agent: object, inc: object, first: object, count: object, ts: object, table: object,
                  kinds: object, seqs: object, datas: int, text: type) -> None:
    """WireError unless a 2.0 message's head and columns (but its datas, `datas` of them) are as written."""
    if not (type(ts) is type(table) is type(kinds) is list and (seqs is None or type(seqs) is list)):
        raise WireError("malformed", "columns: a column that is not an array")
    n = len(ts)
    if not (type(agent) is text and 0 < len(agent) <= MAX_AGENT_LEN and type(inc) is int
            and type(first) is int and count == n == len(kinds) == datas
            and (seqs is None or len(seqs) == n)):
        raise WireError("malformed", "columns: head or column lengths")
    if not (set(map(type, ts)) <= _ONLY_INT and set(map(type, kinds)) <= _ONLY_INT
            and _kinds_within(tuple(table), text) and (seqs is None or set(map(type, seqs)) <= _ONLY_INT)):
        raise WireError("malformed", "columns: a column of the wrong type")
    if not set(kinds) <= _indices(len(table)):
        raise WireError("malformed", "columns: a kind index outside the table")


def _kinds_within(table: tuple, text: type) -> bool:
    """`_names_within` for a kind table, remembered: an agent sends the same few tables again and again."""
    try:
        return _good_table(table, text)
    except TypeError:  # an unhashable name (a list, a map) is no name
        return False


@lru_cache(maxsize=4096)
def _good_table(table: tuple, text: type) -> bool:
    return _names_within(table, MAX_KIND_LEN, text)


@lru_cache(maxsize=256)
def _indices(n: int) -> frozenset[int]:
    return frozenset(range(n))


class BatchHead(NamedTuple):
    """What the hub counts from a batch's head: one agent's incarnation, its seqs from first to last.
    (A named tuple: made for every message a hub takes, and a frozen dataclass costs ~1 us more.)"""

    agent: str
    inc: int
    first: int
    last: int
    count: int
    """Events in the batch, as counted while stepping over them."""


def peek_batch(payload: bytes) -> BatchHead | None:
    """The batch's head, reading past its events without building them; None if it has no
    usable head (decode it instead). Raises WireError for a payload that is not a batch,
    with a coarser reason than decode_batch's (DecodeStats.count asks decode_batch for
    the reason it records); what is inside the events is left to viewers to judge."""
    _check_size(payload)
    reader = msgpack.Unpacker(max_buffer_size=MAX_MESSAGE_BYTES, **_LIMITS)
    reader.feed(payload)
    with _refusing():
        fields = reader.read_array_header()
        if fields < 2:
            raise WireError("not-a-batch", "expected [version, events]")
        if _check_version(reader.unpack()) == 2:  # the head is the first fields; the columns skip in C
            if fields < 11:
                raise WireError("not-a-batch", "a 2.0 batch has 11 fields")
            head, count, rest = [reader.unpack() for _ in range(4)], reader.unpack(), fields - 6
        else:
            count = reader.read_array_header()  # not an array: ValueError, "malformed"
            for _ in range(count):
                reader.skip()
            head, rest = reader.unpack() if fields >= 3 else None, fields - 3
        for _ in range(rest):
            reader.skip()  # columns, or a newer minor's fields
        if reader.tell() != len(payload):
            raise WireError("trailing-bytes", "bytes after the message")
    return _usable_head(head, count)


def _usable_head(head: object, count: object) -> BatchHead | None:
    """A BatchHead if `head` is well formed and agrees with the event count."""
    if type(head) is not list or len(head) != 4 or type(count) is not int:
        return None
    agent, inc, first, last = head
    if not (type(agent) is str and 0 < len(agent) <= MAX_AGENT_LEN and type(inc) is int
            and type(first) is int and type(last) is int and count > 0 and last - first + 1 >= count):
        return None
    return BatchHead(agent, inc, first, last, count)


@dataclass
class DecodeStats:
    """What a decoder accepted and refused, by reason, for the status line."""

    frames: int = 0
    events: int = 0
    refused: Counter = field(default_factory=Counter)

    @property
    def bad(self) -> int:
        return sum(self.refused.values())

    def decode(self, frames: list[bytes]) -> list[Event]:
        """Decode one multipart message, counting instead of raising."""
        if not self.envelope_ok(frames):
            return []
        try:
            events, bad = decode_batch(frames[1])
        except WireError as exc:
            self.refused[exc.reason] += 1
            return []
        if bad:
            self.refused["bad-event"] += bad
        self.events += len(events)
        return events

    def count(self, frames: list[bytes]) -> BatchHead | list[Event]:
        """Count one message from its head when it has one, else decode it as `decode` does."""
        try:
            head = peek_batch(frames[1]) if len(frames) == 2 and frames[0] == TOPIC_EVENTS else None
        except WireError:
            head = None  # refused: decode() counts it with its reason
        if head is None:
            return self.decode(frames)
        self.frames += 1
        self.events += head.count
        return head

    def envelope_ok(self, frames: list[bytes]) -> bool:
        self.frames += 1
        if len(frames) != 2 or frames[0] != TOPIC_EVENTS:
            self.refused["bad-envelope"] += 1
            return False
        return True

    def to_dict(self) -> dict:
        return {"frames": self.frames, "events": self.events, "refused": dict(self.refused)}
