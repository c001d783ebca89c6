"""The gate: every field of a wire message checked once, where it enters, before anything reads it.

Every byte from a socket or a session file is untrusted. This module is the
one place that decides what a message may hold; what it passes, every later
stage (the hub's counting, recorders, models, screens, files) trusts. It has
two layers, for the two ways a message is read:

- The message: size, msgpack (within limits: no binary, no ext, maps keyed
  by text), version, and every field of the head and columns: agent,
  incarnation, seqs, count, timestamps, kinds. A message that fails is
  refused whole, as a `Refused` naming the field, what it held and what was
  wanted (`ts: float nan, want integer nanoseconds ...`), and counted under
  that field. A hub and a recorder read no more than this: they count and
  keep a message as it came (kept.py).
- The data: each event's map, checked by whoever unpacks it (viewers, the
  readers of a session): a map, text keys, no binary, at most MAX_DEPTH
  deep. An event whose data fails keeps its place, since its time, agent,
  seq and kind are known, with `{"unreadable": why}` for data, so a replay
  shows exactly what a live view showed, and every recursive walk later
  (merge patches, JSON, keyframes, trees on screen) takes any data it gets.

Text that is not UTF-8 is read with U+FFFD in place of the bad bytes, never
refused: a name or a message with one bad byte is still worth showing.

Depth is checked in C: msgpack's own unpacker stops at STACK containers
deep, so skipping over a message behind STACK - allowed empty levels fails
exactly when the message is deeper than allowed (~0.1 us/event, where a
walk over every value in Python cost 0.6).
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from itertools import repeat
from operator import lt
from typing import Any, NamedTuple

import msgpack

from swarmscope.core.errors import WireError
from swarmscope.core.events import KINDS, Event
from swarmscope.core.wire.format import (
    COLUMNS_VERSION,
    MAX_AGENT_LEN,
    MAX_BATCH_EVENTS,
    MAX_KIND_LEN,
    MAX_KIND_TABLE,
    MAX_MESSAGE_BYTES,
    TOPIC_EVENTS,
)

MAX_DEPTH = 32
"""How deep an event's data may nest (its own map is level 1): deep enough for any state an agent
keeps, shallow enough for every recursive walk (msgpack packs 511 levels, Python recurses
~1,000)."""
MAX_MAP_LEN = 10_000
MAX_STR_LEN = 1024 * 1024
INT63 = 1 << 63
"""Times and seqs are below this: they fit a signed 64-bit integer, as session files store them."""
INT64 = 1 << 64
"""Incarnations are below this: any unsigned 64-bit id."""
STACK = 1024
"""Containers deep msgpack's C unpacker goes before it refuses (a build constant; a test checks
it)."""

WANT = {
    "envelope": "two frames: the topic 'ev', then the payload",
    "size": f"at most {MAX_MESSAGE_BYTES:,} bytes",
    "msgpack": "one msgpack value within the limits (maps keyed by text, no binary or ext, "
    f"arrays of at most {MAX_BATCH_EVENTS:,} items, text of at most {MAX_STR_LEN:,} bytes)",
    "nesting": f"at most {STACK} levels, msgpack's own limit "
    f"(an event's data past {MAX_DEPTH} is marked)",
    "shape": "an array: "
    "[version, agent, inc, first, last, count, ts, kinds, kind indices, data, seqs] (2.x), "
    "or [version, events] (1.x)",
    "version": "an integer 1000 * major + minor, major 1 or 2",
    "agent": f"text of 1 to {MAX_AGENT_LEN} characters",
    "inc": "an integer from 0 to 2**64 - 1",
    "seq": "integers from 0 to 2**63 - 1, rising within a 2.x message, "
    "first and last as the head says",
    "count": f"1 to {MAX_BATCH_EVENTS:,} events, as many as every column holds",
    "ts": "integer nanoseconds since 1970, from 0 to 2**63 - 1 (a float is taken if it is finite)",
    "kind": f"text of 1 to {MAX_KIND_LEN} characters; "
    f"a 2.x table of at most {MAX_KIND_TABLE} kinds, indexed from 0",
    "data": "an array with one map per event",
    "event": "an array [ts, agent, seq, kind, data, inc] (inc may be left out)",
}
"""What each field must hold: the second half of every refusal, and the table in docs/wire.md."""


class Refused(WireError):
    """A message the gate turns away; `reason` is the field at fault, the message says what it held
    and what was wanted."""

    def __init__(self, field: str, got: str) -> None:
        super().__init__(field, f"{got}, want {WANT[field]}")


class BatchHead(NamedTuple):
    """One agent's incarnation and its seqs from first to last, as a 2.0 message's head says:
    what a hub counts gaps from. (A named tuple: one is made for every message a hub takes.)"""

    agent: str
    inc: int
    first: int
    last: int
    count: int


# -- reading
# -----------------------------------------------------------------------------------------

LIMITS = dict(
    max_array_len=MAX_BATCH_EVENTS,
    max_map_len=MAX_MAP_LEN,
    max_str_len=MAX_STR_LEN,
    max_bin_len=0,
    max_ext_len=0,
    strict_map_key=True,
    unicode_errors="replace",
)
"""How a message is read first: any binary value, or a map key that is not text, fails it (and the
message is read again with SLOW_LIMITS, to find the field or the events at fault)."""
SLOW_LIMITS = {**LIMITS, "max_bin_len": MAX_STR_LEN}
ITEM_LIMITS = {**SLOW_LIMITS, "strict_map_key": False}
"""One event's data, read on its own: whatever keys it has (data_fault says which are not text)."""
MSGPACK_ERRORS = (ValueError, TypeError, msgpack.OutOfData)
"""What msgpack raises on bytes it cannot read within limits (StackError, ExtraData and FormatError
are ValueErrors)."""


def check_size(payload: bytes) -> None:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise Refused("size", f"{len(payload):,} bytes")


def _depth_allowed(msg: Any) -> int:
    """How deep a message may be for its events' data to be within MAX_DEPTH: the data of a 2.x
    message is an item of its data column (depth 3), a 1.x event's data an item of its row (4)."""
    major = msg[0] // 1000 if type(msg) is list and msg and type(msg[0]) is int else 2
    return MAX_DEPTH + (2 if major == 2 else 3)


@lru_cache(maxsize=8)
def _levels(n: int) -> bytes:
    return b"\x91" * n


def within_depth(packed: bytes, allowed: int) -> bool:
    """Whether `packed` (well-formed msgpack) nests at most `allowed` containers deep. Skipped over
    in C behind STACK - allowed arrays of one item each: msgpack's unpacker refuses deeper."""
    reader = msgpack.Unpacker(max_buffer_size=len(packed) + STACK)
    reader.feed(_levels(STACK - allowed))
    reader.feed(packed)
    try:
        reader.skip()
    except msgpack.StackError:
        return False
    return True


def read_columns(
    payload: bytes, limits: dict, items: bool
) -> tuple[Columns, list[bytes] | None] | None:
    """A 2.x message's head and columns read one field at a time and checked, its data column
    stepped over in C (not built): with `items`, each event's data as its own bytes. None for a 1.x
    message. Refused for a field that fails; msgpack's own errors (MSGPACK_ERRORS) are the
    caller's."""
    reader = msgpack.Unpacker(max_buffer_size=len(payload) + 1, **limits)
    reader.feed(payload)
    fields = reader.read_array_header()
    if fields < 2:
        raise Refused("shape", f"an array of {fields}")
    if version_major(reader.unpack()) == 1:
        return None
    if fields < 11:
        raise Refused("shape", f"a 2.x message of {fields} fields")
    agent, inc, first, last, count = [reader.unpack() for _ in range(5)]
    if type(count) is not int or not 0 < count <= MAX_BATCH_EVENTS:
        raise Refused("count", _held(count))
    ts = _column(reader, payload, "ts", count)
    table = _column(reader, payload, "kind", count, table=True)
    kinds = _column(reader, payload, "kind", count)
    spans = None
    if items:
        n, spans = _items(reader, payload)
    else:
        n = _array_len(payload, reader.tell(), "data")
        reader.skip()  # the whole column in one call, in C
    seqs = reader.unpack()
    for _ in range(fields - 11):
        reader.skip()  # a newer minor's fields
    if reader.tell() != len(payload):
        raise Refused("msgpack", "bytes after the message")
    check_count(count, ts, kinds, seqs, n)
    return checked_columns(agent, inc, first, last, count, ts, table, kinds, seqs), spans


def _items(reader: msgpack.Unpacker, payload: bytes) -> tuple[int, list[bytes]]:
    """The data column's items, each as its own bytes."""
    try:
        n = reader.read_array_header()
    except ValueError:
        raise Refused("data", "a column that is not an array") from None
    spans = []
    for _ in range(n):
        start = reader.tell()
        reader.skip()
        spans.append(payload[start : reader.tell()])
    return n, spans


def _column(
    reader: msgpack.Unpacker, payload: bytes, field: str, count: int, table: bool = False
) -> list:
    """A column, once its header says it is as long as it must be (a kind table: at most
    MAX_KIND_TABLE and `count`): a message that says 100,000 kinds costs a look at a header, not
    100,000 strings."""
    n = _array_len(payload, reader.tell(), field)
    if table and not 0 < n <= min(count, MAX_KIND_TABLE):
        raise Refused("kind", f"a table of {n} for {count} events")
    if not table and n != count:
        raise Refused("count", f"{count} in the head, {n} in the {field} column")
    return reader.unpack()


def _array_len(payload: bytes, at: int, field: str) -> int:
    """The length an array header at `at` says (read by hand, before the array is built, or to skip
    it in one call)."""
    head = payload[at] if at < len(payload) else -1
    if 0x90 <= head <= 0x9F:
        return head & 0x0F
    if head in (0xDC, 0xDD):
        size = 2 if head == 0xDC else 4
        if at + 1 + size <= len(payload):
            return int.from_bytes(payload[at + 1 : at + 1 + size], "big")
    raise Refused(field, "a column that is not an array")


# -- messages
# ---------------------------------------------------------------------------------------


def decode(payload: bytes, marks: Counter | None = None) -> list[Event]:
    """The events of a message that passes the gate; Refused otherwise. Events whose data fails
    the data gate carry `{"unreadable": why}`, each counted in `marks` by why.

    Read in one call when it is clean (no binary, no key that is not text, nothing too deep: what
    Emitters send); else again, field by field, so the refusal names the field, or the events at
    fault are marked one by one."""
    check_size(payload)
    try:
        msg = msgpack.unpackb(payload, **LIMITS)
    except MSGPACK_ERRORS:
        return _decode_slowly(payload, marks)
    if not within_depth(payload, _depth_allowed(msg)):
        return _decode_slowly(payload, marks)
    return events_of(msg, True, marks)


def _decode_slowly(payload: bytes, marks: Counter | None) -> list[Event]:
    try:
        got = read_columns(payload, SLOW_LIMITS, items=True)
        if got is None:
            return events_of(msgpack.unpackb(payload, **ITEM_LIMITS), False, marks)
    except msgpack.StackError:
        raise Refused("nesting", f"more than {STACK} levels") from None
    except msgpack.ExtraData:
        raise Refused("msgpack", "bytes after the message") from None
    except MSGPACK_ERRORS as exc:
        raise Refused("msgpack", _said(exc)) from None
    cols, items = got
    return _events(cols, [_item(item, marks) for item in items])


def _said(exc: Exception) -> str:
    """msgpack's complaint in a few words (its two ways of saying a message ends early, as one)."""
    if isinstance(exc, msgpack.OutOfData) or "incomplete input" in str(exc):
        return "truncated"
    return str(exc) or type(exc).__name__


def _item(packed: bytes, marks: Counter | None) -> Any:
    """One event's data read on its own; `{"unreadable": why}` if it fails the data gate."""
    try:
        data = msgpack.unpackb(packed, **ITEM_LIMITS)
        why = data_fault(data)
    except MSGPACK_ERRORS as exc:
        why = f"data: {_said(exc)}"
    if why is None:
        return data
    if marks is not None:
        marks[why] += 1
    return {"unreadable": why}


def events_of(msg: Any, clean: bool, marks: Counter | None = None) -> list[Event]:
    """The events of an unpacked message (see decode); `clean`: read in one call and within
    depth."""
    if type(msg) is not list or len(msg) < 2:
        raise Refused("shape", _held(msg))
    if version_major(msg[0]) == 1:
        return _rows(msg[1], clean, marks)
    cols = columns(msg)
    return _events(cols, gated(msg[9], cols.count, clean, marks))


def _events(cols: Columns, datas: list) -> list[Event]:
    n = cols.count
    names = list(map(cols.table.__getitem__, cols.kinds))
    numbers = range(cols.first, cols.first + n) if cols.seqs is None else cols.seqs
    return list(
        map(
            tuple.__new__,
            repeat(Event, n),
            zip(cols.ts, repeat(cols.agent, n), numbers, names, datas, repeat(cols.inc, n)),
        )
    )


def version_major(version: Any) -> int:
    if type(version) is not int:
        raise Refused("version", _held(version))
    if version // 1000 not in (1, 2):
        raise Refused("version", f"{version} (major {version // 1000})")
    return version // 1000


class Columns(NamedTuple):
    """A 2.0 message's head and columns, every field checked (its data column apart)."""

    agent: str
    inc: int
    first: int
    last: int
    count: int
    ts: list[int]
    table: list[str]
    kinds: list[int]
    seqs: list[int] | None

    @property
    def head(self) -> BatchHead:
        return BatchHead(self.agent, self.inc, self.first, self.last, self.count)


def columns(msg: list) -> Columns:
    """Every field of a 2.x message but its data column, checked; Refused at the first that
    fails."""
    if len(msg) < 11:
        raise Refused("shape", f"a 2.x message of {len(msg)} fields")
    _, agent, inc, first, last, count, ts, table, kinds, datas, seqs = msg[:11]
    if type(datas) is not list:
        raise Refused("data", "a column that is not an array")
    check_count(count, ts, kinds, seqs, len(datas))
    return checked_columns(agent, inc, first, last, count, ts, table, kinds, seqs)


def check_count(count: Any, ts: Any, kinds: Any, seqs: Any, datas: int) -> None:
    """The head's count, and every column an array of that many items (`datas`: the data
    column's length, the one column a hub steps over without building)."""
    if type(count) is not int or not 0 < count <= MAX_BATCH_EVENTS:
        raise Refused("count", _held(count))
    for field, column in (("ts", ts), ("kind", kinds), ("seq", seqs)):
        if column is None and field == "seq":
            continue
        if type(column) is not list:
            raise Refused(field, "a column that is not an array")
        if len(column) != count:
            raise Refused("count", f"{count} in the head, {len(column)} in the {field} column")
    if datas != count:
        raise Refused("count", f"{count} in the head, {datas} in the data column")


def checked_columns(
    agent: Any,
    inc: Any,
    first: Any,
    last: Any,
    count: int,
    ts: list,
    table: Any,
    kinds: list,
    seqs: Any,
) -> Columns:
    """A 2.x message's head and columns, once their lengths agree (check_count)."""
    check_agent(agent)
    check_inc(inc)
    ts = checked_ts(ts)
    _check_kinds(table, kinds, count)
    _check_seqs(first, last, count, seqs)
    return Columns(agent, inc, first, last, count, ts, table, kinds, seqs)


def check_agent(agent: Any) -> None:
    if type(agent) is not str or not 0 < len(agent) <= MAX_AGENT_LEN:
        raise Refused("agent", _held(agent))


def check_inc(inc: Any) -> None:
    if type(inc) is not int or not 0 <= inc < INT64:
        raise Refused("inc", _held(inc))


_ONLY_INT, _INT_OR_FLOAT, _ONLY_STR, _ONLY_DICT = {int}, {int, float}, {str}, {dict}


def checked_ts(ts: list) -> list[int]:
    """Timestamps as integer nanoseconds; floats (JavaScript's `Date.now() * 1e6`) are taken when
    finite, as the nearest integer at or below them."""
    types = set(map(type, ts))
    if not types <= _ONLY_INT:
        if not types <= _INT_OR_FLOAT:
            raise Refused("ts", _held(next(t for t in ts if type(t) not in _INT_OR_FLOAT)))
        if not all(map(math.isfinite, ts)):
            raise Refused("ts", f"float {next(t for t in ts if not math.isfinite(t))}")
        ts = list(map(int, ts))
    if min(ts) < 0 or max(ts) >= INT63:
        raise Refused("ts", f"{min(ts) if min(ts) < 0 else max(ts)}, out of range")
    return ts


def _check_kinds(table: Any, kinds: list, count: int) -> None:
    if type(table) is not list:
        raise Refused("kind", "a column that is not an array")
    if not 0 < len(table) <= min(count, MAX_KIND_TABLE):
        raise Refused("kind", f"a table of {len(table)} for {count} events")
    try:
        unknown = set(table) - _KNOWN_KINDS
    except TypeError:  # an unhashable name (an array, a map) is no name
        unknown = table
    for name in unknown:
        if not _good_name(name, MAX_KIND_LEN):
            raise Refused("kind", _held(name))
    if unknown and len(_KNOWN_KINDS) + len(unknown) <= MAX_KNOWN_KINDS:
        _KNOWN_KINDS.update(unknown)
    if not set(map(type, kinds)) <= _ONLY_INT or not set(kinds) <= _indices(len(table)):
        raise Refused("kind", f"an index outside a table of {len(table)}")


def _good_name(name: Any, limit: int) -> bool:
    return type(name) is str and 0 < len(name) <= limit


MAX_KNOWN_KINDS = 4096
_KNOWN_KINDS: set[str] = set(KINDS)
"""Kind names checked already (agents send the same few again and again): a set lookup in C instead
of a check per name. Bounded: past MAX_KNOWN_KINDS names, new ones are checked each time they
come."""


@lru_cache(maxsize=MAX_KIND_TABLE)
def _indices(n: int) -> frozenset[int]:
    return frozenset(range(n))


def _check_seqs(first: Any, last: Any, count: int, seqs: Any) -> None:
    """first..last without a hole (seqs nil), or seqs rising from first to last."""
    if type(first) is not int or type(last) is not int or not 0 <= first <= last < INT63:
        raise Refused("seq", f"first {_held(first)}, last {_held(last)}")
    if seqs is None:
        if last - first + 1 != count:
            raise Refused("seq", f"{first} to {last} without a hole for {count} events")
        return
    if not set(map(type, seqs)) <= _ONLY_INT or not all(map(lt, seqs, seqs[1:])):
        raise Refused("seq", "a column that does not rise")
    if seqs[0] != first or seqs[-1] != last:
        raise Refused("seq", f"{seqs[0]} to {seqs[-1]} where the head says {first} to {last}")


def _rows(rows: Any, clean: bool, marks: Counter | None) -> list[Event]:
    """The events of a 1.x message: any agents, each event a row; refused whole if one row is
    bad."""
    if type(rows) is not list:
        raise Refused("shape", f"events that are {_held(rows)}")
    if not 0 < len(rows) <= MAX_BATCH_EVENTS:
        raise Refused("count", f"{len(rows)} events")
    if set(map(type, rows)) != {list}:
        raise Refused("event", _held(next(r for r in rows if type(r) is not list)))
    if not set(map(len, rows)) <= {6}:
        rows = [_six_fields(row) for row in rows]
    ts, agents, seqs, kinds, datas, incs = map(list, zip(*rows))
    ts = checked_ts(ts)
    for agent in set(agents) if set(map(type, agents)) <= _ONLY_STR else agents:
        check_agent(agent)
    if not (set(map(type, seqs)) <= _ONLY_INT and min(seqs) >= 0 and max(seqs) < INT63):
        raise Refused(
            "seq", _held(next(s for s in seqs if type(s) is not int or not 0 <= s < INT63))
        )
    if not (
        set(map(type, kinds)) <= _ONLY_STR and all(_good_name(k, MAX_KIND_LEN) for k in set(kinds))
    ):
        raise Refused("kind", _held(next(k for k in kinds if not _good_name(k, MAX_KIND_LEN))))
    for inc in set(incs) if set(map(type, incs)) <= _ONLY_INT else incs:
        check_inc(inc)
    datas = gated(datas, len(rows), clean, marks)
    return list(
        map(tuple.__new__, repeat(Event, len(rows)), zip(ts, agents, seqs, kinds, datas, incs))
    )


def _six_fields(row: list) -> list:
    """The design card's five fields (incarnation 0), or a newer minor's extra ones left out."""
    if len(row) < 5:
        raise Refused("event", f"an array of {len(row)} fields")
    return [*row, 0] if len(row) == 5 else row[:6]


def _held(value: Any) -> str:
    """What a field held, said short: its type, and its value when that is small."""
    kind = "binary" if type(value) is bytes else type(value).__name__
    if type(value) in (int, float, bool) or value is None:
        return f"{kind} {value}" if value is not None else "nil"
    if type(value) is str:
        return (
            f"text of {len(value)} characters"
            if len(value) > 40 or not value
            else f"text {value!r}"
        )
    return kind if type(value) is not list else f"an array of {len(value)}"


# -- data -----------------------------------------------------------------------------------------


def gated(datas: Any, count: int, clean: bool, marks: Counter | None) -> list:
    """Each event's data as the data gate passes it: its map, or `{"unreadable": why}`."""
    if type(datas) is not list or len(datas) != count:
        raise Refused("data", _held(datas))
    if clean and set(map(type, datas)) <= _ONLY_DICT:
        return datas
    out = []
    for data in datas:
        why = data_fault(data, clean)
        if why is not None:
            if marks is not None:
                marks[why] += 1
            data = {"unreadable": why}
        out.append(data)
    return out


_CONTAINERS = (dict, list)


def data_fault(data: Any, clean: bool = False) -> str | None:
    """Why one event's data fails the data gate (None if it passes): walked without recursion, so
    a hostile nesting cannot stop the walk. `clean`: already known to hold no binary and to be
    within MAX_DEPTH (only its type is left to check)."""
    if type(data) is not dict:
        return f"data: {_held(data)}, want a map"
    if clean:
        return None
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"data: nested deeper than {MAX_DEPTH} levels"
        items = value.values() if type(value) is dict else value
        if type(value) is dict and not set(map(type, value)) <= _ONLY_STR:
            return "data: a key that is not text"
        for item in items:
            if type(item) is bytes:
                return "data: a binary value, want text"
            if type(item) in _CONTAINERS:
                stack.append((item, depth + 1))
    return None


# -- counting
# -----------------------------------------------------------------------------------------


class DecodeStats:
    """What a reader of a feed took in and turned away, for its status line: messages, events,
    refusals by field (with the last refusal's words), and events whose data was marked."""

    def __init__(self) -> None:
        self.messages = 0
        self.events = 0
        self.refused: Counter[str] = Counter()
        """Messages refused, by the field at fault."""
        self.said: dict[str, str] = {}
        """The last refusal of each field, in full: what it held and what was wanted."""
        self.marked: Counter[str] = Counter()
        """Events taken with their data unreadable, by why."""
        self.ledgers = 0
        """The hub's ledger messages (ledger.py): not events, counted apart."""

    @property
    def bad(self) -> int:
        return sum(self.refused.values())

    def refuse(self, exc: WireError) -> None:
        self.refused[exc.reason] += 1
        self.said[exc.reason] = str(exc)

    def envelope_ok(self, frames: list[bytes]) -> bool:
        """Count one message in; False (and refused) unless it is two frames, topic first."""
        self.messages += 1
        if len(frames) != 2 or frames[0] != TOPIC_EVENTS:
            self.refuse(
                Refused(
                    "envelope", f"{len(frames)} frames" if len(frames) != 2 else "another topic"
                )
            )
            return False
        return True

    def decode(self, frames: list[bytes]) -> list[Event]:
        """The events of one multipart message, counted; refusals counted, never raised."""
        if not self.envelope_ok(frames):
            return []
        try:
            events = decode(frames[1], self.marked)
        except WireError as exc:
            self.refuse(exc)
            return []
        self.events += len(events)
        return events

    def why(self) -> str:
        """The refusals in a few words, most frequent first: `3 ts (ts: float inf, want ...)`."""
        return "; ".join(
            f"{n:,} {self.said.get(field, field)}" for field, n in self.refused.most_common()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "events": self.events,
            "refused": dict(self.refused),
            "refusals": dict(self.said),
            "unreadable_data": dict(self.marked),
        }


def columns_head(payload: bytes) -> BatchHead | None:
    """A 2.x message's head read without the rest (agent, inc, first, last, count), when it is one
    the gate would pass; None otherwise. For counting what is dropped unread: never a verdict on the
    rest."""
    reader = msgpack.Unpacker(max_buffer_size=len(payload) + 1, **LIMITS)
    reader.feed(payload)
    try:
        if reader.read_array_header() < 11 or reader.unpack() // 1000 != COLUMNS_VERSION // 1000:
            return None
        agent, inc, first, last, count = (reader.unpack() for _ in range(5))
        check_agent(agent)
        check_inc(inc)
    except (ValueError, TypeError, msgpack.OutOfData, Refused):
        return None
    if not (
        type(first) is type(last) is type(count) is int
        and 0 <= first <= last < INT63
        and 0 < count <= min(MAX_BATCH_EVENTS, last - first + 1)
    ):
        return None
    return BatchHead(agent, inc, first, last, count)
