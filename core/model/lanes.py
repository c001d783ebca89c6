"""Lanes: each agent's run across time, as the Lanes tab draws it (one row per agent).

A pure fold of events into a timeline per agent: the tasks it ran (bars, and how each ended),
the stretches its status held (idle, waiting, blocked, ...), the messages it sent (arrows from its
lane to the receiver's), its errors and checkpoints (marks). A replay folds the events around its
cursor afresh; a live view keeps one fold, feeds it every frame and trims what aged out.

Only the kinds a lane draws are read one by one: the rest (progress, state, logs: most of a run)
only name their agent, so a replay's window of 200,000 events folds in a fraction of a second.
Fields come from the network: a wrong type is ignored (reducers.as_str), never raised.

Memory is bounded whatever agents send: per agent, the newest MAX_BARS bars, MAX_STRETCHES
stretches, MAX_MARKS marks and MAX_RUNNING tasks in flight; MAX_ARROWS arrows; MAX_LANES agents.
What a bound left out is counted in `left_out`, and `said()` puts it in words for the screen.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any, NamedTuple

from swarmscope.core.events import Event
from swarmscope.core.model.reducers import as_str
from swarmscope.core.words import counted

MAX_BARS = 64
"""Finished tasks kept per agent, newest first: a screen is a few hundred cells wide."""
MAX_STRETCHES = 64
MAX_MARKS = 32
MAX_RUNNING = 32
"""Tasks in flight per agent: an agent that starts tasks and never ends them must not grow it."""
MAX_ARROWS = 20_000
MAX_LANES = 5_000
"""Agents given a lane; events of more are left out (and counted)."""
READ = frozenset(
    {"task_start", "task_end", "status", "message", "error", "checkpoint", "hello", "bye"}
)
"""The kinds a lane draws; every other kind only names its agent."""
ABANDONED = "abandoned"
"""How a task ends that its agent left running when it said bye or started again."""
PAST_LANES = "past lanes"
"""left_out's key for events of agents past MAX_LANES."""
_AGENT = itemgetter(1)
_KIND = itemgetter(3)


class Bar(NamedTuple):
    """One task of one agent."""

    task: str
    name: str
    start: int | None
    """None: it began before the events folded (only its end was seen)."""
    end: int | None
    """None: still running at the newest event folded."""
    result: str | None
    """ok, failed, cancelled, abandoned, or the agent's own word; None while running."""
    start_at: int | None
    """Index of the task_start event, where the events folded carry indices (a replay)."""
    end_at: int | None


class Stretch(NamedTuple):
    """A status an agent held, from one status event to the next."""

    status: str
    start: int | None
    """None: held since before the events folded."""
    end: int | None
    """None: holds still."""


class Mark(NamedTuple):
    kind: str
    """error or checkpoint."""
    ts: int
    label: str
    at: int | None


class Arrow(NamedTuple):
    """A message, from its sender's lane to its receiver's."""

    sender: str
    receiver: str
    ts: int
    topic: str
    at: int | None


@dataclass(frozen=True, eq=False)
class Lane:
    """What one agent's row shows: a snapshot, compared and hashed by identity (a snapshot is
    made anew only when its agent changed, so a screen's cache of drawn rows keeps the others)."""

    agent: str
    bars: tuple[Bar, ...]
    """Finished ones in the order they ended, then those still running."""
    stretches: tuple[Stretch, ...]
    """In order, the one held now last."""
    marks: tuple[Mark, ...]


@dataclass(slots=True)
class _Track:
    """One agent as the fold goes: finished things in bounded deques, what is open apart."""

    agent: str
    bars: deque = field(default_factory=lambda: deque(maxlen=MAX_BARS))
    running: dict = field(default_factory=dict)
    """task id -> (start, name, start_at), oldest first."""
    stretches: deque = field(default_factory=lambda: deque(maxlen=MAX_STRETCHES))
    status: str | None = None
    since: int | None = None
    marks: deque = field(default_factory=lambda: deque(maxlen=MAX_MARKS))
    lane: Lane | None = None
    """The last snapshot; None once anything changed since."""


class LaneFold:
    """Events folded into lanes; read with `lanes()` and `arrows_in()`."""

    def __init__(self) -> None:
        self.tracks: dict[str, _Track] = {}
        self.arrows: deque[Arrow] = deque(maxlen=MAX_ARROWS)
        self.left_out: Counter[str] = Counter()
        """What the bounds left out, by noun: older bars, status changes, marks and messages,
        running tasks, and events of agents past MAX_LANES (PAST_LANES)."""
        self._order: list[str] | None = None
        self._on = {kind: getattr(self, f"_on_{kind}") for kind in READ}

    # -- folding ---------------------------------------------------------------------------

    def seed(self, model: Any) -> None:
        """Take from a swarm model (core/model/swarm.py) what this fold has not seen: each
        agent's status, held since before the events folded, and the tasks it was running.
        A replay seeds from the swarm at its window's start; a live view after folding the
        events it still holds."""
        for a in model.agents.values():
            track = self._track(a.id)
            if track is None:
                continue
            if track.status is None and isinstance(a.status, str):
                track.status, track.since, track.lane = a.status, None, None
            for task_id in a.running:
                task = model.tasks.get(task_id)
                if task is not None and task.result is None and task_id not in track.running:
                    self._open(track, task_id, (task.started, task.name, None))

    def apply_many(self, events: Iterable[Event], first: int | None = None) -> None:
        """Fold `events`; `first`: the index of the first, when they carry indices (a session's),
        so that a bar knows the event a replay seeks to."""
        batch = events if type(events) is list else list(events)
        for agent in dict.fromkeys(map(_AGENT, batch)):
            self._track(agent)
        on, tracks = self._on, self.tracks
        read = map(READ.__contains__, map(_KIND, batch))  # the rest skipped in C
        for k in compress(range(len(batch)), read):
            ev = batch[k]
            track = tracks.get(ev[1])
            ts, data = ev[0], ev[4]
            if track is None:
                self.left_out[PAST_LANES] += 1
            elif type(data) is dict and type(ts) is int:
                on[ev[3]](track, ts, data, None if first is None else first + k)
                track.lane = None

    def trim(self, before: int) -> None:
        """Forget what ended before `before` (a live view's window moved on)."""
        for track in self.tracks.values():
            trimmed = _trim(track.bars, before, 3) + _trim(track.stretches, before, 2)
            if trimmed + _trim(track.marks, before, 1):
                track.lane = None
        _trim(self.arrows, before, 2)

    # -- reading ---------------------------------------------------------------------------

    def lanes(self) -> list[Lane]:
        """Every agent's lane, by id; snapshots are remade only for agents that changed."""
        if self._order is None:
            self._order = sorted(self.tracks)
        return [self._lane(self.tracks[agent]) for agent in self._order]

    def arrows_in(self, t0: int, t1: int) -> list[Arrow]:
        return [a for a in self.arrows if t0 <= a.ts <= t1]

    def said(self) -> str:
        """What the bounds left out, in words ("" when nothing)."""
        parts = [
            f"{n:,} events of agents past {MAX_LANES:,}" if what == PAST_LANES else counted(n, what)
            for what, n in self.left_out.items()
        ]
        return "left out: " + ", ".join(parts) if parts else ""

    # -- per kind ----------------------------------------------------------------------------

    def _on_task_start(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        task_id = as_str(d.get("task"))
        if task_id:
            track.running.pop(task_id, None)  # started again: from now
            self._open(track, task_id, (ts, as_str(d.get("name"), task_id), at))

    def _on_task_end(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        task_id = as_str(d.get("task"))
        if not task_id:
            return
        start, name, start_at = track.running.pop(task_id, (None, None, None))
        name = name or as_str(d.get("name"), task_id)
        end = ts if start is None else max(ts, start)  # a clock that went back: no negative bar
        self._keep(
            track.bars,
            Bar(task_id, name, start, end, as_str(d.get("result"), "ok"), start_at, at),
            "bar",
        )

    def _on_status(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        status = as_str(d.get("status"))
        if status is not None:
            self._set_status(track, status, ts)

    def _on_hello(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        """A (re)started agent runs none of what it ran before (as the model has it)."""
        self._abandon(track, ts, at)
        self._set_status(track, "starting", ts)

    def _on_bye(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        self._abandon(track, ts, at)
        self._set_status(track, as_str(d.get("status"), "done") or "done", ts)

    def _on_message(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        to = as_str(d.get("to"))
        if to and self._track(to) is not None:
            arrow = Arrow(track.agent, to, ts, as_str(d.get("topic"), "") or "", at)
            self._keep(self.arrows, arrow, "message")

    def _on_error(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        label = as_str(d.get("type")) or as_str(d.get("message"), "error") or "error"
        self._keep(track.marks, Mark("error", ts, label, at), "mark")

    def _on_checkpoint(self, track: _Track, ts: int, d: dict, at: int | None) -> None:
        self._keep(
            track.marks, Mark("checkpoint", ts, as_str(d.get("label"), "") or "", at), "mark"
        )

    # -- helpers -----------------------------------------------------------------------------

    def _track(self, agent: str) -> _Track | None:
        track = self.tracks.get(agent)
        if track is None:
            if len(self.tracks) >= MAX_LANES:
                return None
            track = self.tracks[agent] = _Track(agent)
            self._order = None
        return track

    def _open(self, track: _Track, task_id: str, opened: tuple) -> None:
        if len(track.running) >= MAX_RUNNING:
            del track.running[next(iter(track.running))]
            self.left_out["running task"] += 1
        track.running[task_id] = opened
        track.lane = None

    def _set_status(self, track: _Track, status: str, ts: int) -> None:
        if status == track.status:
            return
        if track.status is not None:
            since = track.since
            end = ts if since is None else max(ts, since)
            self._keep(track.stretches, Stretch(track.status, since, end), "status change")
        track.status, track.since = status, ts

    def _abandon(self, track: _Track, ts: int, at: int | None) -> None:
        for task_id, (start, name, start_at) in track.running.items():
            end = ts if start is None else max(ts, start)
            self._keep(track.bars, Bar(task_id, name, start, end, ABANDONED, start_at, at), "bar")
        track.running = {}

    def _keep(self, kept: deque, item: Any, what: str) -> None:
        """Append to a bounded deque, counting the oldest item it pushes out."""
        if len(kept) == kept.maxlen:
            self.left_out[f"older {what}"] += 1
        kept.append(item)

    def _lane(self, track: _Track) -> Lane:
        if track.lane is None:
            running = tuple(
                Bar(task_id, name, start, None, None, start_at, None)
                for task_id, (start, name, start_at) in track.running.items()
            )
            now = (Stretch(track.status, track.since, None),) if track.status is not None else ()
            track.lane = Lane(
                track.agent,
                (*track.bars, *running),
                (*track.stretches, *now),
                tuple(track.marks),
            )
        return track.lane


def _trim(kept: deque, before: int, end: int) -> int:
    """Drop from the left what ended (field `end` of each item) before `before`; how many."""
    n = 0
    while kept and kept[0][end] is not None and kept[0][end] < before:
        kept.popleft()
        n += 1
    return n
