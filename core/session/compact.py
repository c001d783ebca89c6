"""Compaction: a closed session rewritten in big column blocks, for its life on disk.

A recorder writes a block at least every 50 ms, so a kill -9 loses little (writer.py). At the
demo's 60 events a second that is a block of about six events, and such blocks compress badly:
a recorded demo took 80 bytes an event, four times what gzip'd JSON lines of the same events
take (docs/benchmarks.md#sessions). Once the file is closed nothing needs small blocks, so the
recorder's keyframer rewrites it (keyframer.py), and `swarmscope sessions compact` does the same
for any closed file:

- events in EVENTS blocks of COMPACT_BLOCK, column-wise at COMPACT_LEVEL (format.encode_events);
- keyframes folded anew at the end of each block (a seek decodes the one block it lands in),
  bookmarks as they were, the same header and summary;
- every new block decoded and compared with the events it must hold before the file replaces
  the old one (os.replace, under the lock a bookmark takes: a reader with the old file open
  reads it to its end; a crash part way leaves the old file and a hidden `.compacting` file).
"""

from __future__ import annotations

import fcntl
import glob
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgpack

from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.session import format as fmt
from swarmscope.core.session.keyframes import Keyframing
from swarmscope.core.session.reader import SessionFile
from swarmscope.core.session.writer import BlockAppender

COMPACT_BLOCK = 2048
COMPACT_LEVEL = 9
"""Measured on a recorded demo (6,154 events): blocks of 2,048 at level 9 take 12.0 bytes/event
for events, against 12.8 at level 5, 13.0 for blocks of 1,024 at level 9, and 11.7 for 4,096
(whose seeks would decode twice the events). Until 3.0 the compactor wrote at the recorder's
EVENT_LEVEL (5) all the same: 13.0 bytes/event for the demo's events, against 12.2 at this level."""


@dataclass(frozen=True)
class Compacted:
    path: Path
    events: int
    before: int
    """Bytes on disk before, and after."""
    after: int


def needs_compacting(f: SessionFile) -> bool:
    """A closed file with more blocks than its events need (a compact file has ceil(n / block))."""
    return f.closed_cleanly and len(f.index.blocks) > -(-len(f) // COMPACT_BLOCK)


def compact(path: str | Path) -> Compacted | None:
    """Rewrite the closed session at `path` in big blocks; None if it already is. SessionError if
    it is not closed cleanly (a repair comes first) or a new block would not give back its
    events; the file is then left as it was."""
    path = Path(path)
    with locked(path) as held:
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.compacting"):
            stale.unlink(missing_ok=True)  # a compaction cut short: none runs while this holds
        f = SessionFile(path)
        try:
            if not f.closed_cleanly:
                raise SessionError(
                    f"{path.name} is not closed (still being written, or crashed: "
                    "`swarmscope sessions repair` closes it)"
                )
            if not needs_compacting(f):
                return None
            before = f.size
            tmp = path.with_name(f".{path.name}.{os.getpid()}.compacting")
            try:
                _rewrite(f, tmp)
                if not _is_at(path, held):  # deleted meanwhile (sessions cleanup): keep it so
                    tmp.unlink()
                    return None
                os.chmod(tmp, os.fstat(held.fileno()).st_mode & 0o777)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return Compacted(path, len(f), before, os.stat(path).st_size)
        finally:
            f.close()


@contextmanager
def locked(path: Path) -> Iterator[BinaryIO]:
    """`path` open and exclusively locked, as the file now at `path`: a compaction may have put a
    new file there while this waited for the lock on the old one."""
    while True:
        try:
            out = open(path, "r+b")  # noqa: SIM115 (closed below, or by the with)
        except OSError as exc:
            raise SessionError(f"cannot open {path}: {exc.strerror}") from None
        fcntl.flock(out, fcntl.LOCK_EX)
        if _is_at(path, out):
            break
        out.close()  # replaced or removed while this waited: open what is there now
    with out:
        yield out


def _is_at(path: Path, held: BinaryIO) -> bool:
    """Whether the file open as `held` is still the one at `path`."""
    try:
        return os.fstat(held.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _rewrite(f: SessionFile, tmp: Path) -> None:
    """`f`'s events and bookmarks into a new file at `tmp`, with keyframes folded anew at the end
    of each block, closed with `f`'s summary."""
    continues = f.keyframe_before(0) is not None  # its first keyframe is at event 0
    start = f.keyframe_model(0)[0] if continues else None
    frames = Keyframing(start, COMPACT_BLOCK, level=COMPACT_LEVEL)
    out = _Compactor(tmp, f.header)
    try:
        if start is not None:  # the swarm as the session it continues left it
            out.keyframe(*frames.keyframe())
        for first, events in _chunks(f):
            out.events(first, events)
            frames.fold(events)
            if frames.due():
                out.keyframe(*frames.keyframe())
        for entry in f.index.bookmarks:
            out.bookmark(entry)
        out.end(f.summary or {})
    except BaseException:
        out.abandon()
        raise


class _Compactor(BlockAppender):
    """The new file: blocks as they are handed over, no buffering (it is not a recording)."""

    def __init__(self, path: Path, header: dict) -> None:
        super().__init__(path, header, 0.0, time.monotonic)

    def events(self, first: int, events: list[Event]) -> None:
        payload, _ = fmt.encode_events(first, events, self.clock, COMPACT_LEVEL)
        _check(payload, events, first)
        self._write_events(fmt.EVENTS, payload)

    def keyframe(self, payload: bytes, delta: bool) -> None:
        self._write_keyframe(payload, delta)

    def bookmark(self, entry: tuple[int, str, int]) -> None:
        self._write_block(fmt.BOOKMARK, fmt.pack(list(entry)))
        self.index.bookmarks.append(entry)

    def end(self, summary: dict) -> None:
        self._end(summary)


def _chunks(f: SessionFile) -> Iterator[tuple[int, list[Event]]]:
    """The file's events in runs of COMPACT_BLOCK (the last may be shorter), with their first
    index."""
    buffer: list[Event] = []
    first = 0
    for b in range(len(f.index.blocks)):
        buffer += f.block_events(b, cached=False)
        while len(buffer) >= COMPACT_BLOCK:
            yield first, buffer[:COMPACT_BLOCK]
            buffer, first = buffer[COMPACT_BLOCK:], first + COMPACT_BLOCK
    if buffer:
        yield first, buffer


def _check(payload: bytes, events: list[Event], first: int) -> None:
    """The new block gives back exactly `events` (compared packed where they differ: a NaN equals
    itself there)."""
    back = fmt.decode_events(payload)
    if back != events and msgpack.packb(back) != msgpack.packb(events):
        raise SessionError(
            f"compacting would change events {first:,} to {first + len(events) - 1:,}; "
            "the file is left as it was"
        )
