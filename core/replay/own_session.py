"""A Session of one's own, for work a replay does on worker threads: scanning a file for marks
(scan.py), profiling the stretch up to the cursor (stretch_profile.py).

A Session is one thread's, so such work keeps one of its own, open between runs: following a
file that grows then costs only its new blocks (reopening one that has no index yet reads all
of it). Runs may happen on different threads, one at a time; `close()` may come from any thread,
even during a run, which then closes the file when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmscope.core.replay.session import Session


class OwnSession:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._session: Session | None = None
        self._running = threading.Lock()
        self._closing = False

    def _one_run(self, work: Callable[[], Any], closed: Any) -> Any:
        """work(), alone; `closed` once close() was called."""
        with self._running:
            if self._closing:
                return closed
            try:
                return work()
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

    def _own(self, needed: int | None = None) -> Session:
        """The Session, taking in what a recorder appended since (only if it lacks event
        `needed - 1`, when given)."""
        if self._session is None:
            self._session = Session(self.path)
        elif needed is None or needed > len(self._session):
            self._session.refresh()
        return self._session

    def _release(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
