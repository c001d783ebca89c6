"""Writing a session file: append-only, flushed often enough that a crash loses little.

Events are buffered and written as one EVENTS block when the buffer is full
or its oldest event has waited `flush_interval` (100 ms): every write goes
straight to the OS (no user-space buffer), so `kill -9` loses at most that
window. The writer folds every written event into its own SwarmModel, which gives
keyframes (every `keyframe_every` events or `keyframe_seconds` of recorded
time) and the summary written at a clean close.

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

import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

from . import session_format as fmt
from .errors import SessionError
from .events import Event
from .model import COUNTERS, SwarmModel
from .session_summary import summarize

BLOCK_EVENTS = 1024
KEYFRAME_EVERY = 1024
"""Events between keyframes, at least: a cold seek restores one keyframe and folds at most this many.
Measured on 200k simulator events (12 agents): seek p99 3.7 ms at 1,024 against 5.0 at 2,048,
for 18.8 against 16.7 bytes/event."""
KEYFRAME_PER_AGENT = 4
"""And at least this many events per agent in the model: a keyframe's bytes and restore time grow
with the agents it holds (1,000 agents at 1,024: 49 bytes/event, recorder at half speed, and no
quicker seek, since the restore then dominates), so a big swarm spaces its keyframes out."""
KEYFRAME_SECONDS = 60.0
FLUSH_INTERVAL = 0.1


def new_header(name: str | None = None, tags: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """The HEADER block's fields for a session starting now."""
    return {
        "id": uuid.uuid4().hex, "name": name or "session", "started": time.time_ns(),
        "host": socket.gethostname(), "tags": list(tags), "pid": os.getpid(), **extra,
    }


class SessionWriter:
    """Appends events to a new session file; `close()` writes the index, summary and trailer."""

    def __init__(self, path: str | Path, header: dict[str, Any] | None = None, *,
                 block_events: int = BLOCK_EVENTS, keyframe_every: int = KEYFRAME_EVERY,
                 keyframe_seconds: float = KEYFRAME_SECONDS, flush_interval: float = FLUSH_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, start: SwarmModel | None = None) -> None:
        """`start`: the swarm as it stood when this session began (the model of the session it
        continues), written as a keyframe at event 0; None for a swarm seen from its start."""
        self.path = Path(path)
        self.header = header or new_header()
        self.block_events, self.keyframe_every = block_events, keyframe_every
        self.keyframe_ns, self.flush_interval, self._clock = int(keyframe_seconds * 1e9), flush_interval, clock
        self.model = carried_over(start) if start is not None else SwarmModel()
        self.index = fmt.SessionIndex.empty()
        self.closed = False
        self._buffer: list[Event] = []
        self._oldest = 0.0
        self._first_ts: int | None = None
        self._kf_at, self._kf_clock = 0, 0
        self._kf_base: tuple[int, bytes] | None = None
        """(offset, raw snapshot) of the keyframe the next one is a delta against."""
        self._written = 0
        self._fd = _create(self.path)
        self.bytes = 0
        self._write(fmt.preamble())
        self._write_block(fmt.HEADER, fmt.pack(self.header))
        if start is not None:
            self._write_keyframe()

    @property
    def events(self) -> int:
        """Events appended so far (written or still buffered)."""
        return self._written + len(self._buffer)

    # -- appending -----------------------------------------------------------------

    def append(self, events: Iterable[Event]) -> None:
        """Take events in recorded order; write a block when one is full or due."""
        events = list(events)
        if not events:
            return
        if self._first_ts is None:
            self._first_ts = self._kf_clock = events[0].ts
        if not self._buffer:
            self._oldest = self._clock()
        self._buffer.extend(events)
        if len(self._buffer) >= self.block_events:
            self.flush(whole_blocks=True)
        if self.flush_due():
            self.flush()

    def flush_due(self) -> bool:
        return bool(self._buffer) and self._clock() - self._oldest >= self.flush_interval

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
            interval = max(self.keyframe_every, KEYFRAME_PER_AGENT * len(self.model.agents))
            room = min(self.block_events, interval - (self._written - self._kf_at))
            if whole_blocks and len(buffer) - start < room:
                break
            chunk = buffer[start:start + room]
            start += len(chunk)
            self.model.apply_many(chunk)
            self._write_events(chunk)
            since = self._written - self._kf_at
            if since >= interval or self.model.now - self._kf_clock >= self.keyframe_ns:
                self._write_keyframe()
        self._buffer = buffer[start:]

    def begin_with(self, start: SwarmModel, already_in: Callable[[Event], bool]) -> int | None:
        """Start from `start` after all, as if given to the constructor: a recorder that joined a
        running swarm, once the hub has said how it stood. Only while no event is written yet
        (within the first flush window): buffered events `already_in` it are dropped, and counted
        in what it returns. None if too late."""
        if self._written or self.index.keyframes:
            return None
        kept = [e for e in self._buffer if not already_in(e)]
        dropped, self._buffer = len(self._buffer) - len(kept), kept
        self.model = carried_over(start)
        self._write_keyframe()
        return dropped

    def bookmark(self, label: str, at: int | None = None) -> None:
        """Mark event index `at` (default: the last one appended) with `label`."""
        self.flush()
        at = self._written - 1 if at is None else at
        entry = (at, label, self.model.now)
        self._write_block(fmt.BOOKMARK, fmt.pack(list(entry)))
        self.index.bookmarks.append(entry)

    def close(self) -> dict[str, Any]:
        """Flush, write the END block and the trailer; returns the summary. Safe to call twice."""
        if self.closed:
            return self.summary()
        self.flush()
        summary = self.summary()
        end = self.bytes
        self._write_block(fmt.END, fmt.encode_end(self.index, summary))
        self._write(fmt.trailer(end))
        os.fsync(self._fd)
        os.close(self._fd)
        self.closed = True
        return summary

    def model_now(self) -> SwarmModel:
        """A copy of the model with every event appended so far folded in, written or not."""
        model = self.model.copy()
        model.apply_many(self._buffer)
        return model

    def summary(self) -> dict[str, Any]:
        return summarize(self.model, self._first_ts)

    def abandon(self) -> None:
        """Close the file without an END block and delete it (a session a policy chose not to keep)."""
        if not self.closed:
            os.close(self._fd)
            self.closed = True
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blocks ---------------------------------------------------------------------

    def _write_events(self, chunk: list[Event]) -> None:
        clock_before = self.index.blocks[-1][1].clock_hi if self.index.blocks else 0
        payload, _ = fmt.encode_events(self._written, chunk, clock_before)
        offset = self._write_block(fmt.EVENTS, payload)
        self.index.blocks.append((offset, fmt.events_info(payload)))
        self._written += len(chunk)

    def _write_keyframe(self) -> None:
        raw = fmt.pack(self.model.compact())
        full = len(self.index.keyframes) % fmt.FULL_KEYFRAME_EVERY == 0 or self._kf_base is None
        base_offset, base_raw = (0, None) if full else self._kf_base
        payload = fmt.encode_keyframe(self._written, self.model.now, raw, base_offset, base_raw)
        offset = self._write_block(fmt.KEYFRAME, payload)
        self.index.keyframes.append((offset, fmt.keyframe_info(payload)))
        self._kf_at, self._kf_clock, self._kf_base = self._written, self.model.now, (offset, raw)

    def _write_block(self, kind: int, payload: bytes) -> int:
        if len(payload) > fmt.MAX_BLOCK_BYTES:
            raise SessionError(f"a {fmt.BLOCK_NAMES[kind]} block of {len(payload)} bytes is over the format's limit")
        offset = self.bytes
        self._write(fmt.frame(kind, payload))
        return offset

    def _write(self, data: bytes) -> None:
        """One write(2) per block: what the OS has survives a kill -9 of this process."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self.bytes += len(data)


def carried_over(model: SwarmModel) -> SwarmModel:
    """A copy of `model` for a session that continues where it left off: what the swarm is
    (agents, tasks, who talks to whom, the recorded clock, each agent's seqs so a gap across
    the seam still shows) stays; what a session counts (events, errors, gaps, restarts, tasks
    done, events by kind, the rate, recent errors) starts at zero."""
    m = model.copy()
    for counter in COUNTERS:
        if counter != "now":  # the recorded clock goes on
            setattr(m, counter, 0)
    m.by_kind.clear()
    m.rate.clear()
    m.recent_errors.clear()
    for a in m.agents.values():
        a.events = a.errors = a.tasks_ok = a.tasks_failed = a.gaps = a.restarts = 0
    return m


def _create(path: Path) -> int:
    """Open a new file for appending; never overwrite a session."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    except FileExistsError:
        raise SessionError(f"{path} already exists; choose another --out or remove it") from None
    except OSError as exc:
        raise SessionError(f"cannot create {path}: {exc.strerror}") from None
