"""Writing a session file: append-only, flushed often enough that a crash loses little.

Events are buffered and written as one EVENTS block when the buffer is full
or its oldest event has waited `flush_interval` (50 ms): every write goes
straight to the OS (no user-space buffer), so `kill -9` loses at most that
window. The writer folds every written event into its own SwarmModel, which gives
keyframes (every `keyframe_every` events or `keyframe_seconds` of recorded
time, keyframes.py) and the summary written at a clean close. (A recording
hub writes with a MessageWriter instead, which leaves the folding to another
process; both append blocks through a BlockAppender.)

A session that continues another (the next part of a rotated recording)
starts from the swarm as the other ended: its first block is a keyframe at
event 0 holding that model, so a replay of part 5 knows every agent's role,
status, task, progress and state from its first event instead of only what
part 5 itself saw (patches landing on an empty state, agents silent since
part 4 missing altogether). Its counters start at zero (`carried_over`):
the summary counts what the file holds, and `e` finds every error the
header counts.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.keyframes import KEYFRAME_EVERY, KEYFRAME_SECONDS, Keyframing
from swarmscope.core.session.summary import summarize

BLOCK_EVENTS = 1024
FLUSH_INTERVAL = 0.05
"""The longest an event waits in a writer: with the 50 ms an Emitter batches for, an event is on
disk within 100 ms of being emitted, all a kill -9 can take."""


def new_header(name: str | None = None, tags: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """The HEADER block's fields for a session starting now."""
    return {
        "id": uuid.uuid4().hex,
        "name": name or "session",
        "started": time.time_ns(),
        "host": socket.gethostname(),
        "tags": list(tags),
        "pid": os.getpid(),
        **extra,
    }


class BlockAppender:
    """A new session file, a whole block per write(2), and the index its clean close writes."""

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any] | None,
        flush_interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.path = Path(path)
        self.flush_interval, self._clock = flush_interval, clock
        self._buffer: list = []
        """What waits for the next block (events, or kept messages)."""
        self._oldest = 0.0
        self.header = header or new_header()
        self.index = fmt.SessionIndex.empty()
        self.closed = False
        self.bytes = 0
        self._keyframe_at = 0
        """Offset of the last keyframe written: the base of a delta written next."""
        self._fd = _create(self.path)
        self._write(fmt.preamble())
        self._write_block(fmt.HEADER, fmt.pack(self.header))

    def _buffer_more(self, items: list) -> None:
        """Add to what waits for the next block; the flush window runs from the oldest of it."""
        if not self._buffer:
            self._oldest = self._clock()
        self._buffer += items

    def flush_due(self) -> bool:
        return bool(self._buffer) and self._clock() - self._oldest >= self.flush_interval

    def flush_in(self) -> float | None:
        """Seconds until what is buffered is due (0 if it is), None if nothing is."""
        return (
            max(0.0, self._oldest + self.flush_interval - self._clock()) if self._buffer else None
        )

    @property
    def clock(self) -> int:
        """The recorded clock after the last event written."""
        return self.index.blocks[-1][1].clock_hi if self.index.blocks else 0

    def _write_events(self, kind: int, payload: bytes) -> None:
        offset = self._write_block(kind, payload)
        self.index.blocks.append((offset, fmt.events_info(payload)))

    def _write_keyframe(self, payload: bytes, delta: bool) -> None:
        if delta:
            payload = fmt.with_base(payload, self._keyframe_at)
        self._keyframe_at = self._write_block(fmt.KEYFRAME, payload)
        self.index.keyframes.append((self._keyframe_at, fmt.keyframe_info(payload)))

    def _end(self, summary: dict[str, Any]) -> None:
        """The END block and the trailer, synced: the file is whole."""
        end = self.bytes
        self._write_block(fmt.END, fmt.encode_end(self.index, summary))
        self._write(fmt.trailer(end))
        os.fsync(self._fd)
        os.close(self._fd)
        self.closed = True

    def abandon(self) -> None:
        """Close the file without an END block and delete it (a session a policy chose not to
        keep)."""
        if not self.closed:
            os.close(self._fd)
            self.closed = True
        self.path.unlink(missing_ok=True)

    def _write_block(self, kind: int, payload: bytes) -> int:
        if len(payload) > fmt.MAX_BLOCK_BYTES:
            raise SessionError(
                f"a {fmt.BLOCK_NAMES[kind]} block of {len(payload)} bytes "
                "is over the format's limit"
            )
        offset = self.bytes
        self._write(fmt.frame(kind, payload))
        return offset

    def _write(self, data: bytes) -> None:
        """One write(2) per block: what the OS has survives a kill -9 of this process."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.bytes += len(data)


class SessionWriter(BlockAppender):
    """Appends events to a new session file; `close()` writes the index, summary and trailer."""

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any] | None = None,
        *,
        block_events: int = BLOCK_EVENTS,
        keyframe_every: int = KEYFRAME_EVERY,
        keyframe_seconds: float = KEYFRAME_SECONDS,
        flush_interval: float = FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        start: SwarmModel | None = None,
    ) -> None:
        """`start`: the swarm as it stood when this session began (the model of the session it
        continues), written as a keyframe at event 0; None for a swarm seen from its start."""
        super().__init__(path, header, flush_interval, clock)
        self.block_events = block_events
        self.frames = Keyframing(start, keyframe_every, keyframe_seconds)
        if start is not None:
            self._write_keyframe(*self.frames.keyframe())

    @property
    def model(self) -> SwarmModel:
        """Every event written so far, folded."""
        return self.frames.model

    @property
    def events(self) -> int:
        """Events appended so far (written or still buffered)."""
        return self.frames.folded + len(self._buffer)

    # -- appending -----------------------------------------------------------------

    def append(self, events: Iterable[Event]) -> None:
        """Take events in recorded order; write a block when one is full or due."""
        events = list(events)
        if not events:
            return
        self._buffer_more(events)
        if len(self._buffer) >= self.block_events:
            self.flush(whole_blocks=True)
        if self.flush_due():
            self.flush()

    def tick(self) -> None:
        """Call often (every 50 ms or so) when events may stop coming: flushes a due buffer."""
        if self.flush_due():
            self.flush()

    def flush(self, whole_blocks: bool = False) -> None:
        """Write buffered events, with a keyframe wherever one falls due.

        Blocks end where keyframes go, so keyframes sit exactly every
        interval and no seek applies more than that. With `whole_blocks`,
        a remainder shorter than a block waits for more events (or its
        deadline), so blocks stay full (measured on 200k events: event
        blocks 13.8 bytes/event against 14.5 with the short ones a remainder made).
        """
        buffer, start = self._buffer, 0
        while start < len(buffer):
            room = min(self.block_events, self.frames.room())
            if whole_blocks and len(buffer) - start < room:
                break
            chunk = buffer[start : start + room]
            start += len(chunk)
            before = self.clock
            self.frames.fold(chunk)
            self._write_events(
                fmt.EVENTS, fmt.encode_events(self.frames.folded - len(chunk), chunk, before)[0]
            )
            if self.frames.due():
                self._write_keyframe(*self.frames.keyframe())
        self._buffer = buffer[start:]

    def bookmark(self, label: str, at: int | None = None) -> None:
        """Mark event index `at` (default: the last one appended) with `label`."""
        self.flush()
        at = self.frames.folded - 1 if at is None else at
        entry = (at, label, self.model.now)
        self._write_block(fmt.BOOKMARK, fmt.pack(list(entry)))
        self.index.bookmarks.append(entry)

    def close(self) -> dict[str, Any]:
        """Flush, write the END block and the trailer; returns the summary. Safe to call twice."""
        if self.closed:
            return self.summary()
        self.flush()
        summary = self.summary()
        self._end(summary)
        return summary

    def model_now(self) -> SwarmModel:
        """A copy of the model with every event appended so far folded in, written or not."""
        model = self.model.copy()
        model.apply_many(self._buffer)
        return model

    def summary(self) -> dict[str, Any]:
        return summarize(self.model, self.frames.first_ts)

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create(path: Path) -> int:
    """Open a new file for appending; never overwrite a session. The writer holds a lock on it
    until it closes the file (see being_recorded)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    except FileExistsError:
        raise SessionError(f"{path} already exists; choose another --out or remove it") from None
    except OSError as exc:
        raise SessionError(f"cannot create {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # a reader probing this very instant, or a file system without locks: record anyway
    return fd


def being_recorded(path: str | Path) -> bool:
    """Whether a writer has `path` open now. A file without an end is either being recorded or
    left by a recorder that died; only the writer's lock tells them apart, because the kernel
    drops it with the process (kill -9 too), where a pid in the header may have been reused.
    Files written before writers took the lock, or on another machine's mount, read False."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # with it goes the shared lock the probe took
    return False
