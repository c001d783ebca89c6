"""What a viewer reads from: a model kept up to date off the UI thread, and a frozen one.

The UI never does work per event (DESIGN.md, "Data flow"): a background
thread drains the feed and folds events into the model in bounded chunks,
holding `lock` only while it applies one chunk; the screen takes the lock
once a frame to read what it draws. `FrozenSource` offers the same surface
over a fixed list of events and a fixed clock, for tests and snapshots.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.hub.feed import VIEWER_QUEUE
from swarmscope.core.hub.latejoin import JoiningFeed, LateJoin
from swarmscope.core.model.profile import Profile
from swarmscope.core.model.swarm import SwarmModel

RECENT_EVENTS = 10_000
"""Events kept for the event log: enough to scroll back, bounded however long it runs."""
CHUNK = 1_000
"""Events applied per lock hold: a few ms, so a frame never waits long for the lock."""
INPUT_HOLD_S = 0.25
"""The longest the feed waits for a key's answer to be painted (a lost paint must not stall it)."""
_names = itertools.count()
_AGENT = itemgetter(1)


class Source:
    """The surface screens read: model + lock + recent events + a clock + a status line."""

    def __init__(self, endpoint: str, clock: Callable[[], int]) -> None:
        self.endpoint = endpoint
        self.model = SwarmModel()
        self.lock = threading.Lock()
        self.recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self.clock = clock
        self.connected = False
        self.turned_away: str | None = None
        """Why the hub would not let this viewer in (CURVE), said instead of "waiting"."""
        self.recording: bool | None = None
        """True/False once a recorder reports; None when unknown."""
        self.refused: dict[str, int] = {}
        """What the feed refused, by reason (see wire.DecodeStats)."""
        self.hub_session: Path | None = None
        """The file a recording hub writes, when it said so to this late joiner and this host can
        read it."""
        self.session_path: Callable[[], Path | None] = lambda: self.hub_session
        """Where this swarm is being recorded, if it is: what `r` (rewind) replays (the hub's file
        unless this view records its own)."""
        self.appended = 0
        """Events ever added to `recent`: tells a view how many are new since its last look."""
        self.unsent = 0
        """Events folded into the model that never reached `recent` (a child process sends only
        the newest of each push): what is drawn event by event is sampled by this many."""
        self.profile = Profile()
        """Where the time went since this view began (core/model/profile.py), folded with the
        model."""
        self._reader_waiting = False
        self.no_input = threading.Event()
        """Set except while a key press is answered and painted (the app clears it): the feed's
        thread waits on it, at most INPUT_HOLD_S, before its next piece of work, so the key does
        not wait behind it."""
        self.no_input.set()

    def _keys_first(self) -> None:
        """Called by the feed's thread between pieces of work (see no_input)."""
        self.no_input.wait(INPUT_HOLD_S)

    def now(self) -> int:
        return self.clock()

    @contextmanager
    def reading(self) -> Iterator[SwarmModel]:
        """Hold the model still while a frame reads it.

        A plain lock is not fair: the folding thread would take it back between
        chunks and starve the screen. The flag makes the folder step aside."""
        self._reader_waiting = True
        try:
            with self.lock:
                self._reader_waiting = False
                yield self.model
        finally:
            self._reader_waiting = False

    @property
    def status(self) -> str:
        if self.connected:
            return "live"
        return self.turned_away or f"waiting for a hub at {self.endpoint} (retrying)"

    def _fold(self, events: list[Event]) -> None:
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            with self.lock:
                self.model.apply_many(chunk)
                self.profile.apply_many(chunk)
                self._heard(chunk)
                self.recent.extend(chunk)
                self.appended += len(chunk)
            while self._reader_waiting:  # a frame is waiting: let it in before the next chunk
                time.sleep(0.0005)
            self._keys_first()

    def _heard(self, chunk: list[Event]) -> None:
        """What to note beside the model about a chunk just folded (a live source: when it
        arrived)."""

    def profile_summary(self, top: int = 50) -> dict[str, Any]:
        """The profile as a screen shows it (Profile.summary), up to now."""
        with self.lock:
            return self.profile.summary(self.now(), top)

    def newest(self, since: int, limit: int) -> tuple[list[Event], int]:
        """Events appended after count `since` (at most the newest `limit`), and the count now.

        Call with the lock held."""
        new = min(self.appended - since, limit, len(self.recent))
        events = [self.recent[-i] for i in range(new, 0, -1)]
        return events, self.appended

    def start(self) -> Source:
        return self

    def stop(self) -> None:
        """Nothing runs behind a plain source."""


class FrozenSource(Source):
    """A model built from given events, seen at a fixed instant: deterministic screens."""

    def __init__(
        self, events: Iterable[Event], now_ns: int | None = None, endpoint: str = "simulated"
    ) -> None:
        events = list(events)
        fixed = now_ns if now_ns is not None else (events[-1].ts if events else 0)
        super().__init__(endpoint, lambda: fixed)
        self._fold(events)
        self.connected = True


class LiveSource(Source):
    """A model fed from a hub by a background thread; says when the hub is missing."""

    def __init__(
        self,
        endpoint: str,
        clock: Callable[[], int] = time.time_ns,
        history: str | None = None,
        ask: bool = True,
    ) -> None:
        """`history`: where the hub answers late joiners (default: next to `endpoint`, see
        hub/latejoin.py); `ask`: False for a reader there from the hub's start."""
        super().__init__(endpoint, clock)
        self._history, self._ask = history, ask
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swarmscope-live", daemon=True)
        self._caught_up = False

    def start(self) -> LiveSource:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _heard(self, chunk: list[Event]) -> None:
        """Live, an agent was last heard when its events arrived, on this viewer's clock, which is
        what its health is judged against: an agent whose host clock runs an hour behind would
        otherwise look FAILED while it works, and one an hour ahead HEALTHY an hour after it died.
        (A replay has one clock only, the recorded one: there the events' own times are used.)"""
        now, agents = self.clock(), self.model.agents
        for agent_id in dict.fromkeys(map(_AGENT, chunk)):
            agent = agents.get(agent_id)
            if agent is not None:
                agent.last_seen = now

    @property
    def catching_up(self) -> bool:
        """True until this view starts from what the hub answered about the time before it
        joined, or knows there is no answer."""
        return not self._caught_up

    def _run(self) -> None:
        with JoiningFeed(
            self.endpoint,
            self._history,
            queue=VIEWER_QUEUE,
            monitor=f"live-{next(_names)}",
            ask=self._ask,
        ) as feed:
            while not self._stop.is_set():
                events = feed.poll(50)
                self.connected, self.turned_away = feed.connected, feed.turned_away
                if events:
                    self._fold(events)
                if feed.answering is not None:
                    self._catch_up(feed.answering)
                self.refused = dict(feed.stats.refused)

    def _catch_up(self, join: LateJoin) -> None:
        """Start from the hub's model once it answers (what this view folded so far is in it)."""
        model = join.answer()
        if model is not None:
            with self.lock:
                self.model = model
                self.profile = Profile()  # from the swarm as the hub answered it
                self.profile.seed(model, self.now())
        self.hub_session = join.session
        self._caught_up = not join.waiting
