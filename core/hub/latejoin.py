"""Late joiners: the swarm as it stands, for a viewer that arrives after it began.

A viewer knows only what it sees after it subscribes: an agent that said
hello before has no role, and one silent since (stalled, perhaps) does not
appear at all. A recording hub folds every event into a model anyway, so it
answers requests on a third socket (ROUTER, `history_endpoint`) with that
model as it stands (`SwarmModel.compact()`, packed).

A viewer subscribes first, then asks (`LateJoin`). Events keep arriving on
the feed meanwhile, and the answer and the feed are two sockets that ZeroMQ
does not order between them, so some events are both in the answer and
in the feed. Per agent the feed keeps the order of its events, so an event
is in the answer exactly when it is of the incarnation the answer holds
and numbered below the seq the answer expects next: those are left out,
both from what arrived while waiting and from what arrives for a while after.

The answer is trusted as far as a session file's keyframe is: it must unpack
and restore (anything else is dropped and the view goes on), but the types
inside the rows are not checked field by field. It comes from the hub the
viewer chose, authenticated by its key under CURVE.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import zmq

from swarmscope.core.events import Event
from swarmscope.core.hub.feed import READER_QUEUE, Feed
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.wire.endpoints import check_endpoint
from swarmscope.core.wire.kept import Kept, without
from swarmscope.core.wire.keys import client_curve

HISTORY_VERSION = 1
ASK = b"state-now"
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""Answers larger than this are refused unread (100,000 agents with a small state each: 14 MB)."""
WAIT_S = 5.0
"""How long a viewer waits for an answer before it goes on with what it sees. Measured with
100,000 agents: the hub copies and packs its model in 0.7 s; the viewer restores it in 1.0 s
more, after the answer is in."""
OVERLAP_S = 5.0
"""How long after the answer events the answer already holds may still arrive on the feed."""
MAX_HELD_EVENTS = 500_000
"""Events kept while waiting (a flood past this: the answer is given up, the view goes on)."""

Standing = Callable[[], tuple[SwarmModel | None, Path | None]]
"""How the swarm stands and the session file being written (a recorder's, either None when
unknown)."""


def history_endpoint(out_endpoint: str) -> str:
    """Where a hub answers late joiners, next to its viewer side: tcp port + 1, or the ipc
    or inproc name with `-history` after it."""
    if out_endpoint.startswith("tcp://"):
        host, _, port = out_endpoint.rpartition(":")
        if port.isdigit():
            return f"{host}:{int(port) + 1}"
    return check_endpoint(f"{out_endpoint}-history")


def answer(standing: Standing | None) -> bytes:
    """The reply to a late joiner: `[version, compact model, {"session", "host"}]`, the model None
    when there is none; the session file being written, so a viewer on the same host can rewind
    it."""
    model, path = standing() if standing is not None else (None, None)
    where = (
        {"session": str(path.resolve()), "host": socket.gethostname()} if path is not None else {}
    )
    return msgpack.packb([HISTORY_VERSION, model.compact() if model is not None else None, where])


class LateJoin:
    """A viewer's request for the swarm as it stands, asked once its feed is connected."""

    def __init__(
        self,
        endpoint: str,
        context: zmq.Context | None = None,
        clock: Callable[[], float] = time.monotonic,
        hold: bool = True,
    ):
        """`hold`: keep what arrives while waiting, to fold into the answer (a viewer, which folded
        it already); a recorder, which writes it itself, holds nothing."""
        self._clock = clock
        self._deadline = clock() + WAIT_S
        self._held: list[Event] | None = [] if hold else None
        self._expected: dict[str, tuple[int, int]] = {}
        self._overlap_until = 0.0
        self.session: Path | None = None
        """The hub's session file, when it answered with one this host can read."""
        self._sock: zmq.Socket | None = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.MAXMSGSIZE, MAX_ANSWER_BYTES)
        curve = client_curve()
        if curve is not None:
            curve.apply(self._sock)
        self._sock.connect(endpoint)
        self._sock.send(ASK)

    @property
    def waiting(self) -> bool:
        return self._sock is not None

    def take(self, events: list[Event]) -> list[Event]:
        """Note events the viewer folds while waiting; after the answer, leave out those it
        holds."""
        if self._held is not None:
            self._held.extend(events)
            if len(self._held) > MAX_HELD_EVENTS:
                self.close()
        return [e for e in events if not self.holds(e)] if self._overlapping() else events

    def take_kept(self, kept: list[Kept]) -> list[Kept]:
        """`take` for a recorder's kept messages (it holds nothing while waiting)."""
        return without(kept, self.holds)[0] if self._overlapping() else kept

    def _overlapping(self) -> bool:
        """Whether events the answer holds may still arrive (until OVERLAP_S after it)."""
        if self._expected and self._clock() < self._overlap_until:
            return True
        self._expected = {}
        return False

    def answer(self) -> SwarmModel | None:
        """The hub's model with what arrived while waiting folded in (what was held), once the
        answer is here; None while waiting, and when there is none (no recording hub, a bad answer,
        too late). From then on, `take` leaves out what the answer holds, unless the caller
        `forget`s it."""
        if self._sock is None:
            return None
        if not self._sock.poll(0):
            if self._clock() >= self._deadline:
                self.close()
            return None
        model, self.session = _read(self._sock.recv())
        held = self._held or []
        self.close()
        if model is None:
            return None
        self._expected = {a.id: (a.inc, a.next_seq) for a in model.agents.values()}
        self._overlap_until = self._clock() + OVERLAP_S
        model.apply_many([e for e in held if not self.holds(e)])
        return model

    def forget(self) -> None:
        """The answer went unused: leave nothing out of what arrives after it."""
        self._expected = {}

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None
        self._held = None

    def holds(self, ev: Event) -> bool:
        """Whether the answer already holds `ev` (same incarnation, numbered below what it expects
        next)."""
        known = self._expected.get(ev.agent)
        return known is not None and ev.inc == known[0] and ev.seq < known[1]


class JoiningFeed(Feed):
    """A monitored feed that, once through the hub's handshake, asks how the swarm stands (a
    LateJoin) and from then on delivers only the events the answer does not hold: the one
    late-joining loop of viewers and recorders. Whoever reads it takes up `answering`."""

    def __init__(
        self,
        endpoint: str,
        history: str | None = None,
        *,
        monitor: str,
        queue: int = READER_QUEUE,
        hold: bool = True,
        ask: bool = True,
        intake: int | None = None,
        who: str = "this reader",
    ) -> None:
        """`history`: where the hub answers (default: next to `endpoint`); `hold`: as LateJoin's;
        `ask`: False for a reader that cannot use an answer; `intake`, `who`: as Feed's."""
        super().__init__(endpoint, queue=queue, monitor=monitor, intake=intake, who=who)
        self.history = history or history_endpoint(endpoint)
        self._hold, self._ask = hold, ask
        self._join: LateJoin | None = None

    def poll(self, timeout_ms: int = 100) -> list[Event]:
        events = super().poll(timeout_ms)
        # after the wait: what it brought came over a connection that asks
        self._ask_once_connected()
        return self._join.take(events) if self._join is not None else events

    def poll_kept(self, timeout_ms: int = 100) -> list[Kept]:
        kept = super().poll_kept(timeout_ms)
        self._ask_once_connected()
        return self._join.take_kept(kept) if self._join is not None else kept

    def _ask_once_connected(self) -> None:
        self.watch()
        # subscribed: now ask for what came before
        if self._join is None and self._ask and self.connected:
            self._join = LateJoin(self.history, hold=self._hold)

    @property
    def answering(self) -> LateJoin | None:
        """The late join while its answer may still come (or may have come and is not taken yet)."""
        return self._join if self._join is not None and self._join.waiting else None

    def close(self) -> None:
        if self._join is not None:
            self._join.close()
        super().close()


def _read(payload: bytes) -> tuple[SwarmModel | None, Path | None]:
    """The model and the hub's session file an answer holds, unpacked once (14 MB for 100,000
    agents); None for either that is absent, of a newer version, or malformed."""
    try:
        fields = msgpack.unpackb(payload, strict_map_key=True)  # a model's maps have str keys
    except Exception:  # untrusted bytes: whatever they are, the view goes on with what it sees
        return None, None
    return _model_of(fields), _session_of(fields)


def _session_of(fields: Any) -> Path | None:
    """The hub's session file, if the answer names one on this host that this process can read."""
    try:
        path = Path(fields[2]["session"])
        if fields[2]["host"] == socket.gethostname() and os.access(path, os.R_OK):
            return path
    except Exception:  # an older hub's answer, or a malformed one: nothing to rewind into
        pass
    return None


def _model_of(fields: Any) -> SwarmModel | None:
    """The model in an answer; None for none, a newer version, or anything malformed."""
    try:
        version, rows = fields[:2]
        if version != HISTORY_VERSION or rows is None:
            return None
        return SwarmModel.from_compact(rows)
    except Exception:  # untrusted: whatever it is, the view goes on with what it sees
        return None
