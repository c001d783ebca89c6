"""The viewer side of the wire: a SUB socket on the hub's XPUB that yields events.

Every message passes the gate (gate.py), which counts what it refuses; the
feed never raises on bad input. `Feed` is for plain code and threads,
`AsyncFeed` for asyncio code.

A reader that may fall behind (a recorder, a viewer's model) gives the feed
an intake: a thread of the feed's own then takes messages off the socket as
they come, into a queue bounded in bytes (intake.py), so what cannot wait is
dropped here, counted per agent, and delivered in its place as an event of
kind `lost`, rather than dropped by ZeroMQ without a word.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from itertools import islice

import zmq
import zmq.asyncio
from zmq.utils.monitor import recv_monitor_message

from swarmscope.core.events import Event
from swarmscope.core.gcpause import bulk_allocation
from swarmscope.core.hub.intake import Intake, Lost, lost_event, queued
from swarmscope.core.hub.ledger import TOPIC_BASELINE, TOPIC_LEDGER, Claim, Tally, read_ledger
from swarmscope.core.wire.endpoints import DEFAULT_OUT, check_endpoint
from swarmscope.core.wire.format import MAX_MESSAGE_BYTES, TOPIC_EVENTS
from swarmscope.core.wire.gate import DecodeStats
from swarmscope.core.wire.kept import Kept, events_kept, keep_counted, kept_of
from swarmscope.core.wire.keys import ENV_HUB_KEY, ENV_KEY, client_curve

MAX_MESSAGES_PER_POLL = 256
MAX_EVENTS_PER_POLL = 5_000
"""A poll returns after this many messages or events, whichever comes first, so a
flood cannot starve the caller nor pile up more events than it can fold at once."""


READER_QUEUE = 1_000
"""Messages ZeroMQ holds for a reader between two turns of its intake thread (or its own poll)."""
VIEWER_QUEUE = 200
"""For a screen without an intake: about 100,000 events, a second at full flood. A view that cannot
keep up loses the excess, which its model counts as gaps, instead of holding gigabytes in ZeroMQ's
queue."""
READER_BYTES = 128 * 1024 * 1024
"""What a recorder's intake holds before it drops (and says so in the session)."""

TURNED_AWAY = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "turned away: the hub at {endpoint} does not know this key; "
    "copy the public key into the hub's keys/clients/ and start again",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "turned away: CURVE on one side only; "
    "for a --curve hub at {endpoint} "
    f"set {ENV_HUB_KEY} and {ENV_KEY}, else neither",
}
"""What a reader says when the hub's handshake turns it away (ZeroMQ does not try again after
that)."""


_WATCHED = (
    zmq.EVENT_CONNECTED
    | zmq.EVENT_DISCONNECTED
    | zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
)
"""What a monitored feed reports: connections, and whether the hub's handshake let it in."""


def _subscribe(sock: zmq.Socket, endpoint: str, queue: int, nonce: str) -> None:
    """Subscribe to the events, then (with a nonce) to this reader's baseline: the hub answers the
    second where the first has begun to deliver (ledger.py)."""
    sock.setsockopt(zmq.RCVHWM, queue)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, TOPIC_EVENTS)
    if nonce:
        sock.setsockopt(zmq.SUBSCRIBE, TOPIC_BASELINE + nonce.encode())
    curve = client_curve()  # from the environment: see keys.py
    if curve is not None:
        curve.apply(sock)
    sock.connect(check_endpoint(endpoint, "feed endpoint"))


class Feed:
    """Events from a hub, for plain (threaded) code."""

    def __init__(
        self,
        endpoint: str = DEFAULT_OUT,
        context: zmq.Context | None = None,
        queue: int = READER_QUEUE,
        monitor: str | None = None,
        intake: int | None = None,
        who: str = "this reader",
    ) -> None:
        """`queue`: messages ZeroMQ may hold while this reader is busy; past it, they are dropped.
        `monitor`: a name unique in the process, to get `self.monitor`, a PAIR socket receiving this
        feed's connect, disconnect and handshake events. It is attached before connecting, so the
        first connection is never missed. `intake`: bytes a thread of the feed's own may hold for
        this reader (see the module's docstring), None for none; `who` is named in what it drops."""
        self.endpoint = endpoint
        self.stats = DecodeStats()
        self._sock = (context or zmq.Context.instance()).socket(zmq.SUB)
        self.monitor: zmq.Socket | None = None
        self.connected = False
        """Through the hub's handshake (kept up to date by watch())."""
        self.turned_away: str | None = None
        """Why the hub's handshake refused this reader, if it did (by watch())."""
        if monitor is not None:
            self.monitor = self._sock.get_monitor_socket(
                _WATCHED, addr=f"inproc://feed-monitor-{monitor}"
            )
        nonce = os.urandom(8).hex() if intake else ""  # a recorder's: it keeps a tally
        _subscribe(self._sock, endpoint, queue, nonce)
        self.intake = Intake(intake) if intake else None
        self._why_lost = f"dropped by {who}: it fell behind"
        self._why_ledger = f"passed the hub, never reached {who}: it fell behind"
        self.tally = Tally(nonce)
        """How far each agent's messages have come to this reader: what the hub's ledger is held
        against."""
        self.whole_ledgers = 0
        """Whole ledgers (every part) taken by poll_kept: a recorder's stop waits for one more."""
        self._closing = threading.Event()
        self._receiver: threading.Thread | None = None
        if self.intake is not None:
            self._receiver = threading.Thread(
                target=self._receive, name="swarmscope-feed", daemon=True
            )
            self._receiver.start()

    def poll(self, timeout_ms: int = 100) -> list[Event]:
        """Events from every message waiting (up to a bound), waiting at most timeout_ms for the
        first."""
        events: list[Event] = []
        with bulk_allocation():
            for item in self._waiting(timeout_ms):
                if type(item) is Lost:
                    events.append(lost_event(item, self._why_lost))
                    continue
                if item[0] == TOPIC_LEDGER:
                    self.stats.ledgers += 1  # a recorder's to use (poll_kept); a view counts gaps
                    continue
                events.extend(self.stats.decode(item))
                if len(events) >= MAX_EVENTS_PER_POLL and self.intake is None:
                    # the rest stays in the socket (taken from an intake, it is all folded now)
                    break
        return events

    def poll_kept(self, timeout_ms: int = 100) -> list[Kept]:
        """As `poll`, the messages as a recorder keeps them (wire/kept.py): checked, not decoded;
        and what the hub's ledger says passed it but never came, as `lost` events in place
        (ledger.py)."""
        kept: list[Kept] = []
        for item in self._waiting(timeout_ms):
            if type(item) is Lost:
                kept += self._said(
                    self.tally.delivered(item.agent, item.inc, item.first, item.last + 1)
                )
                kept.append(kept_of([lost_event(item, self._why_lost)]))
            elif item[0] == TOPIC_LEDGER:
                self.stats.ledgers += 1
                ledger = read_ledger(item[-1])
                self.whole_ledgers += (
                    ledger.whole is not None and ledger.whole[1] == ledger.whole[2] - 1
                )
                kept += self._said(self.tally.lost(ledger))
            else:
                got = keep_counted(self.stats, item)
                if got is not None:
                    events = events_kept(got) if got.head is None else ()
                    kept += self._said(self.tally.note(got.head, events))
                    kept.append(got)
        return kept

    def _said(self, claims: list[Claim]) -> list[Kept]:
        """What the tally says this reader lost, as `lost` events (each a message of its own)."""
        if not claims:  # nearly every message: nothing to make
            return []
        now = time.time_ns()
        return [
            kept_of(
                [
                    lost_event(
                        Lost(agent, inc, first, last, last - first + 1, now, late), self._why_ledger
                    )
                ]
            )
            for agent, inc, first, last, late in claims
        ]

    def last_kept(self, within: float) -> Iterator[list[Kept]]:
        """At a recorder's stop, what the feed took in and what waits at its socket, as `poll_kept`
        gives it, a pass at a time; what is not through within `within` seconds is given up and
        comes as lost events in its place. A feed with an intake only: the reader's own thread
        stops taking messages in first, so what it leaves is all here."""
        self._closing.set()
        self._receiver.join(5)
        for frames in queued(self._sock):  # ZeroMQ holds at most READER_QUEUE of them
            self.intake.put(frames)
        deadline = time.monotonic() + within
        while self.intake.waiting:
            if time.monotonic() >= deadline:
                self.intake.give_up()
            yield self.poll_kept(0)

    def _waiting(self, timeout_ms: int) -> Iterator[list[bytes] | Lost]:
        """The messages waiting now (up to MAX_MESSAGES_PER_POLL), waiting at most timeout_ms for
        the first."""
        if self.intake is not None:
            yield from self.intake.take(MAX_MESSAGES_PER_POLL, timeout_ms / 1000)
            return
        if self._sock.poll(timeout_ms):
            yield from islice(queued(self._sock), MAX_MESSAGES_PER_POLL)

    def _receive(self) -> None:
        """The intake's thread: every message off the socket as it comes, and the monitor read."""
        put = self.intake.put
        while not self._closing.is_set():
            if self._sock.poll(50):
                taken = list(islice(queued(self._sock), READER_QUEUE))
                self._watch()  # the handshake is said before what came over it: `connected` first
                for frames in taken:
                    put(frames)
            self._watch()

    def watch(self) -> None:
        """Read what the monitor reported since the last call into `connected` and `turned_away`
        (with an intake, its thread does this)."""
        if self._receiver is None:
            self._watch()

    def _watch(self) -> None:
        while self.monitor is not None and self.monitor.poll(0):
            event = recv_monitor_message(self.monitor)["event"]
            self.connected = event == zmq.EVENT_HANDSHAKE_SUCCEEDED
            if event in TURNED_AWAY:
                self.turned_away = TURNED_AWAY[event].format(endpoint=self.endpoint)

    def wait_connected(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds to be through the hub's handshake (a monitored feed
        only): from then on it sees every event, a swarm's hellos included."""
        deadline = time.monotonic() + timeout
        while self.monitor is not None and not self.connected and self.turned_away is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._receiver is not None:
                time.sleep(min(left, 0.01))  # the intake's thread reads the monitor
                continue
            self.monitor.poll(max(1, int(left * 1000)))
            self._watch()
        return self.connected

    def close(self) -> None:
        self._closing.set()
        if self._receiver is not None:
            self._receiver.join(5)
        if self.monitor is not None:
            self._sock.disable_monitor()
            self.monitor.close(linger=0)
        self._sock.close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFeed(Feed):
    """Events from a hub, for asyncio code such as the Textual app.

    Waits for readability on an asyncio shadow of the same socket, then
    drains it with the plain, non-blocking poll: one decoding path for both.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_OUT,
        context: zmq.Context | None = None,
        queue: int = READER_QUEUE,
    ) -> None:
        super().__init__(endpoint, context, queue)
        self._waiter = zmq.asyncio.Socket.from_socket(self._sock)

    async def next_batch(self, timeout_ms: int = 100) -> list[Event]:
        """As Feed.poll, awaiting the first message instead of blocking."""
        if not await self._waiter.poll(timeout_ms):
            return []
        return self.poll(0)
