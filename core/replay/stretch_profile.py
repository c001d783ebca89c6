"""The profile of a stretch of a recorded run that a replay's cursor moves through.

The replay's Profile tab shows where the time went from the session's start, or from a pinned
event, up to the cursor. Folding a run from its start costs seconds per million events
(core/model/profile.py), too much to redo at every key: a StretchProfile keeps its Profile and
folds only the events a forward move adds. A move back, or another start, folds afresh.

It folds on a Session of its own (own_session.py): it runs on a worker, and follows a file still
being recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmscope.core.model.profile import Profile
from swarmscope.core.replay.own_session import OwnSession
from swarmscope.core.replay.profiling import chunks, seeded

TOP = 20
"""Task names and agents a summary keeps."""


class StretchProfile(OwnSession):
    """Events `begin`..`end`-1 of one session file, folded into a Profile kept between folds."""

    def __init__(self, path: str | Path, top: int = TOP) -> None:
        super().__init__(path)
        self.top = top
        self._profile = Profile()
        self._begin = -1
        """Where the kept profile starts (-1: nothing kept)."""
        self._at = 0
        """Events folded so far: the kept profile holds `_begin`..`_at`-1."""

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
        return self._one_run(lambda: self._fold(begin, end, stop, pause), None)

    def _fold(
        self, begin: int, end: int, stop: Callable[[], bool], pause: Callable[[], None]
    ) -> dict[str, Any] | None:
        session = self._own(end)
        end = min(end, len(session))
        if begin != self._begin or end < self._at:
            self._profile, self._begin, self._at = seeded(session, begin), begin, begin
        for chunk in chunks(session.iter_events(self._at, end)):
            if stop() or self._closing:
                return None
            self._profile.apply_many(chunk)
            self._at += len(chunk)
            pause()
        profile = self._profile
        return profile.summary(max(profile.last, profile.first), self.top)
