"""Between a socket and the work on what it brings: a queue bounded in bytes that counts what it
drops.

ZeroMQ queues count messages, not bytes, and drop without a word when full:
a reader that falls behind learns of it, at best, as a gap in an agent's
seqs, and never of a stream's tail. So a hub's tap and a recorder's feed
each take messages off their socket on a thread that does nothing else,
into an `Intake`, and a worker thread does the work (the gate, the
recording) at its own pace. Past `limit` bytes waiting, a message is
dropped here, where its head can still be read: counted per agent, and
turned into a `Lost` run in the queue where the message would have been, so
a recorder writes the loss into its session at its place (as an event of
kind `lost`, which the timeline draws) instead of leaving it unsaid.

Lost runs of one agent follow each other only while no message of that
agent was queued in between, so a run is always one stretch of its seqs;
there is at most one per agent plus one per message queued, so a flood of
drops costs memory in proportion to what is queued, not to what is dropped.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import zmq

from swarmscope.core.events import Event
from swarmscope.core.hub.ledger import TOPIC_LEDGER
from swarmscope.core.model.sequence import LOST
from swarmscope.core.model.swarm import MAX_AGENTS
from swarmscope.core.wire.gate import BatchHead, columns_head

LEDGER_SPARE = 8 * 1024 * 1024
"""Bytes past the limit a hub's ledger may still take: the ledger says what a reader lost, and a
reader that drops it while full judges agents late (a whole ledger first tells it which agents
were there before it), so it keeps room of its own; bounded, as anyone can send on its topic."""
LOST_BYTES = 64
"""What a Lost run counts for against the limit (it is never itself dropped)."""
MESSAGE_BYTES = sys.getsizeof([b"", b""]) + 2 * sys.getsizeof(b"") + 8
"""What a queued message costs in memory beyond its frames' bytes (its list, two bytes objects and
a slot in the queue): counted against the limit too, so the limit bounds memory even for a flood
of tiny messages, where it would otherwise be exceeded several times over."""
OTHER_AGENTS = "(other agents)"
"""Where drops are counted past MAX_AGENTS agents (a flood of made-up ids must not grow the
counter)."""


@dataclass
class Lost:
    """Messages of one agent's incarnation dropped in a row, seqs first..last (every seq between
    is lost to the reader: dropped here, or before it came)."""

    agent: str
    inc: int
    first: int
    last: int
    events: int
    """Events dropped here (the rest of first..last never reached us)."""
    ts: int
    """When the first was dropped (wall clock, ns): where a session places the loss."""
    late: bool = False
    """Said after later events of the agent (sequence.py counts such a loss on its own)."""


Item = list[bytes] | Lost


def _weight(frames: list[bytes]) -> int:
    return sum(map(len, frames)) + MESSAGE_BYTES


class Intake:
    """A queue of multipart messages bounded in bytes; thread-safe, one putter and one taker."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], int] = time.time_ns,
        head_of: Callable[[bytes], BatchHead | None] = columns_head,
    ) -> None:
        self.limit = limit
        self._clock, self._head_of = clock, head_of
        self._queue: deque[Item] = deque()
        self._bytes = 0
        self._ready = threading.Condition()
        self._last_of: dict[str, Item] = {}
        """Each agent's newest item in the queue, while it is there (a Lost run to extend, or
        not)."""
        self.put_count = 0
        """Messages put so far, queued or dropped."""
        self.taken = 0
        """Items taken so far (messages and Lost runs)."""
        self.dropped_messages = 0
        self.dropped_events: Counter[str] = Counter()
        """Events dropped, per agent (from each message's head)."""
        self.dropped_unread = 0
        """Messages dropped whose head did not read (rows of many agents, or no batch at all)."""
        self.given_up = 0
        """Messages let go at a stop that could not wait for them (`give_up`)."""

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def put(self, frames: list[bytes]) -> None:
        """Queue one message, or drop and count it if `limit` bytes are waiting already (a hub's
        ledger: LEDGER_SPARE more)."""
        size = _weight(frames)
        limit = self.limit + LEDGER_SPARE if frames[0] == TOPIC_LEDGER else self.limit
        with self._ready:
            self.put_count += 1
            if self._bytes + size > limit and self._queue:
                self._drop(frames)
            else:
                self._queue.append(frames)
                self._bytes += size
                head = self._head_of(frames[-1]) if self._last_of else None
                if head is not None:
                    self._last_of[head.agent] = frames
            self._ready.notify()

    def _drop(self, frames: list[bytes]) -> None:
        self.dropped_messages += 1
        head = self._head_of(frames[-1]) if len(frames) == 2 else None
        if head is None:
            self.dropped_unread += 1
            return
        counted = (
            head.agent
            if head.agent in self.dropped_events or len(self.dropped_events) < MAX_AGENTS
            else OTHER_AGENTS
        )
        self.dropped_events[counted] += head.count
        self._add_run(head)

    def _add_run(self, head: BatchHead) -> None:
        """The message with this head as lost: added to the agent's newest run if it goes on
        from it."""
        run = self._last_of.get(head.agent)
        if type(run) is Lost and run.inc == head.inc and run.last < head.first:
            run.last, run.events = head.last, run.events + head.count
            return
        run = Lost(head.agent, head.inc, head.first, head.last, head.count, self._clock())
        self._queue.append(run)
        self._bytes += LOST_BYTES
        self._last_of[head.agent] = run

    def put_marker(self, marker: object) -> None:
        """Queue something for the taker in its place among the messages (dropped only past the
        limit and the ledger's room too: anyone who can connect can send what makes markers)."""
        with self._ready:
            if self._bytes + LOST_BYTES > self.limit + LEDGER_SPARE:
                return
            self._queue.append(marker)
            self._bytes += LOST_BYTES
            self._ready.notify()

    def give_up(self) -> int:
        """Let go of every message waiting, leaving a run of lost events per agent in its place:
        what a stop that cannot wait for the taker leaves is said where its messages would have
        gone, not nowhere. Returns how many messages were let go (counted apart from drops)."""
        with self._ready:
            waiting = list(self._queue)
            self._queue.clear()
            self._bytes, self._last_of, given = 0, {}, 0
            for item in waiting:
                if type(item) is not list:  # runs already lost, markers: the taker's still
                    self._queue.append(item)
                    self._bytes += LOST_BYTES
                    continue
                given += 1
                head = self._head_of(item[-1]) if len(item) == 2 else None
                if head is not None:
                    self._add_run(head)
            self.given_up += given
            self._ready.notify()
            return given

    def take(self, most: int, timeout: float | None) -> list[Item]:
        """Up to `most` items in the order they came, waiting at most `timeout` for the first."""
        with self._ready:
            if not self._queue:
                self._ready.wait(timeout)
            items = [self._queue.popleft() for _ in range(min(most, len(self._queue)))]
            for item in items:
                self._bytes -= _weight(item) if type(item) is list else LOST_BYTES
            if self._last_of:
                taken = set(map(id, items))
                self._last_of = {a: i for a, i in self._last_of.items() if id(i) not in taken}
            self.taken += len(items)
            return items

    def wake(self) -> None:
        """Wake a taker waiting on an empty queue (to see that it should stop)."""
        with self._ready:
            self._ready.notify_all()


def lost_event(lost: Lost, why: str) -> Event:
    """A run of dropped messages as an event of kind `lost` (sequence.py): seq the last lost, data
    the first."""
    data = {"first": lost.first, "events": lost.events, "why": why}
    if lost.late:
        data["late"] = True
    return Event(lost.ts, lost.agent, lost.last, LOST, data, lost.inc)


def queued(sock: zmq.Socket) -> Iterator[list[bytes]]:
    """The messages waiting at a socket, without waiting for more (what a thread moves into an
    intake)."""
    while True:
        try:
            yield sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return
