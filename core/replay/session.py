"""The replay engine: a recorded session as a sequence you can index, seek and play.

    s = open_session("run.swarm")      # or a session id from `swarmscope sessions list`
    len(s); s.meta; s[i]; s.events(0, 50)
    s.state_at(i).to_dict()            # the model right after event i, health at its recorded clock
    r = s.cursor(); r.seek(i); r.step(-1); r.next_error(); r.diff(i, j)
    for ev in r.play(4.0): ...         # paced by recorded time

Every state comes from the nearest keyframe at or before it plus the events
in between, so a seek costs about the same wherever it lands. A cursor
moving forward a little applies events to its own model instead.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import Any

from swarmscope.core.errors import ConfigError, SessionError
from swarmscope.core.events import Event
from swarmscope.core.gcpause import bulk_allocation
from swarmscope.core.model.diff import diff_states
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.reader import SessionFile
from swarmscope.core.session.repair import write_bookmark
from swarmscope.core.session.store import resolve, sessions_dir
from swarmscope.core.session.summary import summarize
from swarmscope.core.session.writer import being_recorded

SPEEDS = (0.25, 16.0)
FOLD_GAPS_S = 2.0
"""In play(), a silence longer than this in recorded time is shortened to this."""
BlockFilter = Callable[[fmt.EventsInfo], bool]
_TS = itemgetter(0)
"""An event's ts (Event is a tuple; the C-level getter keeps per-block scans out of Python)."""
STATE_CACHE = 24
"""Models a Session keeps in memory (keyframes restored, places a cursor went through)."""
CHECKPOINT_EVERY = 512
"""A cursor's seek keeps a copy of the model every this many events it folds, so stepping or
dragging back near where it has been starts close by instead of at the keyframe."""


def open_session(ref: str | Path, directory: str | Path | None = None) -> Session:
    """A session by path, file name, name (`demo`, `demo~1`), `latest` or id (or id prefix);
    SessionError if there is none or it is unreadable."""
    return Session(resolve(str(ref), sessions_dir(directory)))


class Session:
    """A recorded session, read on demand. Thread-compatible, not thread-safe: one per thread."""

    def __init__(self, path: str | Path) -> None:
        self.file = SessionFile(path)
        self.bookmarks: list[tuple[int, str, int]] = sorted(self.file.index.bookmarks)
        """(event index, label, recorded clock), sorted; add_bookmark() adds (to the file too, when
        closed)."""
        self._summary = self.file.summary
        self._states: OrderedDict[int, SwarmModel] = OrderedDict()
        """Pristine models by events folded, most recently used last; only ever copied out."""

    # -- what it is -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.file)

    @property
    def id(self) -> str:
        return self.file.header["id"]

    @property
    def continues(self) -> str | None:
        """The id of the session this one starts where it left off (the part before, when
        rotated)."""
        return self.file.header.get("continues")

    @property
    def meta(self) -> dict[str, Any]:
        """Header fields plus where the file stands: size, clean close (or a writer still at it),
        damage, summary."""
        f = self.file
        return {
            **f.header,
            "path": str(f.path),
            "format": "{}.{}".format(*f.version),
            "events": len(self),
            "bytes": f.size,
            "closed": f.closed_cleanly,
            "recording": not f.closed_cleanly and being_recorded(f.path),
            "dropped_bytes": f.dropped,
            "damage": f.damage,
            "blocks": len(f.index.blocks),
            "keyframes": len(f.index.keyframes),
            "bookmarks": [list(b) for b in self.bookmarks],
            "summary": self.summary(),
        }

    def summary(self) -> dict[str, Any]:
        """The summary written at a clean close; for a crashed file, computed once from the
        events."""
        if self._summary is None:
            first = self[0].ts if len(self) else None
            self._summary = summarize(self.state_before(len(self)), first)
        return self._summary

    def refresh(self) -> int:
        """Follow a session still being recorded: pick up what was appended; returns new events."""
        new = self.file.refresh()
        if new:
            self._summary = self.file.summary
        return new

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events -----------------------------------------------------------------------

    def __getitem__(self, i: int) -> Event:
        i = self.index_of(i)
        f = self.file
        b = f.block_of(i)
        return f.block_events(b)[i - f.block_info(b).first]

    def events(self, start: int = 0, stop: int | None = None) -> list[Event]:
        """Events start..stop-1 (clamped to the session), reading only the blocks that hold them."""
        return list(self.iter_events(start, stop))

    def iter_events(self, start: int = 0, stop: int | None = None) -> Iterator[Event]:
        stop = len(self) if stop is None else min(stop, len(self))
        f, i = self.file, max(0, start)
        while i < stop:
            b = f.block_of(i)
            first = f.block_info(b).first
            chunk = f.block_events(b)[i - first : stop - first]
            if not chunk:  # a block holding fewer events than the index says: never loop on it
                raise SessionError(f"{f.path.name} is damaged: block {b} lacks event {i}")
            yield from chunk
            i += len(chunk)

    def index_of(self, i: int) -> int:
        """The index event i names, counting from the end if negative; IndexError outside the
        session."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"event {i} is outside this session's {n} events")
        return i % n

    # -- state --------------------------------------------------------------------------

    def state_at(self, i: int) -> SwarmModel:
        """A new model holding the swarm right after event `i` (its `now` is event i's recorded
        clock)."""
        return self._state(self.index_of(i) + 1, checkpoints=False)

    def state_before(self, n: int) -> SwarmModel:
        """A new model holding the swarm after the first `n` events; `state_before(0)` is the swarm
        as the session began: empty, or where the session it continues left off."""
        return self._state(n, checkpoints=False)

    def _state(self, n: int, checkpoints: bool) -> SwarmModel:
        """The model after `n` events, from the nearest state kept in memory or else the keyframe.

        With `checkpoints`, a copy is kept every CHECKPOINT_EVERY events folded on the way.
        Kept models are never handed out: each use is a copy (cheap: tasks are shared
        copy-on-write), so nothing a caller does to a returned model reaches the cache.
        """
        with bulk_allocation():
            model, at = self._nearest_state(n)
            if checkpoints:
                step = CHECKPOINT_EVERY
                for mark in range((at // step + 1) * step, n, step):
                    model.apply_many(self.iter_events(at, mark))
                    self._keep(mark, model.copy())
                    at = mark
            model.apply_many(self.iter_events(at, n))
        return model

    def _nearest_state(self, n: int) -> tuple[SwarmModel, int]:
        """A copy of the kept model with the most events folded between the keyframe before n and
        n."""
        floor = self.keyframe_at_or_before(n)
        best = max((k for k in self._states if floor <= k <= n), default=None)
        if best is None:
            model, best = self.file.keyframe_model(n)
            if best == 0:
                return model, 0
            self._keep(best, model)
        self._states.move_to_end(best)
        return self._states[best].copy(), best

    def _keep(self, n: int, model: SwarmModel) -> None:
        self._states[n] = model
        self._states.move_to_end(n)
        while len(self._states) > STATE_CACHE:
            self._states.popitem(last=False)

    def keyframe_at_or_before(self, n: int) -> int:
        """Events folded into the keyframe a state after `n` events would start from (0: none)."""
        kf = self.file.keyframe_before(n)
        return kf[1].at if kf else 0

    def index_at_time(self, ts_ns: int) -> int:
        """The last event whose recorded clock is at or before `ts_ns`; -1 if the session starts
        later."""
        f = self.file
        b = f.block_of_clock(ts_ns + 1)
        if b >= len(f.index.blocks):
            return len(self) - 1
        before = f.block_info(b - 1).clock_hi if b else 0
        # never goes back
        clocks = list(accumulate(map(_TS, f.block_events(b)), max, initial=before))
        return f.block_info(b).first + bisect_right(clocks, ts_ns) - 2

    def diff(self, i: int, j: int) -> dict[str, Any]:
        """What changed in the swarm between right after event i and right after event j."""
        out = diff_states(self.state_at(i).to_dict(), self.state_at(j).to_dict())
        return {"from": self.index_of(i), "to": self.index_of(j), **out}

    # -- finding --------------------------------------------------------------------------

    def find(
        self,
        match: Callable[[Event], bool],
        start: int,
        forward: bool = True,
        blocks: BlockFilter | None = None,
    ) -> int | None:
        """The first event from `start` (inclusive) in one direction that `match`es, or None.

        `blocks` may rule out whole blocks from their cleartext prefix (no errors here,
        say) so that a search reads only the blocks that can hold an answer.
        """
        f, n = self.file, len(self)
        if not 0 <= start < n:
            return None
        b = f.block_of(start)
        step = 1 if forward else -1
        while 0 <= b < len(f.index.blocks):
            info = f.block_info(b)
            if blocks is None or blocks(info):
                found = _scan_block(f.block_events(b), info.first, start, match, forward)
                if found is not None:
                    return found
            b += step
        return None

    def add_bookmark(self, i: int, label: str) -> str | None:
        """Mark event i for next/prev bookmark, in the file too when it is cleanly closed (see
        session/repair.py, write_bookmark); None then, else why only this replay keeps it."""
        i = self.index_of(i)
        entry = (i, label, self.state_at(i).now)
        self.bookmarks.insert(bisect_left(self.bookmarks, entry), entry)
        if not self.file.closed_cleanly:
            return "the file is still being written, or was not closed"
        try:
            write_bookmark(self.file.path, entry)
        except (OSError, SessionError) as exc:
            return getattr(exc, "strerror", None) or str(exc)
        return None

    def cursor(self, start: int = 0) -> Cursor:
        return Cursor(self, start)


def _scan_block(
    events: list[Event], first: int, start: int, match: Callable[[Event], bool], forward: bool
) -> int | None:
    rel = start - first
    if forward:
        for k in range(max(rel, 0), len(events)):
            if match(events[k]):
                return first + k
    else:
        for k in range(min(rel, len(events) - 1), -1, -1):
            if match(events[k]):
                return first + k
    return None


def _is(kind: str) -> Callable[[Event], bool]:
    return lambda ev: ev.kind == kind


class Cursor:
    """A position in a session and the model there; what a replay UI drives.

    `pos` is an event index; `model` is the swarm right after it (the cursor's
    own: read it, do not change it). Moves clamp to the session.
    """

    def __init__(self, session: Session, start: int = 0) -> None:
        self.session = session
        self.pos = -1
        self.model = session.state_before(0)
        if len(session):
            self.seek(start)

    @property
    def event(self) -> Event | None:
        return self.session[self.pos] if self.pos >= 0 else None

    @property
    def clock(self) -> int:
        """The recorded clock here: what health is computed against."""
        return self.model.now

    def seek(self, i: int) -> int:
        """Move to event i (clamped); returns the new position. SessionError if a block on the
        way is damaged, and the cursor stays where it was."""
        n = len(self.session)
        if not n:
            return self.pos
        i = min(max(i, 0), n - 1)
        restart = self.session.keyframe_at_or_before(i + 1)
        try:
            if self.pos < i and restart <= self.pos + 1:
                self.model.apply_many(self.session.iter_events(self.pos + 1, i + 1))
            elif i != self.pos:
                self.model = self.session._state(i + 1, checkpoints=True)
        except SessionError:  # a damaged block on the way: stay, with the model of where we were
            self.model = self.session.state_before(self.pos + 1)
            raise
        self.pos = i
        return i

    def step(self, n: int = 1) -> int:
        return self.seek(self.pos + n)

    def seek_time(self, ts_ns: int) -> int:
        """Move to the last event at or before recorded time `ts_ns` (the first, if earlier)."""
        return self.seek(max(self.session.index_at_time(ts_ns), 0))

    def diff(self, i: int, j: int) -> dict[str, Any]:
        return self.session.diff(i, j)

    # -- jumps: each returns the new position, or None (and stays) if there is none -------

    def next_error(self) -> int | None:
        return self._jump(_is("error"), True, lambda b: b.errors > 0)

    def prev_error(self) -> int | None:
        return self._jump(_is("error"), False, lambda b: b.errors > 0)

    def next_checkpoint(self) -> int | None:
        return self._jump(_is("checkpoint"), True, lambda b: b.checkpoints > 0)

    def prev_checkpoint(self) -> int | None:
        return self._jump(_is("checkpoint"), False, lambda b: b.checkpoints > 0)

    def next_match(self, match: Callable[[Event], bool]) -> int | None:
        return self._jump(match, True)

    def prev_match(self, match: Callable[[Event], bool]) -> int | None:
        return self._jump(match, False)

    def next_bookmark(self) -> int | None:
        marks = self.session.bookmarks
        k = bisect_right([m[0] for m in marks], self.pos)
        return self.seek(marks[k][0]) if k < len(marks) else None

    def prev_bookmark(self) -> int | None:
        marks = self.session.bookmarks
        k = bisect_left([m[0] for m in marks], self.pos)
        return self.seek(marks[k - 1][0]) if k else None

    def _jump(
        self, match: Callable[[Event], bool], forward: bool, blocks: BlockFilter | None = None
    ) -> int | None:
        found = self.session.find(match, self.pos + (1 if forward else -1), forward, blocks)
        return None if found is None else self.seek(found)

    # -- playing ------------------------------------------------------------------------------

    def play(
        self,
        speed: float | str = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        fold_gaps: float | None = FOLD_GAPS_S,
        stop: int | None = None,
    ) -> Iterator[Event]:
        """Move forward event by event, yielding each, paced by recorded time.

        `speed` is 0.25 to 16 (times real time) or "max" (no waiting). A silence
        longer than `fold_gaps` seconds of recorded time plays as `fold_gaps`
        (None keeps every gap). `clock` and `sleep` are injectable for tests.
        Stops at the end, at `stop` (an index), or when the caller stops iterating.
        """
        pacing = _check_speed(speed)
        end = len(self.session) if stop is None else min(stop + 1, len(self.session))
        fold_ns = None if fold_gaps is None else int(fold_gaps * 1e9)
        wall0, rec0, rec, folded = clock(), self.model.now or None, self.model.now, 0
        for ev in self.session.iter_events(self.pos + 1, end):
            if pacing is not None:
                now_rec = max(rec, ev.ts)
                rec0 = rec0 or now_rec
                if fold_ns is not None and rec and now_rec - rec > fold_ns:
                    folded += now_rec - rec - fold_ns
                rec = now_rec
                wait = wall0 + (now_rec - rec0 - folded) / 1e9 / pacing - clock()
                if wait > 0.001:
                    sleep(wait)
            self.model.apply(ev)
            self.pos += 1
            yield ev


def _check_speed(speed: float | str) -> float | None:
    """The pace as a float, or None for "max"."""
    if speed == "max":
        return None
    try:
        value = float(speed)
    except (TypeError, ValueError):
        value = 0.0
    if not SPEEDS[0] <= value <= SPEEDS[1]:
        raise ConfigError(
            f"speed {speed!r} is not between {SPEEDS[0]}x and {SPEEDS[1]:g}x or 'max'"
        )
    return value
