"""Reading a session file without reading all of it.

A cleanly closed file ends with a trailer that points at the END block: one
seek gives the whole index and the summary. Otherwise (a crash, or a file
still being written) the reader scans block by block, checking every CRC and
keeping only a sparse index (one entry per block, a few dozen bytes each);
it stops at the first block whose length or CRC is wrong and says how many
bytes it dropped. `refresh()` continues the scan, so a viewer can follow a
session while it is recorded.

Blocks are read with pread() and decoded on demand through small caches, so
any event costs one block and any state one keyframe chain.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.gcpause import bulk_allocation
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.messages import decode_messages
from swarmscope.core.wire.gate import within_depth

BLOCK_CACHE = 8
KEYFRAME_CACHE = 4 * fmt.FULL_KEYFRAME_EVERY
T = TypeVar("T")


class SessionFile:
    """One session file, open for reading: header, index, summary, and blocks on demand."""

    def __init__(self, path: str | Path, *, verify: bool = False) -> None:
        """`verify` ignores the trailer and checks every block (what a repair needs)."""
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise SessionError(f"cannot open {self.path}: {exc.strerror}") from None
        self._events: _LRU[list[Event]] = _LRU(BLOCK_CACHE)
        self._raw_keyframes: _LRU[bytes] = _LRU(KEYFRAME_CACHE)
        try:
            self.version = fmt.check_preamble(self._pread(0, fmt.PREAMBLE.size), self.path.name)
            self.header, self._scan_from = self._read_header()
            self.index = fmt.SessionIndex.empty()
            self.summary: dict[str, Any] | None = None
            self.dropped = 0
            """Bytes after the last good block (damage, or a write in progress)."""
            self.damage: str | None = None
            self.end_offset: int | None = None
            """Where the END block begins, in a cleanly closed file."""
            if verify or not self._read_end():
                self._scan()
        except BaseException:
            os.close(self._fd)
            raise
        self._starts = [info.first for _, info in self.index.blocks]
        self._clocks = [info.clock_hi for _, info in self.index.blocks]

    @property
    def closed_cleanly(self) -> bool:
        return self.summary is not None

    @property
    def scanned_to(self) -> int:
        """Where the last good block ends (for a scanned file): the place a repair cuts."""
        return self._scan_from

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def __len__(self) -> int:
        return self.index.events

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- opening -------------------------------------------------------------------------

    def _read_header(self) -> tuple[dict[str, Any], int]:
        got = self._read_block(fmt.PREAMBLE.size)
        if got is None or got[0] != fmt.HEADER:
            raise SessionError(f"{self.path.name} is damaged: its header block is unreadable")
        header = fmt.unpack(got[1], "header")
        if not isinstance(header, dict) or not isinstance(header.get("id"), str):
            raise SessionError(f"{self.path.name} is damaged: its header has no session id")
        wrong = [
            name
            for name, kinds in fmt.HEADER_FIELDS.items()
            if name in header and type(header[name]) not in kinds
        ]
        if wrong or not all(type(tag) is str for tag in header.get("tags", ())):
            raise SessionError(
                f"{self.path.name} is damaged: its header's {', '.join(wrong) or 'tags'}"
            )
        return header, got[2]

    def _read_end(self) -> bool:
        """Load index and summary through the trailer; False if there is no valid one."""
        size = self.size
        if size < fmt.TRAILER.size:
            return False
        offset = fmt.parse_trailer(self._pread(size - fmt.TRAILER.size, fmt.TRAILER.size))
        got = self._read_block(offset) if offset is not None and offset < size else None
        if got is None or got[0] != fmt.END or got[2] != size - fmt.TRAILER.size:
            return False
        try:
            self.index, self.summary = fmt.decode_end(got[1], size)
        except SessionError:
            return False  # an end that does not hold together: the blocks say it all again
        self.end_offset = offset
        return True

    def _scan(self) -> None:
        """Index every good block from where the last scan stopped; stop at the first bad one."""
        offset, size = self._scan_from, self.size
        while offset < size:
            got = self._read_block(offset)
            if got is None:
                break
            kind, payload, nxt = got
            try:
                self._index_block(kind, payload, offset)
            except SessionError:
                break  # intact bytes that do not make sense: damage all the same
            if kind == fmt.END:
                try:
                    end = fmt.decode_end(payload, size)
                except SessionError:
                    break  # the blocks before it are indexed; the end is the damage
                if end[0].events != self.index.events:
                    break
                self.index, self.summary = end
                self.end_offset = offset
                offset = size if self._has_trailer_at(nxt) else nxt
                break
            offset = nxt
        self._scan_from = offset
        self.dropped = size - offset
        self.damage = (
            (
                f"{self.dropped} bytes at offset {offset} are not a whole, intact block "
                f"(a crash or a write in progress)"
            )
            if self.dropped
            else None
        )

    def _has_trailer_at(self, offset: int) -> bool:
        return (
            offset + fmt.TRAILER.size == self.size
            and fmt.parse_trailer(self._pread(offset, fmt.TRAILER.size)) is not None
        )

    def _index_block(self, kind: int, payload: bytes, offset: int) -> None:
        if kind in fmt.EVENT_BLOCKS:
            info = fmt.events_info(payload)
            if info.first != self.index.events:
                raise SessionError(
                    f"{self.path.name} is damaged: block at {offset} starts at event "
                    f"{info.first}, expected {self.index.events}"
                )
            self.index.blocks.append((offset, info))
        elif kind == fmt.KEYFRAME:
            self.index.keyframes.append((offset, fmt.keyframe_info(payload)))
        elif kind == fmt.BOOKMARK:
            mark = fmt.unpack(payload, "bookmark")
            if not (isinstance(mark, list) and len(mark) == 3):
                raise SessionError("damaged bookmark")
            self.index.bookmarks.append(tuple(mark))

    def refresh(self) -> int:
        """Pick up blocks appended since opening (a session still being recorded); returns new
        events."""
        if self.closed_cleanly:
            return 0
        before = len(self)
        self._scan()
        self._starts = [info.first for _, info in self.index.blocks]
        self._clocks = [info.clock_hi for _, info in self.index.blocks]
        return len(self) - before

    # -- blocks -----------------------------------------------------------------------------

    def _pread(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def _read_block(self, offset: int) -> tuple[int, bytes, int] | None:
        """(type, payload, next offset) of the intact block at `offset`, else None."""
        head = self._pread(offset, fmt.FRAME.size)
        if len(head) < fmt.FRAME.size:
            return None
        length, _, kind = fmt.FRAME.unpack(head)
        if length > fmt.MAX_BLOCK_BYTES or kind not in fmt.BLOCK_NAMES:
            return None
        payload = self._pread(offset + fmt.FRAME.size, length)
        if not fmt.check_frame(head, payload):
            return None
        return kind, payload, offset + fmt.FRAME.size + length

    def _payload(self, offset: int, kind: int) -> bytes:
        return self._block_of_kind(offset, (kind,))[1]

    def _block_of_kind(self, offset: int, kinds: tuple[int, ...]) -> tuple[int, bytes]:
        got = self._read_block(offset)
        if got is None or got[0] not in kinds:
            raise SessionError(
                f"{self.path.name} is damaged: the {' or '.join(map(fmt.BLOCK_NAMES.get, kinds))} "
                f"block at "
                f"offset {offset} fails its check"
            )
        return got[0], got[1]

    def event_block(self, offset: int) -> tuple[int, bytes]:
        """(type, payload) of the EVENTS or MESSAGES block at `offset`."""
        return self._block_of_kind(offset, fmt.EVENT_BLOCKS)

    def block_of(self, i: int) -> int:
        """Which EVENTS block holds event `i` (0 <= i < len)."""
        return bisect_right(self._starts, i) - 1

    def block_events(self, b: int, cached: bool = True) -> list[Event]:
        """The events of EVENTS block number `b`; kept in a small cache unless a pass over the whole
        file says not to (it would only push out what seeks reuse, and age a heap of objects)."""
        offset, _ = self.index.blocks[b]

        def load() -> list[Event]:
            with bulk_allocation():
                return decode_event_block(*self.event_block(offset))

        return self._events.get(offset, load) if cached else load()

    def at_hand(self, b: int) -> bool:
        """Whether block `b`'s events are decoded already: reading them costs no decode."""
        return 0 <= b < len(self.index.blocks) and self.index.blocks[b][0] in self._events

    def block_info(self, b: int) -> fmt.EventsInfo:
        return self.index.blocks[b][1]

    def block_of_clock(self, ts: int) -> int:
        """The first block whose last event's recorded clock is at or past `ts`."""
        return bisect_right(self._clocks, ts - 1)

    def keyframe_before(self, n: int) -> tuple[int, fmt.KeyframeInfo] | None:
        """The keyframe with the most events folded, at most `n`; None if none."""
        keyframes = self.index.keyframes
        lo, hi = 0, len(keyframes)
        while lo < hi:
            mid = (lo + hi) // 2
            if keyframes[mid][1].at <= n:
                lo = mid + 1
            else:
                hi = mid
        return keyframes[lo - 1] if lo else None

    def keyframe_raw(self, offset: int) -> bytes:
        """The msgpack'd snapshot of the keyframe at `offset`, following its delta chain."""

        def load() -> bytes:
            payload = self._payload(offset, fmt.KEYFRAME)
            base = fmt.keyframe_info(payload).base
            if base >= offset:
                raise SessionError(
                    f"{self.path.name} is damaged: keyframe at {offset} refers forward"
                )
            return fmt.keyframe_raw(payload, self.keyframe_raw(base) if base else None)

        return self._raw_keyframes.get(offset, load)

    def keyframe_model(self, n: int) -> tuple[SwarmModel, int]:
        """The model of the keyframe with the most events folded, at most `n`, and that count;
        an empty model and 0 when there is none (a session that began with the swarm)."""
        kf = self.keyframe_before(n)
        if kf is None:
            return SwarmModel(), 0
        offset, info = kf
        raw = self.keyframe_raw(offset)
        snap = fmt.unpack(raw, "keyframe")
        if not within_depth(raw, fmt.KEYFRAME_DEPTH):
            raise SessionError(f"{self.path.name} is damaged: keyframe at {offset} nests too deep")
        try:
            return fmt.model_of_keyframe(snap), info.at
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SessionError(
                f"{self.path.name} is damaged: keyframe at {offset} does not restore"
            ) from exc


def decode_event_block(kind: int, payload: bytes) -> list[Event]:
    return decode_messages(payload) if kind == fmt.MESSAGES else fmt.decode_events(payload)


class _LRU(OrderedDict):
    """A tiny least-recently-used cache keyed by file offset."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def get(self, key: int, load: Callable[[], T]) -> T:  # type: ignore[override]
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = load()
        if len(self) > self.capacity:
            self.popitem(last=False)
        return value
