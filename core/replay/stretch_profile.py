"""The profile of a stretch of a recorded run that a replay's cursor moves through.

The replay's Profile tab shows where the time went from the session's start, or from a pinned
event, up to the cursor. Folding a run from its start costs seconds per million events
(core/model/profile.py), too much to redo at every key: a StretchProfile keeps its Profile and
folds only the events a forward move adds. A move back, or another start, folds afresh.

It keeps a Session of its own, because a Session is one thread's (it runs on a worker) and a
file still being recorded is followed: reopening one with no index yet would read all of it.
Folds may run on different threads, one at a time; `close()` may come from any thread, even
during a fold, which then closes the file when it ends (as SessionScan does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.model.profile import Profile
from swarmscope.core.replay.session import Session

CHUNK = 4_096
"""Events folded between two looks at `stop` (a few ms)."""
TOP = 20
"""Task names and agents a summary keeps."""


class StretchProfile:
    """Events `begin`..`end`-1 of one session file, folded into a Profile kept between folds."""

    def __init__(self, path: str | Path, top: int = TOP) -> None:
        self.path = Path(path)
        self.top = top
        self._session: Session | None = None
        self._profile = Profile()
        self._begin = -1
        """Where the kept profile starts (-1: nothing kept)."""
        self._at = 0
        """Events folded so far: the kept profile holds `_begin`..`_at`-1."""
        self._seed_ts = 0
        self._running = threading.Lock()
        self._closing = False

    def fold(
        self,
        begin: int,
        end: int,
        stop: Callable[[], bool] = lambda: False,
        pause: Callable[[], None] = lambda: None,
    ) -> dict[str, Any] | None:
        """The summary (Profile.summary) of events `begin`..`end`-1, or None once `stop()` says
        the answer is no longer wanted; what was folded by then is kept for the next fold.
        `pause` is called after each chunk: a UI thread sharing the interpreter lock may want a
        moment. SessionError for a damaged block on the way."""
        with self._running:
            if self._closing:
                return None
            try:
                return self._fold(begin, end, stop, pause)
            finally:
                if self._closing:
                    self._release()

    def close(self) -> None:
        self._closing = True
        if self._running.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._running.release()

    def _fold(
        self, begin: int, end: int, stop: Callable[[], bool], pause: Callable[[], None]
    ) -> dict[str, Any] | None:
        session = self._open(end)
        end = min(end, len(session))
        if begin != self._begin or end < self._at:
            self._restart(session, begin)
        for chunk in _chunks(session.iter_events(self._at, end)):
            if stop() or self._closing:
                return None
            self._profile.apply_many(chunk)
            self._at += len(chunk)
            pause()
        return self._profile.summary(max(self._profile.last, self._seed_ts), self.top)

    def _open(self, end: int) -> Session:
        """This profile's own Session, taking in what a recorder appended if `end` needs it."""
        if self._session is None:
            self._session = Session(self.path)
        elif end > len(self._session):
            self._session.refresh()
        return self._session

    def _restart(self, session: Session, begin: int) -> None:
        """A new profile of events from `begin`, seeded with the swarm as it stood just before
        (the pinned event's own state: its statuses, and the tasks then running)."""
        self._profile, self._begin, self._at = Profile(), begin, begin
        self._seed_ts = 0
        if len(session):
            self._seed_ts = session[max(0, begin - 1)].ts
            self._profile.seed(session.state_before(begin), self._seed_ts)

    def _release(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _chunks(events: Iterator[Event]) -> Iterator[list[Event]]:
    """`events` in lists of CHUNK: a Profile folds a list at a time, counting in C."""
    while chunk := list(islice(events, CHUNK)):
        yield chunk
