"""A live source whose model lives in a child process, so taking events in never slows the screen.

In one process, folding 100,000 events a second and drawing the screen share
one interpreter lock, and frames and key presses wait on it. Here a child
process runs a LiveSource (feed, decode, fold) and, ten times a second, sends
what changed in the model and the newest events down a pipe; a thread in the
screen's process folds each push into its own copy between frames. The view is at most one push
(100 ms) behind the feed, which is what the screen shows at 10 frames a
second anyway.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.live.source import Source
from swarmscope.core.model.fields import PUSHED, ModelField, Push
from swarmscope.core.model.profile import Profile
from swarmscope.core.model.swarm import SwarmModel

PUSH_S = 0.1
PUSH_EVENTS = 2_000
"""Newest events sent with each push: what an event log can show, not every event."""
PUSH_LINKS = 2_000
"""Most recent agent pairs the screen holds (the agent detail lists the busiest); each push sends
those that talked since the last."""
PROFILE_S = 1.0
"""How often the profile's summary is sent: sorting every task's duration is not for every push."""
PUSH_FAILED_TASKS = 200
"""Tasks in flight are all sent; of the finished ones, only the newest that did not end ok
(the tasks panel keeps failed tasks in view). The rest would only cost the screen time."""


@dataclass
class Update:
    """What changed in the child's model since the last push, and the feed's own state.

    `fields` holds each model field the screen reads, as its row in core/model/fields.py says
    (Push): agents only when they saw events, links only when they talked, tasks as far as a screen
    shows them, the rest whole."""

    fields: dict[str, Any]
    events: list[Event]
    connected: bool
    turned_away: str | None
    refused: dict[str, int]
    hub_session: Path | None
    profile: dict[str, Any] | None = None
    """The profile's summary (Profile.summary), every PROFILE_S; None in the pushes between."""
    unsent: int = 0
    """Events folded since the last push that are not in `events` (only the newest are sent)."""


def _serve(endpoint: str, conn: Connection, push_s: float, history: str | None) -> None:
    """The child: fold the feed, push what the screen needs until the parent goes away."""
    from swarmscope.core.live.source import LiveSource  # the child imports only what it runs

    source = LiveSource(endpoint, history=history).start()
    seen, next_profile = 0, 0.0
    sent_at: dict[str, dict] = {f.name: {} for f in PUSHED}
    try:
        while not conn.poll(push_s):
            profile = None
            if time.monotonic() >= next_profile:
                profile, next_profile = source.profile_summary(), time.monotonic() + PROFILE_S
            with source.reading() as model:
                before = seen
                events, seen = source.newest(seen, PUSH_EVENTS)
                push = _push(model, sent_at, events, source)
                push.profile, push.unsent = profile, seen - before - len(events)
                payload = pickle.dumps(push, pickle.HIGHEST_PROTOCOL)
            conn.send_bytes(payload)  # pickled under the lock: nothing changes mid-copy
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        pass  # the screen closed
    finally:
        source.stop()


def _push(
    model: SwarmModel, sent_at: dict[str, dict], events: list[Event], source: Source
) -> Update:
    return Update(
        {f.name: _sent(f, getattr(model, f.name), sent_at[f.name]) for f in PUSHED},
        events,
        source.connected,
        source.turned_away,
        source.refused,
        source.hub_session,
    )


def _sent(f: ModelField, value: Any, sent_at: dict) -> Any:
    """What the child sends of one field (`sent_at`: what each record was when last sent)."""
    if f.push is Push.CHANGED:
        changed = {k: r for k, r in value.items() if sent_at.get(k) != r.events}
        sent_at.update((k, r.events) for k, r in changed.items())
        return changed
    if f.push is Push.IN_VIEW:
        running = [t for t in value.values() if t.result is None]
        failed = [t for t in value.values() if t.result not in (None, "ok")]
        return running + failed[-PUSH_FAILED_TASKS:]
    if f.push is Push.NEWEST:
        return _moved(value, sent_at)
    return f.kind.plain(value)


def _moved(links: dict, sent_at: dict) -> list:
    """The pairs that talked since the last push, the newest PUSH_LINKS at most, oldest first.

    The model keeps its links in order of recency, so these are its last ones: the walk back
    stops at the first pair that is as it was sent (a pair dropped and heard from again starts
    anew, which its clock tells apart)."""
    moved = []
    for key, link in islice(reversed(links.items()), PUSH_LINKS):
        if sent_at.get(key) == (link.count, link.last):
            break
        sent_at[key] = (link.count, link.last)
        moved.append((key, link))
    if len(sent_at) > 2 * len(links) + PUSH_LINKS:  # pairs the model dropped
        for key in [k for k in sent_at if k not in links]:
            del sent_at[key]
    return moved[::-1]


def _taken(f: ModelField, held: Any, fresh: Any, sent: Any) -> Any:
    """The screen's new value of one field: `held` is its value now, `fresh` a new model's."""
    if f.push is Push.CHANGED:
        held.update(sent)
        return held
    if f.push is Push.IN_VIEW:
        fresh.update((t.id, t) for t in sent)
        return fresh
    if f.push is Push.NEWEST:
        for key, link in sent:  # to the end: the newest last, as the model keeps them
            held.pop(key, None)
            held[key] = link
        for key in list(islice(held, max(0, len(held) - PUSH_LINKS))):
            del held[key]
        return held
    return f.kind.from_plain(fresh, sent)


class ProcessSource(Source):
    """The Source surface over a model kept up to date in a child process."""

    def __init__(
        self,
        endpoint: str,
        clock: Callable[[], int] = time.time_ns,
        push_s: float = PUSH_S,
        history: str | None = None,
    ) -> None:
        """`history`: where the hub answers late joiners (see LiveSource)."""
        super().__init__(endpoint, clock)
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(
            target=_serve,
            args=(endpoint, child, push_s, history),
            name="swarmscope-ingest",
            daemon=True,
        )
        self._profile: dict[str, Any] = Profile().summary()
        self._stopping = threading.Event()
        self._receiver = threading.Thread(
            target=self._receive, name="swarmscope-pushes", daemon=True
        )

    def start(self) -> ProcessSource:
        self._proc.start()
        self._receiver.start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until the child is subscribed to the hub."""
        deadline = time.monotonic() + timeout
        while not self.connected and time.monotonic() < deadline and self._receiver.is_alive():
            time.sleep(0.02)
        return self.connected

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._conn.send(None)  # any message tells the child to stop
        except (BrokenPipeError, OSError):
            pass
        self._receiver.join(3)
        self._proc.join(3)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(3)

    @contextmanager
    def reading(self) -> Iterator[SwarmModel]:
        """The screen's copy, held still while a frame reads it."""
        with self.lock:
            yield self.model

    def _receive(self) -> None:
        """A thread of ours takes pushes in between frames, so a frame never pays for one."""
        try:
            while not self._stopping.is_set():
                if self._conn.poll(0.1):
                    self._keys_first()  # a busy push takes ~30 ms to unpickle, ~10 to apply
                    push = pickle.loads(self._conn.recv_bytes())
                    with self.lock:
                        self._apply(push)
        except (EOFError, OSError):
            pass
        self.connected = False  # the child died or we stop: say so rather than show a frozen swarm

    def _apply(self, push: Update) -> None:
        m, fresh = self.model, SwarmModel()
        for f in PUSHED:
            held = getattr(m, f.name)
            setattr(m, f.name, _taken(f, held, getattr(fresh, f.name), push.fields[f.name]))
        self.recent.extend(push.events)
        self.appended += len(push.events)
        self.unsent += push.unsent
        self.connected, self.turned_away, self.refused = (
            push.connected,
            push.turned_away,
            push.refused,
        )
        if push.hub_session is not None:  # the hub records this swarm: `r` can rewind its file
            self.hub_session, self.recording = push.hub_session, True
        if push.profile is not None:
            self._profile = push.profile

    def profile_summary(self, top: int = 50) -> dict[str, Any]:
        """The child's profile as it last sent it (every PROFILE_S)."""
        with self.lock:
            return dict(self._profile, tasks=self._profile["tasks"][:top])
