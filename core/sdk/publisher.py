"""The agent side's transport: a bounded queue and one background flusher thread.

`emit()` on the agent's thread only appends to a deque; everything that
costs (packing, sending, heartbeats) happens on the flusher thread, so the
agent never blocks and never sees an exception from us.

A message carries at most `batch_size` events and, past the first event,
about MAX_BATCH_BYTES: a batch of large events (state snapshots) would
otherwise outgrow what the hub accepts, and the hub answers an oversized
frame by cutting the sender off.

The socket is an XPUB connected to the hub's XSUB. Unlike PUB, XPUB tells us
when the hub has subscribed, so events emitted before the connection is up
(or while the hub restarts) wait in the queue instead of being dropped by
ZeroMQ's slow-joiner rule; and with XPUB_NODROP a hub that cannot take more
says so, so they wait then too. The queue is bounded: when it is full the
newest event is dropped and counted (never a hello or a bye), and the jump
in `seq` shows as a gap.

An agent emitting in a tight loop holds the GIL and starves the flusher:
CPython hands the GIL over only every 5 ms, and the flusher gives it back at
each send, so it got a turn for one message while the agent queued thousands
(measured: 300,000 events in a loop left 250,000 queued, and the collector's
passes over that queue cost the process a third of its CPU). So when more
than a few messages' worth wait and the hub is listening, `put` yields the
GIL (`time.sleep(0)`): the flusher takes its turn there and then. The agent
waits on nothing but our own CPU work, which it would pay for anyway.
"""

from __future__ import annotations

import atexit
import os
import stat
import struct
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from operator import itemgetter

import msgpack
import zmq

from swarmscope.core.errors import ConfigError
from swarmscope.core.events import LIFECYCLE_KINDS
from swarmscope.core.wire.format import MAX_BATCH_EVENTS, MAX_MESSAGE_BYTES, TOPIC_EVENTS, message
from swarmscope.core.wire.keys import client_curve

SEND_QUEUE = 1_000
"""Messages ZeroMQ holds for the hub; past it the flusher keeps events in its own queue (bounded,
and counted when full) instead of ZeroMQ dropping them without a word."""
YIELD_AFTER_BATCHES = 4
"""Queued messages' worth of events past which `put` yields the GIL to the flusher."""
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES // 4
"""Messages aim to stay under this: a quarter of what the hub accepts before it cuts the sender
off."""

try:  # where the kernel says how much of a socket's sends its peer has not read yet
    from fcntl import ioctl
    from termios import TIOCOUTQ
except ImportError:
    ioctl, TIOCOUTQ = None, 0

_live: weakref.WeakSet[Publisher] = weakref.WeakSet()


def _close_all_at_exit() -> None:
    for pub in list(_live):
        pub.close()


atexit.register(_close_all_at_exit)


def _events_within_budget(payload_bytes: int, events: int) -> int:
    """How many events fit MAX_BATCH_BYTES at this message's bytes per event (at least one)."""
    return max(1, min(MAX_BATCH_EVENTS, MAX_BATCH_BYTES * events // max(payload_bytes, 1)))


def _unpackable(obj: object) -> str:
    """Anything msgpack cannot carry is sent as its repr rather than losing the batch."""
    return repr(obj)[:1000]


class Publisher:
    """Batches queued events onto one XPUB socket from a background thread.

    `batch_size` queued events wake the flusher before its `flush_interval`,
    and are the most one message carries.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        close_timeout: float = 0.5,
        context: zmq.Context | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.queue: deque = deque()
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.close_timeout = close_timeout
        self.dropped = 0
        """Events refused because the queue was full (each also shows as a gap)."""
        self.sent = 0
        self.batches = 0
        self.listening = False
        """True while the hub is subscribed; until then events wait in the queue."""
        self._topics: set[bytes] = set()
        """The topics subscribed that our events match (prefixes of theirs)."""
        self._hub_fd: int | None = None
        """The file descriptor of the connection the hub last subscribed over (see close)."""
        self._tickers: list[Callable[[float], None]] = []
        self._wake = threading.Event()
        self._kicked = False
        self._closing = False
        self._closed = threading.Event()
        self._packer = msgpack.Packer(default=_unpackable)
        self._max_events = batch_size
        """Events the next message may carry: batch_size, less while recent events are large."""
        self._yield_at = min(YIELD_AFTER_BATCHES * batch_size, queue_size // 2)
        """Queued events past which `put` yields the GIL to the flusher (below the queue's size)."""
        self._own_ctx = context is None
        self._ctx = zmq.Context() if context is None else context
        """A context of its own unless given one: ending it at close is what waits for ZeroMQ to
        hand over what it holds (a process that exits with messages in ZeroMQ's queue loses
        them)."""
        self._sock = self._ctx.socket(zmq.XPUB)
        self._sock.setsockopt(zmq.SNDHWM, SEND_QUEUE)
        # a full pipe to the hub says so (Again): we keep the events
        self._sock.setsockopt(zmq.XPUB_NODROP, 1)
        self._sock.setsockopt(zmq.LINGER, int(close_timeout * 1000))
        self._connect(endpoint)
        self._thread = threading.Thread(target=self._run, name="swarmscope-flusher", daemon=True)
        self._thread.start()
        _live.add(self)

    def _connect(self, endpoint: str) -> None:
        """Connect with the client's CURVE keys, if any; ConfigError (the socket closed again)
        for keys that cannot be read or an endpoint ZeroMQ refuses."""
        try:
            curve = client_curve()
            if curve is not None:
                curve.apply(self._sock)
            self._sock.connect(endpoint)
        except (ConfigError, zmq.ZMQError) as exc:
            self._sock.close(linger=0)
            if self._own_ctx:
                self._ctx.term()
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"cannot publish to {endpoint}: {exc.strerror}") from None

    def put(self, item: tuple, urgent: bool = False) -> None:
        """Queue one event; never waits on the network. Urgent kinds (error, bye) wake the
        flusher; a long queue yields the GIL to it (see the module's docstring)."""
        q = self.queue
        waiting = len(q)
        # a hello or bye always goes
        if waiting >= self.queue_size and item[3] not in LIFECYCLE_KINDS:
            self.dropped += 1
            return
        q.append(item)
        if (urgent or waiting >= self.batch_size - 1) and not self._kicked:
            self._kicked = (
                True  # a plain flag: Event.set() on every call would cost the agent ~1 us
            )
            self._wake.set()
        if waiting >= self._yield_at and self.listening:
            time.sleep(0)

    def add_ticker(self, tick: Callable[[float], None]) -> None:
        """Call `tick(monotonic_now)` from the flusher on every pass (heartbeats use it)."""
        self._tickers.append(tick)

    def close(self) -> None:
        """Send what is queued and stop: waits at most close_timeout for the hub to take the queue,
        as long again for ZeroMQ to hand over the last of it, and as long again for the hub to
        read it off the connection.

        The last wait is for ZeroMQ's sake: a hub whose queue for this agent is full stops
        reading the connection, and if the connection closes meanwhile (an ipc one), ZeroMQ on
        the hub's side drops what is still in it, unread and uncounted (libzmq's engine takes the
        hang-up for an error while its input is stopped). So the connection is kept open, by a
        duplicate of its descriptor, until the kernel says the hub has read every byte."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._thread.join(self.close_timeout + 1.0)
        if not self._closed.is_set():
            return  # the flusher is stuck in a send; the daemon thread dies with the process
        # as long as close_timeout is now, not was
        held = _held(self._hub_fd) if self._own_ctx else None
        self._sock.close(linger=int(self.close_timeout * 1000))
        if self._own_ctx:
            # returns once ZeroMQ has sent what it held, or close_timeout has passed
            self._ctx.term()
        if held is not None:
            _until_read(held, time.monotonic() + self.close_timeout)
        _live.discard(self)

    # -- flusher thread -------------------------------------------------

    def _run(self) -> None:
        deadline = None
        try:
            while True:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                self._kicked = False
                self._watch_subscriptions()
                if not self._closing:
                    now = time.monotonic()
                    for tick in self._tickers:
                        tick(now)
                if self.listening:
                    self._send_queued()
                if self._closing:
                    deadline = deadline or time.monotonic() + self.close_timeout
                    if not self.queue or time.monotonic() >= deadline:
                        self.dropped += len(self.queue)  # nobody came to take them
                        return
        finally:
            self._closed.set()

    def _watch_subscriptions(self) -> None:
        """XPUB hands us b'\\x01topic' when a topic gains its first subscriber and b'\\x00topic'
        when it loses its last. Only topics our events match count (a reader's baseline topic
        passes by too, and its going must not silence us while the hub still listens)."""
        while self._sock.poll(0):
            frame = self._sock.recv(copy=False)
            msg = frame.bytes
            topic = msg[1:]
            if msg[:1] in (b"\x00", b"\x01") and TOPIC_EVENTS.startswith(topic):
                if msg[:1] == b"\x01":
                    self._topics.add(topic)
                    self._hub_fd = _source_fd(frame)
                else:
                    self._topics.discard(topic)
                self.listening = bool(self._topics)

    def _send_queued(self) -> None:
        """Send what is queued, a message per agent's incarnation (columns, the cheapest for every
        reader); when the hub's queue for us is full, keep the rest for the next pass."""
        q = self.queue
        while q:
            batch = [q.popleft() for _ in range(min(len(q), self._max_events))]
            parts = by_agent(batch)
            for k, part in enumerate(parts):
                sent = self._send(part)
                if sent is not True:
                    q.extendleft(reversed([item for rest in parts[k:] for item in rest]))
                    if sent is False:
                        return  # the hub is not taking more now: the next pass tries again
                    break  # too big as one message: smaller ones from here

    def _send(self, part: list[tuple]) -> bool | None:
        """One agent's events as one message: True if sent, False if the hub's queue is full, None
        if it is too big and must go in smaller messages (the budget is adjusted for them)."""
        n = len(part)
        payload = self._packer.pack(message(part))
        if len(payload) > MAX_BATCH_BYTES or self._max_events < self.batch_size:
            self._max_events = min(self.batch_size, _events_within_budget(len(payload), n))
        if len(payload) > MAX_MESSAGE_BYTES:
            if n > 1:
                return None
            payload = self._packer.pack(message([_unsendable(part[0], len(payload))]))
        try:
            self._sock.send_multipart([TOPIC_EVENTS, payload], flags=zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return False
        self.sent += n
        self.batches += 1
        return True


def _source_fd(frame: zmq.Frame) -> int | None:
    """The descriptor of the connection a message came over (ZeroMQ's SRCFD), if it says."""
    try:
        return frame.get(zmq.SRCFD)
    except (zmq.ZMQError, AttributeError):
        return None


def _held(fd: int | None) -> int | None:
    """A duplicate of the connection's descriptor, so it stays open after ZeroMQ closes its own;
    None if it is not a socket any more."""
    if fd is None or ioctl is None:
        return None
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            return os.dup(fd)
    except OSError:
        pass
    return None


def _until_read(fd: int, deadline: float) -> None:
    """Wait until the peer has read everything sent over the socket `fd` (the kernel's send queue
    is empty), or the deadline; then close it."""
    try:
        while time.monotonic() < deadline:
            queued = struct.unpack("i", ioctl(fd, TIOCOUTQ, b"\0\0\0\0"))[0]
            if queued <= 0:
                return
            time.sleep(0.005)
    except OSError:
        return  # not a socket the kernel can say this of: nothing to wait for
    finally:
        os.close(fd)


_AGENT_AND_INC = itemgetter(1, 5)


def by_agent(batch: list[tuple]) -> list[list[tuple]]:
    """The batch as one list per agent's incarnation, each in the order queued (a publisher that
    many emitters share, as a simulator's, sends each agent's events as one message)."""
    keys = list(map(_AGENT_AND_INC, batch))
    if keys.count(keys[0]) == len(keys):
        return [batch]
    parts: dict[tuple, list[tuple]] = {}
    for key, item in zip(keys, batch):
        parts.setdefault(key, []).append(item)
    return list(parts.values())


def _unsendable(item: tuple, size: int) -> tuple:
    """An event too big for any message, sent without its data (its place and kind kept, no gap)."""
    ts, agent, seq, kind, _, inc = item
    return (
        ts,
        agent,
        seq,
        kind,
        {"unsent": f"data of {size:,} bytes, over the {MAX_MESSAGE_BYTES:,} a message may carry"},
        inc,
    )


class Unsent:
    """Stands where a Publisher stands for an Emitter that cannot publish (a mistyped endpoint or
    key file): takes every event and counts it dropped, so the agent runs on (Emitter says why,
    once)."""

    def __init__(self) -> None:
        self.dropped = 0

    def put(self, item: tuple, urgent: bool = False) -> None:
        self.dropped += 1

    def add_ticker(self, tick: Callable[[float], None]) -> None:
        """Nothing is sent: no heartbeats either."""

    def close(self) -> None:
        """Nothing to send or close."""
