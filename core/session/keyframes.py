"""Where a session's keyframes fall, and what they hold: one model folded event by event.

Shared by the two ways a session gets its keyframes: a SessionWriter folds
the events it writes, in line; a recording hub's MessageWriter leaves the
folding to a keyframer process that follows its file (keyframer.py).
"""

from __future__ import annotations

from swarmscope.core.events import Event
from swarmscope.core.model.fields import restart_counts
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt

KEYFRAME_EVERY = 1024
"""Events between keyframes, at least: a cold seek restores one keyframe and folds at most this
many. Measured on 200k simulator events (12 agents): seek p99 3.7 ms at 1,024 against 5.0 at 2,048,
for 18.8 against 16.7 bytes/event."""
KEYFRAME_PER_AGENT = 4
"""And at least this many events per agent in the model: a keyframe's bytes and restore time grow
with the agents it holds (1,000 agents at 1,024: 49 bytes/event, recorder at half speed, and no
quicker seek, since the restore then dominates), so a big swarm spaces its keyframes out."""
KEYFRAME_SECONDS = 60.0


class Keyframing:
    """A session's model as its events are folded, and its keyframes when they fall due."""

    def __init__(
        self,
        start: SwarmModel | None = None,
        every: int = KEYFRAME_EVERY,
        seconds: float = KEYFRAME_SECONDS,
        level: int = fmt.KEYFRAME_LEVEL,
    ) -> None:
        """`start`: the swarm as it stood when the session began (see carried_over); `level`:
        zstd's, higher where there is time to spend (compaction)."""
        self.level = level
        self.model = carried_over(start) if start is not None else SwarmModel()
        self.every, self.every_ns = every, int(seconds * 1e9)
        self.folded = 0
        self.first_ts: int | None = None
        self.made = 0
        self._at, self._clock = 0, 0
        self._base: bytes | None = None
        """The raw snapshot of the keyframe the next one is a delta against."""

    def room(self) -> int:
        """Events to fold before a keyframe falls due by count (at least one: a swarm that shrank
        does not stop the folding)."""
        return max(1, self._interval() - (self.folded - self._at))

    def fold(self, events: list[Event]) -> None:
        if self.first_ts is None and events:
            self.first_ts = self._clock = events[0].ts
        self.model.apply_many(events)
        self.folded += len(events)

    def due(self) -> bool:
        return (
            self.folded - self._at >= self._interval()
            or self.model.now - self._clock >= self.every_ns
        )

    def _interval(self) -> int:
        return max(self.every, KEYFRAME_PER_AGENT * len(self.model.agents))

    def keyframe(self) -> tuple[bytes, bool]:
        """A KEYFRAME payload of the model now, and whether it is a delta (then its base offset is
        the writer's to fill in, `fmt.with_base`: the previous keyframe's, wherever it was
        written)."""
        raw = fmt.pack(self.model.compact())
        delta = self._base is not None and self.made % fmt.FULL_KEYFRAME_EVERY != 0
        payload = fmt.encode_keyframe(
            self.folded, self.model.now, raw, 1, self._base if delta else None, self.level
        )
        self.made += 1
        self._at, self._clock, self._base = self.folded, self.model.now, raw
        return payload, delta


def carried_over(model: SwarmModel) -> SwarmModel:
    """A copy of `model` for a session that continues where it left off: what the swarm is
    (agents, tasks, who talks to whom, the recorded clock, each agent's seqs so a gap across
    the seam still shows) stays; what a session counts (events, errors, gaps, restarts, tasks
    done, events by kind, the rate, recent errors: the fields core/model/fields.py marks
    counted) starts at zero."""
    m = model.copy()
    restart_counts(m)
    return m
