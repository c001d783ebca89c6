"""What the live and replay screens read for the Lanes tab: a fold of the events in the window.

A replay folds the events around its cursor from the session, afresh, and only when the cursor
leaves the stretch the last fold covered: a window's worth either side of it, so a step or a
play does not read the session again every frame. The fold starts from the swarm as it stood
where the stretch begins (the statuses then, the tasks then running).

Live, one fold is fed the events that arrived since the last frame and trimmed of what aged out.
It runs only while the tab is shown: on coming into view it starts from the events the source
still holds (`Source.recent`) and the model (statuses, tasks in flight).
"""

from __future__ import annotations

from swarmscope.core.events import Event
from swarmscope.core.live.source import Source
from swarmscope.core.model.lanes import Bar, LaneFold
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.tui.widgets.lanes import LanesFrame

MAX_WINDOW_EVENTS = 50_000
"""Events a replay folds for one window, on the UI thread (0.14-0.16 s with the state before them,
measured on the 2-core machine: a key waits that long at worst, once per half window); a window
holding more is folded around the cursor, and the axis says so."""
LIVE_INTAKE = 20_000
"""Newest events taken into the live fold per frame (a source holds at most 10,000)."""
S = 1_000_000_000
LIVE_KEEP_NS = 600 * S
"""What the live fold keeps at least, so that zooming out shows the last ten minutes at once."""
TRIM_EVERY_NS = S
"""How often the live fold forgets what aged out: a pass over every agent, not worth each frame."""


class ReplayLanes:
    """The lanes of a window around a replay's cursor."""

    def __init__(self) -> None:
        self._fold = LaneFold()
        self._key: tuple[int, int] | None = None
        self._note = ""
        self._grows = False
        """The last fold reached the session's end: events appended since belong in it."""
        self._events = 0

    def frame(self, session: Session, pos: int, clock: int, span: int) -> LanesFrame:
        """The window `span` ns wide centred on the cursor (event `pos`, recorded time
        `clock`)."""
        half = max(1, span // 2)
        bucket = clock // half
        key = (bucket, span)
        if key != self._key or (self._grows and len(session) != self._events):
            self._key, self._events = key, len(session)
            # every window centred in this bucket lies within
            self._refold(session, pos, (bucket - 1) * half, (bucket + 2) * half)
        t0 = clock - half
        fold = self._fold
        note = "; ".join(filter(None, (self._note, fold.said())))
        return LanesFrame(
            t0, t0 + span, clock, fold.lanes(), fold.arrows_in(t0, t0 + span), False, note
        )

    def _refold(self, session: Session, pos: int, lo: int, hi: int) -> None:
        """Fold the events stamped lo..hi, at most MAX_WINDOW_EVENTS of them around `pos`."""
        first = session.index_at_time(lo - 1) + 1
        stop = session.index_at_time(hi) + 1
        self._note = ""
        if stop - first > MAX_WINDOW_EVENTS:
            self._note = f"drew {MAX_WINDOW_EVENTS:,} of the {stop - first:,} events around here"
            first = max(first, min(pos - MAX_WINDOW_EVENTS // 2, stop - MAX_WINDOW_EVENTS))
            stop = first + MAX_WINDOW_EVENTS
        self._grows = stop >= self._events
        self._fold = LaneFold()
        self._fold.seed(session.state_before(first))
        self._fold.apply_many(session.events(first, stop), first)


def task_start_index(session: Session, agent: str, bar: Bar) -> int | None:
    """Where a bar's task began in the session: the task_start event the fold saw, or else
    the one stamped at its start (a task begun before the window); else where it ended."""
    if bar.start_at is not None:
        return bar.start_at
    if bar.start is None:
        return bar.end_at
    start = bar.start

    def began(ev: Event) -> bool:
        return ev.kind == "task_start" and ev.agent == agent and ev.data.get("task") == bar.task

    near = max(0, session.index_at_time(start))
    found = session.find(began, near, forward=False, blocks=lambda b: b.clock_hi >= start)
    if found is None:
        found = session.find(began, near, blocks=lambda b: b.clock_lo <= start)
    return found


class LiveLanes:
    """The lanes of the last `span` ns, fed once a frame while the tab is shown."""

    def __init__(self) -> None:
        self._fold: LaneFold | None = None
        self._seen = 0
        self._sampled = 0
        """Events this fold never got (the view's intake, or the source's, took only the newest)."""
        self._unsent = 0
        self._trimmed = 0
        self._now = 0
        """The instant of the last frame: what a paused view zooms around."""

    def frame(self, source: Source, model: SwarmModel, span: int) -> LanesFrame:
        """Call with the source held still (`source.reading()`)."""
        fold = self._fold
        if fold is None:
            fold = self._fold = LaneFold()
            fold.apply_many(list(source.recent))
            fold.seed(model)
            self._seen, self._sampled, self._unsent = source.appended, 0, source.unsent
        else:
            events, seen = source.newest(self._seen, LIVE_INTAKE)
            self._sampled += seen - self._seen - len(events) + source.unsent - self._unsent
            self._seen, self._unsent = seen, source.unsent
            fold.apply_many(events)
        now = self._now = source.now()
        if abs(now - self._trimmed) >= TRIM_EVERY_NS:
            self._trimmed = now
            fold.trim(now - max(span, LIVE_KEEP_NS))
        return self._view(fold, span)

    def again(self, span: int) -> LanesFrame | None:
        """The last frame's lanes, `span` ns wide, taking in nothing new (a paused view zoomed);
        None while the tab is not shown."""
        return None if self._fold is None else self._view(self._fold, span)

    def _view(self, fold: LaneFold, span: int) -> LanesFrame:
        now, t0 = self._now, self._now - span
        sampled = f"sampled: {self._sampled:,} events not drawn" if self._sampled else ""
        note = "; ".join(filter(None, (sampled, fold.said())))
        return LanesFrame(t0, now, now, fold.lanes(), fold.arrows_in(t0, now), True, note)

    def stop(self) -> None:
        """The tab went out of view: the next time it comes in, start again from the source."""
        self._fold = None
