"""A recording hub's session writer: wire messages to disk as they came, keyframes from another
process.

It does what a SessionWriter does for the file (blocks flushed within FLUSH_INTERVAL of their
oldest message, so `kill -9` loses at most that window; an index, summary and trailer at a clean
close) but folds nothing itself: each block holds the messages the hub kept (messages.py), and the
model, keyframes and summary come from a keyframer process following the file (keyframer.py).
So the hub's tap spends ~0.5 us/event on recording (checking, compressing,
writing) where folding, encoding and keyframes in line cost 3.2, and a
burst leaves the keyframes behind for a while rather than the events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.keyframer import Follower, Keyframers
from swarmscope.core.session.keyframes import KEYFRAME_EVERY, KEYFRAME_SECONDS
from swarmscope.core.session.messages import encode_messages
from swarmscope.core.session.writer import BLOCK_EVENTS, FLUSH_INTERVAL, BlockAppender
from swarmscope.core.wire.kept import Kept


class MessageWriter(BlockAppender):
    """Appends kept messages to a new session file; `close()` waits for the keyframer, then ends the
    file."""

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any] | None = None,
        *,
        block_events: int = BLOCK_EVENTS,
        keyframe_every: int = KEYFRAME_EVERY,
        keyframe_seconds: float = KEYFRAME_SECONDS,
        flush_interval: float = FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        start: SwarmModel | None = None,
        keyframers: Keyframers | None = None,
        compact: bool = True,
    ) -> None:
        """As SessionWriter's; `start` goes to the keyframer, which makes the keyframe at event 0.
        `keyframers`: the process that folds for it, shared with the recorder's other sessions
        (default: one of its own, ended at close, after it compacted the file). `compact`: have
        the keyframer rewrite the file in big blocks once it is closed (compact.py)."""
        super().__init__(path, header, flush_interval, clock)
        self.block_events = block_events
        self._start, self._keyframing = start, (keyframe_every, keyframe_seconds)
        self._own, self._compact = keyframers is None, compact
        self._keyframers = keyframers or Keyframers()
        self._buffered = self._written = 0
        self.model: SwarmModel | None = None
        """The final model, once closed."""
        self._summary: dict[str, Any] = {}
        self.keyframer = self._keyframers.session(
            self.path, start, keyframe_every, keyframe_seconds
        )

    @property
    def events(self) -> int:
        """Events appended so far (written or still buffered)."""
        return self._written + self._buffered

    def append(self, kept: list[Kept]) -> None:
        """Take messages in the order they came; write a block each time one is full (a hub hands
        over up to 256 messages at once: thousands of events), and one that is due."""
        start = 0
        for end, k in enumerate(kept, 1):
            self._buffered += k.count
            if self._buffered >= self.block_events:
                self._buffer_more(kept[start:end])
                self.flush()
                start = end
        if start < len(kept):
            self._buffer_more(kept[start:])
        if self.flush_due():
            self.flush()

    def tick(self) -> None:
        """Call often (every 50 ms or so): flushes a due buffer, and writes the keyframes made
        since."""
        if self.flush_due():
            self.flush()
        else:
            self._take_keyframes()

    def flush(self) -> None:
        """Write what is buffered as one block (whole messages: ~block_events, more for a big
        one)."""
        if self._buffer:
            payload, _ = encode_messages(self._written, self._buffer, self.clock)
            self._write_events(fmt.MESSAGES, payload)
            self._written += self._buffered
            self._buffer, self._buffered = [], 0
            self.keyframer.grew()
        self._take_keyframes()

    def _take_keyframes(self) -> None:
        for payload, delta in self.keyframer.keyframes():
            self._write_keyframe(payload, delta)

    def folding_behind(self) -> int:
        """Events written that no keyframe made so far holds (at most about a keyframe interval,
        but for a keyframer catching up)."""
        self._take_keyframes()
        return self._written - (self.index.keyframes[-1][1].at if self.index.keyframes else 0)

    def close(self) -> dict[str, Any]:
        """Flush, wait for the keyframer to fold everything, write its last keyframes, the END
        block and the trailer; returns the summary. A keyframer that died is done without: the
        summary is folded here (the keyframes it did not make stay unmade)."""
        if self.closed:
            return self._summary
        self.flush()
        done = self.keyframer.finish(self._written)
        self._take_keyframes()
        if done is None:
            done = _fold_here(self.path, self._start, *self._keyframing)
        self._summary, self.model = done
        self._end(self._summary)
        if self._compact:
            self._keyframers.compact(self.path)
        self._release()
        return self._summary

    def abandon(self) -> None:
        self.keyframer.stop()
        self._release()
        super().abandon()

    def _release(self) -> None:
        if self._own:
            self._keyframers.close()

    def __enter__(self) -> MessageWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fold_here(
    path: Path, start: SwarmModel | None, every: int, seconds: float
) -> tuple[dict, SwarmModel]:
    follower = Follower(path, start, every, seconds)
    try:
        while follower.step()[1]:
            pass
        return follower.summary(), follower.frames.model
    finally:
        follower.close()
