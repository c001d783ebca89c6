"""The recorder: events in, session files out, under a recording policy.

One Recorder serves both `swarmscope record` (a viewer of a hub, through a
Feed) and `swarmscope hub --record` (a listener on the hub's tap thread, so a
session exists even when nobody watches). The policy decides what is kept:
every session, only failed ones, a sampled fraction; and when a session ends
and the next begins: by size, by recorded duration, or one per run id that
agents announce in their hello tags ({"run": ...}). Each part after the
first starts from the swarm as the part before ended (see writer.py).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmscope.core.errors import ConfigError
from swarmscope.core.events import Event
from swarmscope.core.hub.feed import READER_BYTES
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.intake import Intake
from swarmscope.core.hub.latejoin import JoiningFeed, LateJoin
from swarmscope.core.hub.ledger import LEDGER_ALL, LEDGER_S
from swarmscope.core.model.reducers import MAX_NAME
from swarmscope.core.model.swarm import MAX_AGENTS, SwarmModel
from swarmscope.core.session.keyframer import Keyframers
from swarmscope.core.session.message_writer import MessageWriter
from swarmscope.core.session.store import new_session_path
from swarmscope.core.session.writer import SessionWriter, new_header
from swarmscope.core.wire.gate import DecodeStats
from swarmscope.core.wire.kept import Kept, events_kept, kept_of, without

Writer = SessionWriter | MessageWriter
TICK_S = 0.05
"""The longest a recorder waits without looking at its writers: no longer than their flush window,
so it is awake by the deadline of anything buffered meanwhile (and takes the keyframes made)."""
KEEP = ("all", "failed")
SAY_BEHIND = 100_000
"""Events a keyframer may have left to fold at close before the wait is worth a word (~0.4 s of
folding)."""
LEDGER_WAIT_S = LEDGER_S * LEDGER_ALL + 1.0
"""At a stop, how long a recorder reads on for the hub's next whole ledger: what ZeroMQ dropped of
an agent's last events is said only by a ledger that comes after them (hub/ledger.py)."""
COMPACT_WAIT_S = 1.0
"""How long a stopping recorder waits for its keyframer to compact the sessions it closed
(compact.py: ~5 us an event) before it leaves it to finish on its own."""
STOP_DRAIN_S = 10.0
"""At a stop, how long the recorder may go on writing what it took in before it stopped; what is
left then is written as lost events."""
JOIN_HOLD_S = 0.5
"""How long a recorder that joined late holds what it takes in for the hub's answer (which comes in
milliseconds from a hub whose keyframer has caught up): past it, what it holds is recorded as it
came."""
STANDING_WAIT_S = 4.0
"""How long a late joiner's answer waits for the keyframer to fold what is written (a viewer waits 5
s)."""
MAX_RUNS = 64
"""Sessions a recorder splitting by run writes at once: a flood of made-up run ids shares the
session of no run instead of opening a file each."""
BYTES_PER_EVENT = 20
"""About what a session takes on disk per event (the simulator's: 18.2): when a part left out by
the sample has had its --rotate-size, so the next part gets its draw."""


@dataclass(frozen=True)
class RecordPolicy:
    keep: str = "all"
    """"all", or "failed": a session whose outcome is ok is deleted when it ends."""
    sample: float = 1.0
    """Fraction of sessions recorded at all (decided when each one starts)."""
    rotate_bytes: int | None = None
    """End a session and start the next past this size on disk."""
    rotate_seconds: float | None = None
    """... or past this much recorded time."""
    split_by_run: bool = False
    """One session per run id announced by agents; agents without one share a session."""
    compact: bool = True
    """Rewrite each session in big blocks once closed (compact.py), in the keyframer process."""

    def __post_init__(self) -> None:
        if self.keep not in KEEP:
            raise ConfigError(f"keep must be one of {', '.join(KEEP)}, not {self.keep!r}")
        if not 0 < self.sample <= 1:
            raise ConfigError(f"sample must be above 0 and at most 1, not {self.sample}")

    @property
    def splits(self) -> bool:
        return bool(self.rotate_bytes or self.rotate_seconds or self.split_by_run)


class _Track:
    """One stream of sessions (one per run id when splitting by run): the part now, and parts so
    far.

    A part the sample leaves out has no writer, but it still ends as a kept one would, so
    the part after it gets its own draw."""

    def __init__(self, run: str | None) -> None:
        self.run = run
        self.open = False
        """A part has begun (written, or left out by the sample) and not yet ended."""
        self.writer: Writer | None = None
        self.part = 0
        self.events = 0
        """Events in the part now."""
        self.first_ts = 0
        self.last_ts = 0
        self.ended: tuple[str, SwarmModel] | None = None
        """The id and final model of the part before, which the next part starts from."""

    @property
    def bytes(self) -> int:
        """The part's size on disk; for a part left out, about what it would have taken."""
        return self.writer.bytes if self.writer is not None else self.events * BYTES_PER_EVENT


class Recorder:
    """Routes batches of events into session files; thread-safe (the hub calls it from its tap
    thread)."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        out: Path | None = None,
        name: str | None = None,
        tags: Iterable[str] = (),
        policy: RecordPolicy = RecordPolicy(),
        writer_options: dict[str, Any] | None = None,
        rng: random.Random | None = None,
        source: str = "",
    ) -> None:
        if out is not None and policy.splits:
            raise ConfigError("--out names one file; rotating or splitting by run needs --dir")
        if out is None and directory is None:
            raise ConfigError("a recorder needs --out FILE or --dir DIR")
        _check_writable(out.parent if out is not None else directory)
        self.directory, self.out, self.name, self.tags = directory, out, name, list(tags)
        self.policy, self.source = policy, source
        self._writer_options = writer_options or {}
        self._rng = rng or random.Random()
        self._tracks: dict[str | None, _Track] = {}
        self._agent_run: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.kept: list[Path] = []
        """Files of sessions that ended and were kept."""
        self.discarded = 0
        """Sessions that ended and were not kept (outcome ok under keep=failed)."""
        self.events = 0
        self.skipped = 0
        """Events of sessions the sample left out."""
        self.feed: DecodeStats | None = None
        """What the feed took in and refused (run_feed only: a hub counts its own)."""
        self.intake: Intake | None = None
        """What the feed's intake dropped, each loss written into the session (run_feed only)."""
        self.failures = 0
        """Passes a bug of ours cost (run_feed only; a hub counts its own); `failure` says the
        last."""
        self.failure = ""
        self._keyframers = Keyframers()
        """The one process folding keyframes for every session this recorder writes at once."""
        self._hub_said: SwarmModel | None = None
        """The swarm as a recording hub said it stood when this recorder joined, until a session
        starts from it."""

    @property
    def current(self) -> list[Path]:
        """Files being written now."""
        return [t.writer.path for t in self._tracks.values() if t.writer is not None]

    # -- events in ----------------------------------------------------------------------

    def record(self, events: list[Event]) -> None:
        """Record events a program holds (simulated, or read from elsewhere): each session folds
        them as it writes (SessionWriter)."""
        with self._lock:
            for run, batch in self._route(events).items():
                self._append(self._track(run), _events(batch))

    def record_messages(self, kept: list[Kept]) -> None:
        """Record messages as kept (by a hub's tap, or `swarmscope record`'s feed): each session
        writes them as they came and leaves the folding to a keyframer process (MessageWriter)."""
        with self._lock:
            for run, batch in self._route_kept(kept).items():
                self._append(self._track(run), _messages(batch))

    def _route(self, events: list[Event]) -> dict[str | None, list[Event]]:
        if not self.policy.split_by_run:
            return {None: events}
        self._learn_runs(events)
        out: dict[str | None, list[Event]] = {}
        for ev in events:
            out.setdefault(self._agent_run.get(ev.agent), []).append(ev)
        return out

    def _route_kept(self, kept: list[Kept]) -> dict[str | None, list[Kept]]:
        """Messages by run: one agent's (2.0) go whole; a message of many agents' rows is split."""
        if not self.policy.split_by_run:
            return {None: kept}
        out: dict[str | None, list[Kept]] = {}
        for k in kept:
            if k.head is not None and not k.hello:
                out.setdefault(self._agent_run.get(k.head.agent), []).append(k)
                continue
            parts = self._route(events_kept(k))
            for run, events in parts.items():
                out.setdefault(run, []).append(k if len(parts) == 1 else kept_of(events))
        return out

    def _learn_runs(self, events: list[Event]) -> None:
        """The run id each agent announces in its hello's tags (at most MAX_RUNS runs at once, and
        MAX_AGENTS agents remembered: past either, an agent's events go to the session of no
        run)."""
        for ev in events:
            if ev.kind == "hello":
                tags = ev.data.get("tags")
                run = tags.get("run") if isinstance(tags, dict) else None
                if run is None or (
                    ev.agent not in self._agent_run and len(self._agent_run) >= MAX_AGENTS
                ):
                    continue
                run = str(run)[:MAX_NAME]
                if run in self._tracks or len(self._tracks) < MAX_RUNS:
                    self._agent_run[ev.agent] = run

    def _track(self, run: str | None) -> _Track:
        track = self._tracks.get(run)
        if track is None:
            track = self._tracks[run] = _Track(run)
        return track

    def _append(self, track: _Track, batch: _Batch) -> None:
        if not track.open:
            self._start(track, batch.first_ts, batch.writer)
        if track.writer is not None:
            track.writer.append(batch.items)
            self.events += batch.count
        else:
            self.skipped += batch.count
        track.events += batch.count
        track.last_ts = max(track.last_ts, batch.max_ts)
        if self._rotate_due(track):
            self._finish(track)

    def _rotate_due(self, track: _Track) -> bool:
        p = self.policy
        return bool(
            (p.rotate_bytes and track.bytes >= p.rotate_bytes)
            or (p.rotate_seconds and track.last_ts - track.first_ts >= p.rotate_seconds * 1e9)
        )

    # -- sessions -----------------------------------------------------------------------

    def _start(self, track: _Track, first_ts: int, writer: type[Writer]) -> None:
        track.open, track.part, track.events = True, track.part + 1, 0
        track.first_ts = track.last_ts = first_ts
        ended, track.ended = track.ended, None
        if ended is None and self._hub_said is not None:
            # joined late: start as the hub said it stood
            ended, self._hub_said = (
                ("", self._hub_said),
                None,
            )
        if self._rng.random() >= self.policy.sample:
            return  # and the part after starts afresh: nothing folds what this one leaves out
        name = self.name or track.run or "session"
        continues = {"continues": ended[0]} if ended and ended[0] else {}
        header = new_header(
            name, self.tags, run=track.run, part=track.part, source=self.source, **continues
        )
        path = self.out or new_session_path(self.directory, name, header["id"], header["started"])
        # compacted once kept (_finish), not as it closes: a policy may yet delete it
        shared = (
            {"keyframers": self._keyframers, "compact": False} if writer is MessageWriter else {}
        )
        track.writer = writer(
            path, header, start=ended[1] if ended else None, **shared, **self._writer_options
        )

    def _finish(self, track: _Track) -> None:
        writer, track.writer, track.open = track.writer, None, False
        if writer is None:
            return
        summary = writer.close()
        track.ended = (writer.header["id"], writer.model)
        if self.policy.keep == "failed" and summary["outcome"] != "failed":
            writer.path.unlink(missing_ok=True)
            self.discarded += 1
        else:
            self.kept.append(writer.path)
            if self.policy.compact and isinstance(writer, MessageWriter):
                self._keyframers.compact(writer.path)

    def tick(self) -> None:
        """Flush any session whose oldest buffered event has waited the flush window."""
        with self._lock:
            for track in self._tracks.values():
                if track.writer is not None:
                    track.writer.tick()

    def _flush_in(self) -> float:
        """Seconds until the next flush falls due, at most TICK_S: a flush happens at its
        deadline."""
        with self._lock:
            due = [t.writer.flush_in() for t in self._tracks.values() if t.writer is not None]
        return min([TICK_S, *(d for d in due if d is not None)])

    def close(self, say: Callable[[str], None] | None = None) -> list[Path]:
        """End every session (index, summary, trailer); returns the files kept. A session whose
        keyframer is far behind (a burst just ended) waits for it, and `say` is told so first."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
        with self._lock:
            for track in self._tracks.values():
                behind = (
                    track.writer.folding_behind() if isinstance(track.writer, MessageWriter) else 0
                )
                if say is not None and behind >= SAY_BEHIND:
                    say(
                        f"closing {track.writer.path.name}: its keyframer has {behind:,} events "
                        "left to fold"
                    )
                self._finish(track)
        if not self._keyframers.close(COMPACT_WAIT_S) and say is not None:
            say("compacting the sessions it closed, in the background (seconds per million events)")
        return self.kept

    # -- sources ------------------------------------------------------------------------------

    def start_ticker(self) -> Recorder:
        """Flush on time from a thread of our own (for a source that does not call tick())."""

        def run() -> None:
            while not self._stop.wait(self._flush_in()):
                self.tick()

        self._ticker = threading.Thread(target=run, name="swarmscope-recorder-tick", daemon=True)
        self._ticker.start()
        return self

    def attach(self, hub: Hub) -> Recorder:
        """Record everything `hub` passes, from its tap thread, and give late joiners the swarm as
        it stands."""
        hub.add_listener(self.record_messages)
        hub.serve_state(self.standing)
        return self.start_ticker()

    def standing(self) -> tuple[SwarmModel | None, Path | None]:
        """The recorded swarm as it stands (events not yet written included) and the file it goes
        into; (None, None) unless exactly one session is being written (split by run, each session
        holds a part of the swarm)."""
        with self._lock:
            writer = self._only_writer()
            if writer is None or isinstance(writer, SessionWriter):
                return (writer.model_now(), writer.path) if writer is not None else (None, None)
            writer.flush()
            written = writer.events
        return writer.keyframer.model(
            written, STANDING_WAIT_S
        ), writer.path  # the lock is the tap's meanwhile

    def _only_writer(self) -> Writer | None:
        writers = [t.writer for t in self._tracks.values() if t.writer is not None]
        return writers[0] if len(writers) == 1 else None

    def run_feed(
        self,
        endpoint: str,
        stop: Callable[[], bool],
        on_ready: Callable[[], None] | None = None,
        history: str | None = None,
        on_link: Callable[[bool], None] | None = None,
    ) -> None:
        """Record what a hub's viewer side delivers until stop() holds; ConfigError if the hub turns
        it away. A recording hub is asked how the swarm stood (`history`, default next to
        `endpoint`, see hub/latejoin.py): what arrives meanwhile waits (JOIN_HOLD_S at most), so the
        first session starts from the answer and leaves out what it holds. on_link(connected) is
        told each time the hub comes or goes."""
        with JoiningFeed(
            endpoint,
            history,
            monitor=f"recorder-{id(self)}",
            hold=False,
            ask=not self.policy.split_by_run,
            intake=READER_BYTES,
            who=self.source or "the recorder",
        ) as feed:
            self.feed, self.intake = feed.stats, feed.intake
            if on_ready:
                on_ready()
            held: list[Kept] = []
            since = 0.0
            linked = False
            while not stop():
                kept = feed.poll_kept(int(self._flush_in() * 1000))
                if feed.turned_away:
                    raise ConfigError(feed.turned_away)
                if feed.connected != linked and on_link:
                    linked = feed.connected
                    on_link(linked)
                join = feed.answering
                if join is not None:  # the hub's answer may still come: what arrives waits for it
                    since = since if held else time.monotonic()
                    held += kept
                    kept = self._after_answer(join, held, since)
                    if kept is None:
                        continue
                    held = []
                if kept:
                    self._guarded(kept)
                self.tick()
            if held:
                self._guarded(held)
            self._until_whole_ledger(feed)
            for kept in feed.last_kept(STOP_DRAIN_S):
                if kept:
                    self._guarded(kept)

    def _until_whole_ledger(self, feed: JoiningFeed) -> None:
        """Record on until the hub's next whole ledger, LEDGER_WAIT_S at most, so a tail of an
        agent that ZeroMQ dropped for this recorder is written as lost, not left unsaid. Only
        behind a hub that has sent whole ledgers: a recorder with no hub stops at once."""
        seen, deadline = feed.whole_ledgers, time.monotonic() + LEDGER_WAIT_S
        if not seen or not feed.connected:
            return
        while feed.whole_ledgers == seen and time.monotonic() < deadline:
            kept = feed.poll_kept(100)
            if kept:
                self._guarded(kept)

    def _after_answer(self, join: LateJoin, held: list[Kept], since: float) -> list[Kept] | None:
        """What of `held` to record once the hub's answer is in (the first session starts from it,
        and what it holds is left out), or once it will not be (later than JOIN_HOLD_S, or none):
        all of it, nothing left out. None while the answer may still come."""
        model = join.answer()
        if model is not None and not self._tracks:
            self._hub_said = model
            return without(held, join.holds)[0]
        if model is None and join.waiting and time.monotonic() - since < JOIN_HOLD_S:
            return None
        join.close()
        join.forget()
        return held

    def _guarded(self, kept: list[Kept]) -> None:
        """record_messages, where a bug of ours costs those messages, said once, never the recording
        (a disk that fails is not a bug: it ends the recording, in one line)."""
        try:
            self.record_messages(kept)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - what records must outlive anything it is given
            self.failures += 1
            self.failure = f"{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True)
class _Batch:
    """Events or kept messages on their way to a session, and what a track needs to know of them."""

    items: list
    count: int
    first_ts: int
    max_ts: int
    writer: type[Writer]


def _events(events: list[Event]) -> _Batch:
    return _Batch(events, len(events), events[0].ts, max(ev.ts for ev in events), SessionWriter)


def _messages(kept: list[Kept]) -> _Batch:
    return _Batch(
        kept,
        sum(k.count for k in kept),
        kept[0].first_ts,
        max(k.max_ts for k in kept),
        MessageWriter,
    )


def _check_writable(folder: Path) -> None:
    """Sessions open at their first event: a folder they cannot go in is said now, not then."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot record into {folder}: {exc.strerror}; choose another --out or --dir"
        ) from exc
    if not os.access(folder, os.W_OK):
        raise ConfigError(
            f"cannot record into {folder}: not writable; choose another --out or --dir"
        )
