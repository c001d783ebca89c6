"""The replay's Profile tab, kept up to date off the UI thread.

While the tab is shown, each frame says which stretch of the session it wants profiled: from the
start, or from the pin, to the cursor. A fold from the start of a long session takes seconds, so
folds run on a worker thread, one at a time, and each answer is drawn on the UI thread. A fold
whose answer is no longer wanted (the cursor went back, the pin moved) gives up between chunks;
one the cursor only moved past runs on, and the next fold takes it from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.screen import Screen

from swarmscope.core.errors import SwarmscopeError
from swarmscope.core.events import Event
from swarmscope.core.replay.stretch_profile import StretchProfile
from swarmscope.tui.widgets.event_log import task_name
from swarmscope.tui.widgets.profile import ProfileList

PAUSE_S = 0.001
"""The fold sleeps this long after each chunk, so keys are answered at once meanwhile."""
BUSY_AFTER_S = 0.2
"""A fold still running after this long says "profiling…": a quick one would only flicker."""


def stretch(pinned: int | None, pos: int) -> tuple[int, int]:
    """The events to profile, as (begin, end): up to the cursor, from the start or from just
    after the pin (on whichever side of the cursor it is)."""
    if pinned is None:
        return 0, pos + 1
    low, high = sorted((pinned, pos))
    return low + 1, high + 1


def stretch_scope(begin: int, end: int) -> str:
    """What a profile of events begin..end-1 covers, in words."""
    if begin == 0:
        return f"events 1–{end:,}, up to the cursor"
    if begin >= end:
        return "the pin is at the cursor: nothing between them to profile"
    return f"events {begin + 1:,}–{end:,}, between the pin and the cursor"


def starts_of(name: str) -> Callable[[Event], bool]:
    """The events that start a task called `name` (what n / N go to from the Profile tab)."""
    return lambda ev: task_name(ev) == name


class ReplayProfiler:
    """Profiles what the screen wants, one fold at a time on a worker thread."""

    def __init__(self, screen: Screen, path: Path) -> None:
        self.screen = screen
        self.profile = StretchProfile(path)
        self.wanted: tuple[int, int] | None = None
        """The stretch the screen asked for last; read by the fold's thread too."""
        self.shown: tuple[int, int] | None = None
        self._folding = False
        self._closed = False
        self._said = ""

    def want(self, begin: int, end: int) -> None:
        """Show the profile of events begin..end-1 as soon as it is folded."""
        self.wanted = (begin, end)
        if self.wanted != self.shown and not self._folding:
            self._start()

    def close(self) -> None:
        """The screen is going: a fold under way gives up, and its answer is dropped."""
        self._closed = True
        self.profile.close()

    def _start(self) -> None:
        self._folding = True
        target = self.wanted
        self.screen.run_worker(partial(self._fold, target), thread=True, group="profile")
        self.screen.set_timer(BUSY_AFTER_S, self._say_busy)

    def _fold(self, target: tuple[int, int]) -> None:
        """On the worker thread."""
        try:
            summary = self.profile.fold(
                *target, stop=partial(self._abandoned, target), pause=partial(time.sleep, PAUSE_S)
            )
        except SwarmscopeError as exc:
            self.screen.app.call_from_thread(self._failed, exc)
            return
        self.screen.app.call_from_thread(self._folded, target, summary)

    def _abandoned(self, target: tuple[int, int]) -> bool:
        """The screen wants another start, or less than `target`: folding on is wasted."""
        wanted = self.wanted
        return wanted is None or wanted[0] != target[0] or wanted[1] < target[1]

    def _folded(self, target: tuple[int, int], summary: dict | None) -> None:
        self._folding = False
        if self._closed:
            return
        if summary is not None:
            self.shown = target
            busy = self.wanted != target
            self._list().show_profile(summary, stretch_scope(*target), busy)
        if self.wanted != self.shown:
            self._start()

    def _failed(self, exc: SwarmscopeError) -> None:
        """A damaged block on the way: say so once; the tab keeps the last profile it showed."""
        self._folding = False
        if self._closed:
            return
        self.shown = self.wanted
        self._list().say_busy(False)
        if str(exc) != self._said:
            self._said = str(exc)
            self.screen.notify(f"cannot profile this stretch: {exc}", severity="error", timeout=6)

    def _say_busy(self) -> None:
        if self._folding:
            self._list().say_busy(True)

    def _list(self) -> ProfileList:
        return self.screen.query_one(ProfileList)
