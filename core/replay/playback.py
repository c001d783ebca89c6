"""Playing a session in a UI: the cursor advanced by recorded time, one tick a frame.

`Cursor.play()` is a blocking iterator, right for scripts; a UI instead asks
once a frame "where should the cursor be now?". `Playback.tick(wall_now)`
answers by recorded time at the chosen speed, folding idle stretches, and
moves the cursor there. The wall clock is passed in, so tests drive it with
a fake one.
"""

from __future__ import annotations

from swarmscope.core.replay.session import FOLD_GAPS_S, Cursor

SPEEDS: tuple[float | str, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, "max")
MAX_EVENTS_PER_TICK = 5_000
"""At "max", how far one tick moves: as fast as frames come, without a frame stalling."""


class Playback:
    """Play / pause and speed over a Cursor."""

    def __init__(self, cursor: Cursor, fold_gaps_s: float | None = FOLD_GAPS_S) -> None:
        self.cursor = cursor
        self.speed: float | str = 1.0
        self.playing = False
        self.fold_ns = None if fold_gaps_s is None else int(fold_gaps_s * 1e9)
        self._wall: float | None = None
        self._rec = 0

    def toggle(self, wall_now: float) -> bool:
        """Play if paused, pause if playing; returns whether it now plays."""
        if self.playing or self.at_end:
            self.playing = False
        else:
            self.playing, self._wall, self._rec = True, wall_now, self.cursor.clock
        return self.playing

    @property
    def at_end(self) -> bool:
        return self.cursor.pos >= len(self.cursor.session) - 1

    def faster(self) -> None:
        self._set_speed(min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1))

    def slower(self) -> None:
        self._set_speed(max(SPEEDS.index(self.speed) - 1, 0))

    def _set_speed(self, index: int) -> None:
        self.speed = SPEEDS[index]

    def tick(self, wall_now: float) -> bool:
        """Advance by the recorded time that passed since the last tick; True if the cursor
        moved."""
        if not self.playing or self._wall is None:
            return False
        dt, self._wall = wall_now - self._wall, wall_now
        cur = self.cursor
        before = cur.pos
        if self.speed == "max":
            cur.seek(cur.pos + MAX_EVENTS_PER_TICK)
        else:
            self._rec = max(self._rec, cur.clock)
            following = cur.pos + 1
            if self.fold_ns is not None and following < len(cur.session):
                next_ts = cur.session[following].ts
                if next_ts - self._rec > self.fold_ns:  # an idle stretch: play it as fold_gaps
                    self._rec = next_ts - self.fold_ns
            self._rec += int(dt * float(self.speed) * 1e9)
            target = cur.session.index_at_time(self._rec)
            if target > cur.pos:
                cur.seek(target)
        if self.at_end:
            self.playing = False
        return cur.pos != before
