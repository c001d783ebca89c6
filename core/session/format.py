"""The session file format: one append-only file per recorded run.

Layout::

    MAGIC (8 bytes) | major u16 | minor u16        fixed, so a reader can refuse a newer major first
    block*                                        each: length u32 | crc32 u32 | type u8 | payload
    trailer (16 bytes, clean close only)          offset u64 of the END block | END_MAGIC

The CRC covers the type byte and the payload, so a torn or flipped block is
caught before its payload is trusted. Block types:

- HEADER (first block): msgpack map: id, name, started, host, tags, ...
- EVENTS: a cleartext prefix (first index, count, recorded clock at the first
  and last event, errors, checkpoints) that a scan can index without
  decompressing, then a zstd-compressed, column-wise msgpack batch: since
  3.0 the data maps too are stored column-wise (datacols.py); a 2.0 block
  (its body has one more column) still reads.
- MESSAGES (2.0): the same prefix, then the wire messages a recording hub
  kept, as they came, zstd-compressed (messages.py).
- KEYFRAME: the model's snapshot after `at` events. Most keyframes are zstd
  deltas against the previous keyframe's raw bytes (used as a zstd raw
  dictionary); every FULL_KEYFRAME_EVERY-th is self-contained, which bounds
  the chain a seek must decompress.
- BOOKMARK: a label a person or tool put on an event index.
- END (clean close): the block index, keyframe index, bookmarks and summary.

Why data maps column-wise (3.0): on the demo's workload (100k events, compacted
into blocks of 2,048 at level 9), events take 9.7 bytes/event against 12.2 with
the 2.0 layout, the whole file 12.8 against 15.3 (16.1 as 2.0 compacted it, at
level 5 by mistake); a block decodes in 2.5 ms against 2.2 (gc paused, as the
reader does: the maps are built in Python, from less msgpack), and encodes at
3.0 against 1.1 us/event.

Why zstd and not zlib (measured on 200k simulator events, blocks of 2048):
events are 12.3 bytes/event (zstd level 6, column-wise) against 16.7 for
zlib level 6 row-wise, decompress 2.4x faster; and a keyframe delta is about
10 KiB against 61 KiB for a zlib-compressed full snapshot, which is what
keeps keyframes cheap enough to place every few thousand events. Events use
level 5 (measured on 200k events: 12.6 bytes/event against 12.4 at level 6, for
about a third less compression time, which is the recorder's to spend).
Keyframes since 1.1 hold SwarmModel.compact() rows, smaller and quicker to read
than the 1.0 snapshot() maps. Keyframes use level 6 (on 200k events, 4.2
bytes/event for keyframes every 1,024 events, against 5.2 at level 3) and a
full one every 8th: measured on the 1M-event bench session of format 2.0, a
cold seek's chain of deltas takes 0.26 ms (median; p99 0.55) against 0.45
(p99 1.06) with a full one every 16th, for 4.9 bytes/event against 4.4.

The "recorded clock" of an event is the running maximum of event timestamps
up to it (what SwarmModel.now holds after applying it): it never goes back,
so time-to-index is a binary search, and health is computed against it.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from operator import sub
from typing import Any

import msgpack
import zstandard

from swarmscope.core.errors import SessionError, WireError
from swarmscope.core.events import Event
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session.datacols import pack_datas, summed, unpack_datas
from swarmscope.core.session.summary import checked
from swarmscope.core.wire.gate import (
    ITEM_LIMITS,
    LIMITS,
    MAX_DEPTH,
    MSGPACK_ERRORS,
    gated,
    within_depth,
)

MAGIC = b"SWRMSESS"
END_MAGIC = b"SWRMEND1"
FORMAT_MAJOR = 3
FORMAT_MINOR = 0
"""1.1: keyframes hold SwarmModel.compact() rows; 1.0 files (snapshot() maps) still read. 1.2: those
rows list finished tasks in two queues, ok ("d") and failed ("f"); a 1.1 reader ignores "f". 2.0:
MESSAGES blocks (messages.py), which a 1.x reader cannot count events in: it refuses the
file. 3.0: EVENTS blocks store each event's source (agent and incarnation) as one index, and kinds
and data maps by shape, in columns (datacols.py); 2.x blocks still read. A 2.x reader could count
a 3.0 file's events (the prefix is the same) but would call its EVENTS blocks damaged: the new
major makes it refuse the file and say to upgrade instead."""
HEADER_FIELDS = {
    "name": (str,),
    "started": (int,),
    "host": (str,),
    "tags": (list,),
    "pid": (int,),
    "run": (str, type(None)),
    "part": (int,),
    "source": (str,),
    "continues": (str,),
}
"""A header's fields beside its id (writer.new_header, a recorder's extras), with the types
each may hold: what a reader checks a file's header against."""
KEYFRAME_DEPTH = MAX_DEPTH + 2
"""How deep a keyframe nests: an agent's state (the data gate's bound, less its event's own map)
inside the model's rows, three levels down."""
PREAMBLE = struct.Struct("<8sHH")
FRAME = struct.Struct("<IIB")
"""Payload length, CRC32 of type byte + payload, type."""
TRAILER = struct.Struct("<Q8s")
EVENTS_PREFIX = struct.Struct("<QIqqHH")
"""First index, count, clock at first event, clock at last event, errors, checkpoints."""
KEYFRAME_PREFIX = struct.Struct("<QqQ")
"""Events folded (`at`), recorded clock, offset of the base keyframe (0: self-contained)."""

HEADER, EVENTS, KEYFRAME, BOOKMARK, END, MESSAGES = 1, 2, 3, 4, 5, 6
BLOCK_NAMES = {
    HEADER: "header",
    EVENTS: "events",
    KEYFRAME: "keyframe",
    BOOKMARK: "bookmark",
    END: "end",
    MESSAGES: "messages",
}
EVENT_BLOCKS = (EVENTS, MESSAGES)

MAX_BLOCK_BYTES = 64 * 1024 * 1024
"""A length above this is damage, not data: the reader stops there instead of allocating it."""
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_BLOCK_EVENTS = 10_000_000
"""More events than a block can hold (its bytes bound them far lower): a count past it is damage."""
EVENT_LEVEL = 5
KEYFRAME_LEVEL = 6
FULL_KEYFRAME_EVERY = 8
SUFFIX = ".swarm"

U16 = 0xFFFF


# -- framing ----------------------------------------------------------------------


def frame(kind: int, payload: bytes) -> bytes:
    """One block, ready to append."""
    crc = zlib.crc32(payload, zlib.crc32(bytes((kind,))))
    return FRAME.pack(len(payload), crc, kind) + payload


def check_frame(head: bytes, payload: bytes) -> bool:
    """True if `payload` is the intact body of the frame whose header is `head`."""
    length, crc, kind = FRAME.unpack(head)
    return len(payload) == length and zlib.crc32(payload, zlib.crc32(bytes((kind,)))) == crc


def preamble() -> bytes:
    return PREAMBLE.pack(MAGIC, FORMAT_MAJOR, FORMAT_MINOR)


def check_preamble(raw: bytes, name: str) -> tuple[int, int]:
    """(major, minor) of a file this build can read; SessionError otherwise."""
    if len(raw) < PREAMBLE.size or raw[:8] != MAGIC:
        raise SessionError(f"{name} is not a swarmscope session file")
    _, major, minor = PREAMBLE.unpack(raw[: PREAMBLE.size])
    if major > FORMAT_MAJOR:
        raise SessionError(
            f"{name} is session format {major}.{minor}, newer than this swarmscope reads "
            f"({FORMAT_MAJOR}.x): upgrade swarmscope to open it"
        )
    return major, minor


def trailer(end_offset: int) -> bytes:
    return TRAILER.pack(end_offset, END_MAGIC)


def parse_trailer(raw: bytes) -> int | None:
    """Offset of the END block, or None if `raw` is not a trailer."""
    if len(raw) != TRAILER.size:
        return None
    offset, magic = TRAILER.unpack(raw)
    return offset if magic == END_MAGIC else None


# -- plain msgpack payloads (header, bookmark, end) ---------------------------------


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj)


def unpack(payload: bytes, what: str) -> Any:
    """Decode untrusted msgpack; a SessionError names `what` was damaged."""
    try:
        return msgpack.unpackb(payload, strict_map_key=False)
    except (ValueError, TypeError, msgpack.StackError, msgpack.ExtraData) as exc:
        raise SessionError(f"damaged {what}: {exc or type(exc).__name__}") from exc


# -- event blocks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventsInfo:
    """The cleartext prefix of an EVENTS block: what a scan indexes without decompressing."""

    first: int
    count: int
    clock_lo: int
    clock_hi: int
    errors: int
    checkpoints: int


def encode_events(
    first: int, events: list[Event], clock_before: int, level: int = EVENT_LEVEL
) -> tuple[bytes, int]:
    """The payload of an EVENTS block, and the recorded clock after its last event.

    Column-wise (3.0): timestamps as steps from the one before (the first from
    0); each event's source (agent and incarnation, which go together) as an
    index into a table of them; seq as the step from the agent's previous
    event; kinds and data maps as shapes and columns (datacols.py). zstd finds
    far more to share in columns than in rows. Columns are built with C-level
    helpers; only seq needs a loop of its own.
    """
    ts, names, seqs, kinds, datas, incs = zip(*events)
    sources = _table(zip(names, incs))
    clock_lo, clock = max(clock_before, ts[0]), max(clock_before, max(ts))
    body = msgpack.packb(
        [
            [name for name, _ in sources],
            [inc for _, inc in sources],
            [ts[0], *map(sub, ts[1:], ts)],
            list(map(sources.__getitem__, zip(names, incs))),
            _steps(names, seqs),
            *pack_datas(kinds, datas),
        ]
    )
    prefix = EVENTS_PREFIX.pack(
        first,
        len(events),
        clock_lo,
        clock,
        min(kinds.count("error"), U16),
        min(kinds.count("checkpoint"), U16),
    )
    return prefix + compress(body, level), clock


def _table(values: Iterable[Any]) -> dict:
    """Each distinct value -> its index, in first-seen order."""
    return {v: k for k, v in enumerate(dict.fromkeys(values))}


def _steps(names: tuple, seqs: tuple) -> list[int]:
    """Each event's seq as the step after its agent's previous one in the block, less one (mostly
    0); an agent's first seq in the block is kept whole. The inverse of _seqs()."""
    last: dict[str, int] = {}
    out: list[int] = []
    for name, seq in zip(names, seqs):
        before = last.get(name)
        out.append(seq if before is None else seq - before - 1)
        last[name] = seq
    return out


def events_info(payload: bytes) -> EventsInfo:
    if len(payload) < EVENTS_PREFIX.size:
        raise SessionError("damaged events block: too short")
    return EventsInfo(*EVENTS_PREFIX.unpack_from(payload))


LAYOUT_2_0, LAYOUT_2_1 = 10, 9
"""How many columns an EVENTS block's body has, in each layout: what tells a 2.0 block from a 3.0
block (the file's minor version is not at hand where a block is decoded, and need not be)."""


def decode_events(payload: bytes) -> list[Event]:
    """The events of one EVENTS block (SessionError if the block does not hold together), each
    event's data through the gate's data layer (gate.py), as a MESSAGES block's are.

    Column by column with C-level helpers (accumulate, map, tuple.__new__):
    this runs for every seek, so it is kept to the one loop seq needs.
    """
    info = events_info(payload)
    body, clean = _unpacked_events(decompress(payload[EVENTS_PREFIX.size :]))
    try:
        if type(body) is not list or len(body) not in (LAYOUT_2_0, LAYOUT_2_1):
            raise ValueError("not an events block's columns")
        unpack = _columns_2_0 if len(body) == LAYOUT_2_0 else _columns_2_1
        ts, names, steps, kinds, datas, incs, keyed = unpack(body, info.count)
        if not all_of(int, steps):
            raise ValueError("seq steps that are not ints")
        datas = gated(datas, info.count, clean and keyed, None)
        columns = zip(ts, names, _seqs(names, steps), kinds, datas, incs)
        return list(map(_new_event, columns))
    except (ValueError, TypeError, IndexError, KeyError, WireError) as exc:
        raise SessionError(f"damaged events block: {exc}") from exc


Columns = tuple[Iterable[int], list[str], list, list[str], list, list[int], bool]
"""Timestamps, agents, seq steps, kinds, data, incarnations, and whether the data is all maps
keyed by text."""


def _columns_2_0(body: list, count: int) -> Columns:
    """A 2.0 block's columns: a table each for agents, kinds and incarnations, data row-wise."""
    ts0, agents, kinds, incs, dts, ai, ki, steps, ii, datas = body
    if not len(dts) == len(ai) == len(ki) == len(steps) == len(ii) == count:
        raise ValueError("columns disagree on the event count")
    if not (
        type(ts0) is int
        and all_of(int, dts)
        and all_of(str, agents)
        and all_of(str, kinds)
        and all_of(int, incs)
    ):
        raise ValueError("fields of the wrong type")
    stamps = accumulate(dts, initial=ts0)
    next(stamps)
    names = [agents[a] for a in ai]
    return stamps, names, steps, [kinds[k] for k in ki], datas, [incs[i] for i in ii], True


def _columns_2_1(body: list, count: int) -> Columns:
    """A 3.0 block's columns: a table of sources (agent, incarnation), kinds and data by shape."""
    agents, incs, ts_steps, si, steps, *data = body
    if not len(ts_steps) == len(si) == len(steps) == count:
        raise ValueError("columns disagree on the event count")
    if not (all_of(str, agents) and all_of(int, incs) and len(agents) == len(incs)):
        raise ValueError("sources of the wrong type")
    if not all_of(int, si) or min(si, default=0) < 0:
        raise ValueError("a source index that is not one")
    kinds, datas, keyed = unpack_datas(*data, count)
    ts = summed(ts_steps)
    names, incs = list(map(agents.__getitem__, si)), list(map(incs.__getitem__, si))
    return ts, names, steps, kinds, datas, incs, keyed


def _unpacked_events(body: bytes) -> tuple[Any, bool]:
    """An EVENTS block's columns, and whether its data is clean (see gate.decode)."""
    try:
        columns = msgpack.unpackb(body, **LIMITS)
    except MSGPACK_ERRORS:
        pass
    else:
        return columns, within_depth(body, _data_depth(columns))
    try:
        return msgpack.unpackb(body, **ITEM_LIMITS), False
    except MSGPACK_ERRORS as exc:
        raise SessionError(f"damaged events block: {exc or type(exc).__name__}") from None


def _data_depth(columns: Any) -> int:
    """How deep a block may nest for its data to be within MAX_DEPTH: a 2.0 block's map is an item
    of its data column (depth 3), so a value in it at depth 4; a 3.0 block's values are items of a
    column in the list of columns, at depth 5 (a nested map's, deeper still: such data may be
    walked by the gate though it is within MAX_DEPTH, never passed though it is not)."""
    return MAX_DEPTH + (2 if type(columns) is list and len(columns) == LAYOUT_2_0 else 3)


def all_of(kind: type, values: list) -> bool:
    """Every value exactly of type `kind`; the loop runs in C (a generator here cost ~0.3
    us/event)."""
    return set(map(type, values)) <= {kind}


_new_event = partial(tuple.__new__, Event)


def _seqs(names: list[str], steps: list[int]) -> list[int]:
    """Each agent's seq from its step after the agent's previous event in the block (its first is
    stored whole)."""
    last: dict[str, int] = {}
    out: list[int] = []
    for name, step in zip(names, steps):
        before = last.get(name)
        last[name] = seq = step if before is None else before + 1 + step
        out.append(seq)
    return out


# -- keyframes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyframeInfo:
    at: int
    """Events folded into this snapshot: it is the state right after event at - 1."""
    clock: int
    base: int
    """File offset of the keyframe this one is a delta against; 0 if self-contained."""


def encode_keyframe(
    at: int,
    clock: int,
    raw: bytes,
    base_offset: int,
    base_raw: bytes | None,
    level: int = KEYFRAME_LEVEL,
) -> bytes:
    """A KEYFRAME payload for the msgpack'd snapshot `raw`, as a delta against `base_raw` if
    given."""
    prefix = KEYFRAME_PREFIX.pack(at, clock, base_offset if base_raw is not None else 0)
    return prefix + _compressor(level, base_raw).compress(raw)


def with_base(payload: bytes, base_offset: int) -> bytes:
    """A delta KEYFRAME payload made before its base was written, pointed at where the base now
    is."""
    at, clock, _ = KEYFRAME_PREFIX.unpack_from(payload)
    return KEYFRAME_PREFIX.pack(at, clock, base_offset) + payload[KEYFRAME_PREFIX.size :]


def keyframe_info(payload: bytes) -> KeyframeInfo:
    if len(payload) < KEYFRAME_PREFIX.size:
        raise SessionError("damaged keyframe: too short")
    return KeyframeInfo(*KEYFRAME_PREFIX.unpack_from(payload))


def model_of_keyframe(snap: Any) -> SwarmModel:
    """The model a keyframe's unpacked snapshot holds: compact() rows (1.1) or a snapshot() map
    (1.0)."""
    if isinstance(snap, dict) and "agents" in snap:
        return SwarmModel.restore(snap)
    return SwarmModel.from_compact(snap)


def keyframe_raw(payload: bytes, base_raw: bytes | None) -> bytes:
    """The msgpack'd snapshot inside a KEYFRAME payload (`base_raw` for a delta)."""
    return decompress(payload[KEYFRAME_PREFIX.size :], base_raw)


# -- zstd ------------------------------------------------------------------------------------

_LOCAL = threading.local()
"""zstd contexts are not thread-safe: one set per thread (the hub records on its tap thread)."""


def _compressor(level: int, dictionary: bytes | None = None) -> zstandard.ZstdCompressor:
    if dictionary is not None:
        return zstandard.ZstdCompressor(level=level, dict_data=_raw_dict(dictionary))
    cache = getattr(_LOCAL, "compressors", None)
    if cache is None:
        cache = _LOCAL.compressors = {}
    if level not in cache:
        cache[level] = zstandard.ZstdCompressor(level=level)
    return cache[level]


def _raw_dict(content: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress(data: bytes, level: int) -> bytes:
    return _compressor(level).compress(data)


def decompress(data: bytes, dictionary: bytes | None = None) -> bytes:
    """A block's bytes, never more than MAX_DECOMPRESSED_BYTES: a frame that says it holds more (its
    header damaged) is refused before anything is allocated for it."""
    try:
        if zstandard.frame_content_size(data) > MAX_DECOMPRESSED_BYTES:
            raise SessionError("damaged block: it says it holds more than a block can")
        if dictionary:
            dctx = zstandard.ZstdDecompressor(dict_data=_raw_dict(dictionary))
        else:
            dctx = getattr(_LOCAL, "dctx", None) or _new_dctx()
        return dctx.decompress(data, max_output_size=MAX_DECOMPRESSED_BYTES)
    except zstandard.ZstdError as exc:
        raise SessionError(f"damaged block: cannot decompress ({exc})") from exc


def _new_dctx() -> zstandard.ZstdDecompressor:
    _LOCAL.dctx = zstandard.ZstdDecompressor()
    return _LOCAL.dctx


# -- the END block ------------------------------------------------------------------------------


@dataclass
class SessionIndex:
    """Where everything is: what a clean close stores, and what a scan rebuilds."""

    blocks: list[tuple[int, EventsInfo]]
    """(file offset, prefix) of every EVENTS and MESSAGES block, in order."""
    keyframes: list[tuple[int, KeyframeInfo]]
    bookmarks: list[tuple[int, str, int]]
    """(event index, label, recorded clock)."""

    @classmethod
    def empty(cls) -> SessionIndex:
        return cls([], [], [])

    @property
    def events(self) -> int:
        if not self.blocks:
            return 0
        last = self.blocks[-1][1]
        return last.first + last.count

    def to_plain(self) -> dict[str, Any]:
        return {
            "blocks": [[off, *_fields(info)] for off, info in self.blocks],
            "keyframes": [[off, *_fields(info)] for off, info in self.keyframes],
            "bookmarks": [list(b) for b in self.bookmarks],
        }

    @classmethod
    def from_plain(cls, plain: Any, file_size: int) -> SessionIndex:
        """The index an END block stores, checked as a scan would build it (blocks in order, each
        starting where the one before ended, within the file; keyframes in order, at events the
        blocks hold); SessionError if it does not hold together."""
        try:
            index = cls(
                [(row[0], EventsInfo(*row[1:7])) for row in plain["blocks"]],
                [(row[0], KeyframeInfo(*row[1:4])) for row in plain["keyframes"]],
                [(int(at), str(label), int(clock)) for at, label, clock in plain["bookmarks"]],
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SessionError(f"damaged index: {exc}") from exc
        why = index._fault(file_size)
        if why is not None:
            raise SessionError(f"damaged index: {why}")
        return index

    def _fault(self, file_size: int) -> str | None:
        """What makes this index one no scan could have built, if anything."""
        at, offset = 0, 0
        for off, info in self.blocks:
            if not all(type(v) is int for v in (off, *_fields(info))):
                return "a block entry that is not numbers"
            if not (
                offset < off < file_size and info.first == at and 0 < info.count <= MAX_BLOCK_EVENTS
            ):
                return f"a block at {off} out of place"
            at, offset = at + info.count, off
        offset, folded = 0, 0
        for off, info in self.keyframes:
            if not all(type(v) is int for v in (off, *_fields(info))):
                return "a keyframe entry that is not numbers"
            if not (offset < off < file_size and folded <= info.at <= at and 0 <= info.base < off):
                return f"a keyframe at {off} out of place"
            offset, folded = off, info.at
        return None


def _fields(info: Any) -> list[Any]:
    return [getattr(info, name) for name in info.__slots__]


def encode_end(index: SessionIndex, summary: dict[str, Any]) -> bytes:
    return pack({"index": index.to_plain(), "summary": summary})


def decode_end(payload: bytes, file_size: int) -> tuple[SessionIndex, dict[str, Any]]:
    end = unpack(payload, "end block")
    if not isinstance(end, dict):
        raise SessionError("damaged end block")
    return SessionIndex.from_plain(end.get("index"), file_size), checked(end.get("summary"))
