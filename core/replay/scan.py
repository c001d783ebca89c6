"""What a pass over a whole session finds that its block index cannot say.

The index counts errors and checkpoints per block, which is enough to draw
a first timeline without reading an event, but it places them only to the
nearest block, and it knows nothing of lost events: those take following
every agent's sequence numbers through the file. A scan decodes each block
once, off the screen's thread, on a Session of its own (a Session is one
thread's). It can be resumed, so a session still being recorded is scanned
as it grows.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from swarmscope.core.events import Event
from swarmscope.core.model.sequence import advance
from swarmscope.core.replay.own_session import OwnSession


@dataclass
class Marks:
    """Exact places, each as (event index, recorded clock) in two parallel arrays, oldest first."""

    index: array = field(default_factory=lambda: array("q"))
    clock: array = field(default_factory=lambda: array("q"))

    def add(self, index: int, clock: int) -> None:
        self.index.append(index)
        self.clock.append(clock)


UNKNOWN = -2
"""What `ScanResult.find` says when the scan has not reached the part that would answer."""


@dataclass
class ScanResult:
    """What a scan found so far. Gaps are per block: (first event after a hole, its clock, events
    lost).

    Written by the scanning thread, read by another: each block's marks go in
    before `blocks` and `events` move past it, so a reader that reads
    `events` first never trusts a part whose marks are not all in.
    """

    blocks: int = 0
    """Blocks scanned: the results cover events before this block."""
    events: int = 0
    """Events those blocks hold."""
    gaps: list[tuple[int, int, int]] = field(default_factory=list)
    errors: Marks = field(default_factory=Marks)
    checkpoints: Marks = field(default_factory=Marks)

    def find(self, marks: Marks, pos: int, forward: bool, total: int) -> int | None:
        """The first mark after `pos` (or the last before it) by bisection, without reading a block;
        None if there is none, UNKNOWN if the scan has not covered where one could be.

        The scan reads the file on its own and may be ahead of the caller's session of `total`
        events: a mark past those is not there yet for the caller (a seek would stop short)."""
        covered, index = self.events, marks.index
        if forward:
            k = bisect_right(index, pos)
            if k < len(index) and index[k] < total:
                return index[k]
            return None if covered >= total else UNKNOWN
        if pos > covered:
            return UNKNOWN
        k = bisect_left(index, pos)
        return index[k - 1] if k else None


class SessionScan(OwnSession):
    """Scans a session file block by block; `run()` again picks up blocks appended since (on a
    Session of its own: own_session.py)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.result = ScanResult()
        self._seqs: dict[str, tuple[int, int]] = {}
        self._clock = 0

    def run(self, pause: Callable[[], None] | None = None) -> bool:
        """Scan every block not scanned yet; True if there was any. `pause` is called after each
        block: a UI thread sharing the interpreter lock with this one may want a moment."""
        return self._one_run(lambda: self._run(pause), False)

    def _run(self, pause: Callable[[], None] | None) -> bool:
        f = self._own().file
        todo = range(self.result.blocks, len(f.index.blocks))
        for b in todo:
            if self._closing:
                break
            info = f.block_info(b)
            self._scan(f.block_events(b, cached=False), info.first)
            self.result.blocks, self.result.events = b + 1, info.first + info.count
            if pause is not None:
                pause()
        return bool(todo)

    def _scan(self, events: list[Event], first: int) -> None:
        res, seqs, clock = self.result, self._seqs, self._clock
        lost, where = 0, None
        for k, ev in enumerate(events, first):
            clock = ev.ts if ev.ts > clock else clock
            inc, expected = seqs.get(ev.agent, (None, 0))
            nxt, missing, _, _ = advance(inc, expected, ev.inc, ev.seq, ev.kind, ev.data)
            seqs[ev.agent] = (ev.inc, nxt)
            if missing:
                lost += missing
                where = where or (k, clock)
            if ev.kind == "error":
                res.errors.add(k, clock)
            elif ev.kind == "checkpoint":
                res.checkpoints.add(k, clock)
        if where:
            res.gaps.append((*where, lost))
        self._clock = clock
