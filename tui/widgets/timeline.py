"""The timeline scrubber: the whole session across the width, and where the cursor is.

Three lines: event density (a sparkline), markers (✖ error, ⋯ events lost,
◆ checkpoint, ★ bookmark), and the cursor with its event index and recorded time. Built
from the session's block index, so drawing it never reads an event; a scan
of the file (core/replay/scan.py) then places every error and checkpoint exactly
and adds where events were lost. Click or drag to seek; with `fold` on, the
axis is events rather than time, so idle stretches take no room.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import repeat
from operator import floordiv, mul, sub

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from swarmscope.core.replay.scan import Marks, ScanResult
from swarmscope.tui.render import SPARKS
from swarmscope.tui.widgets.line_list import text_strip


@dataclass(frozen=True)
class Block:
    """One stretch of the session, as the file's index describes it."""

    first: int
    count: int
    lo: int
    hi: int
    errors: int
    checkpoints: int


@dataclass(frozen=True)
class TimelineData:
    blocks: tuple[Block, ...]
    bookmarks: tuple[int, ...]
    events: int
    scan: ScanResult = field(default_factory=ScanResult)
    """What the scan found so far: exact marks for the blocks it covered, and lost events.
    The others are marked from their counts in the index."""


class Timeline(Widget, can_focus=False):
    """Scrub with the mouse; the screen moves the cursor with keys."""

    COMPONENT_CLASSES = {
        "timeline--density",
        "timeline--error",
        "timeline--checkpoint",
        "timeline--bookmark",
        "timeline--cursor",
        "timeline--pinned",
        "timeline--gap",
    }
    DEFAULT_CSS = """
    Timeline { height: 3; background: $panel; }
    Timeline > .timeline--density { color: $primary; }
    Timeline > .timeline--error { color: $error; text-style: bold; }
    Timeline > .timeline--checkpoint { color: $success; }
    Timeline > .timeline--bookmark { color: $warning; text-style: bold; }
    Timeline > .timeline--gap { color: $warning; }
    Timeline > .timeline--cursor { color: $accent; text-style: bold; }
    Timeline > .timeline--pinned { color: $secondary; text-style: bold; }
    """

    class Seek(Message):
        """The user clicked or dragged: go to this event index, or to this recorded time."""

        def __init__(self, index: int | None = None, ts: int | None = None) -> None:
            super().__init__()
            self.index, self.ts = index, ts

        def can_replace(self, message: Message) -> bool:
            """A drag sends a stream of these: a newer one waiting behind this one makes it moot."""
            return isinstance(message, Timeline.Seek)

    def __init__(self, data: TimelineData, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.fold = False
        self.cursor = (0, 0)
        """(event index, recorded time) of the cursor."""
        self.pinned: int | None = None
        self._dragging = False
        self._columns_cache: tuple[TimelineData, tuple[int, bool], tuple[list, set, set]] | None = (
            None
        )
        """(data, (width, fold), columns): counting columns walks every mark, so it is done when
        they change."""
        self._strips: tuple[TimelineData, tuple, tuple[Strip, ...]] | None = None
        """(data, (width, fold, the widget's style), the density and marker lines drawn for
        them): the data by identity, as the columns (a new scan result comes in a new
        TimelineData); the style changes with the theme."""

    def update(
        self,
        data: TimelineData | None = None,
        cursor: tuple[int, int] | None = None,
        pinned: int | None = -1,
    ) -> None:
        if data is not None:
            self.data = data
        if cursor is not None:
            self.cursor = cursor
        if pinned != -1:
            self.pinned = pinned
        self.refresh()

    # -- geometry ---------------------------------------------------------------------

    @property
    def _span(self) -> tuple[int, int]:
        blocks = self.data.blocks
        if self.fold or not blocks:
            return 0, max(1, self.data.events)
        return blocks[0].lo, max(blocks[-1].hi, blocks[0].lo + 1)

    def _column(self, index: int, ts: int, width: int) -> int:
        lo, hi = self._span
        x = index if self.fold else ts
        return min(width - 1, max(0, (x - lo) * width // max(hi - lo, 1)))

    def _mark_columns(self, marks: Marks, width: int) -> set[int]:
        """_column() for every mark, looping in C: a 1M-event session has ~15,000 checkpoints,
        and a rewound live view counts them again each time the file grows."""
        lo, hi = self._span
        xs = marks.index if self.fold else marks.clock
        raw = set(
            map(
                floordiv, map(mul, map(sub, xs, repeat(lo)), repeat(width)), repeat(max(hi - lo, 1))
            )
        )
        return {min(width - 1, max(0, c)) for c in raw}

    def _columns(self, width: int) -> tuple[list[float], set[int], set[int]]:
        """Events, errors and checkpoints per column; kept until the data, width or axis change."""
        cached = self._columns_cache
        if cached is None or cached[0] is not self.data or cached[1] != (width, self.fold):
            cached = self._columns_cache = (
                self.data,
                (width, self.fold),
                self._count_columns(width),
            )
        return cached[2]

    def _count_columns(self, width: int) -> tuple[list[float], set[int], set[int]]:
        """Events per column, and the columns with an error or a checkpoint."""
        data, scan = self.data, self.data.scan
        density = [0.0] * width
        for b in data.blocks:
            self._spread(density, b)
        errors, checkpoints = (
            self._mark_columns(scan.errors, width),
            self._mark_columns(scan.checkpoints, width),
        )
        for b in data.blocks[scan.blocks :]:  # not scanned yet: marked at the block's start
            c = self._column(b.first, b.lo, width)
            if b.errors:
                errors.add(c)
            if b.checkpoints:
                checkpoints.add(c)
        return density, errors, checkpoints

    def _spread(self, density: list[float], b: Block) -> None:
        """Add a block's events to the columns it spans, each in proportion to its share of the
        span."""
        lo, hi = self._span
        scale = len(density) / max(hi - lo, 1)
        a, z = (b.first, b.first + b.count) if self.fold else (b.lo, b.hi)
        a, z = (a - lo) * scale, (z - lo) * scale
        last = len(density) - 1
        if z - a < 1e-9:
            density[min(last, max(0, int(a)))] += b.count
            return
        per_column = b.count / (z - a)
        c = int(a)
        while c < z:
            density[min(last, max(0, c))] += per_column * (min(z, c + 1) - max(a, c))
            c += 1

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """The density and marker lines are kept until what they show changes; only the cursor's
        line is drawn for a move (drawing all three as one Text took 7 ms of a 40 ms step)."""
        width = self.content_size.width
        if width <= 0 or y > 2:
            return Strip.blank(max(0, width))
        if y == 2:
            return text_strip(self._cursor_line(width), width, self.app.console)
        drawn, shape = self._strips, (width, self.fold, self.rich_style)
        if drawn is None or drawn[0] is not self.data or drawn[1] != shape:
            top = (self._density_line(width), self._marker_line(width))
            drawn = self._strips = (
                self.data,
                shape,
                tuple(text_strip(t, width, self.app.console) for t in top),
            )
        return drawn[2][y]

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _density_line(self, width: int) -> Text:
        density = self._columns(width)[0]
        top = max(density) or 1
        spark = "".join(SPARKS[min(7, int(d / top * 7.999))] if d else " " for d in density)
        return Text(spark, style=self.rich_style + self._style("timeline--density"))

    def _marker_line(self, width: int) -> Text:
        _, errors, checkpoints = self._columns(width)
        marks: list[tuple[str, str | None]] = [(" ", None)] * width
        for c in checkpoints:
            marks[c] = ("◆", "timeline--checkpoint")
        for c in errors:
            marks[c] = ("✖", "timeline--error")
        for index, ts, _ in self.data.scan.gaps:
            c = self._column(index, ts, width)
            if marks[c][0] != "✖":
                marks[c] = ("⋯", "timeline--gap")
        for c in self._bookmark_columns(width):
            marks[c] = ("★", "timeline--bookmark")
        line = Text("".join(ch for ch, _ in marks), style=self.rich_style)
        for c, (_, name) in enumerate(marks):
            if name is not None:
                line.stylize(self._style(name), c, c + 1)
        return line

    def _bookmark_columns(self, width: int) -> list[int]:
        cols = []
        for index in self.data.bookmarks:
            ts = self._ts_of(index)
            cols.append(self._column(index, ts, width))
        return cols

    def _ts_of(self, index: int) -> int:
        """Recorded time near event `index`, from its block (good enough to place a mark)."""
        for b in self.data.blocks:
            if b.first <= index < b.first + b.count:
                return b.lo + int((b.hi - b.lo) * (index - b.first) / max(b.count, 1))
        return self._span[1]

    def _cursor_line(self, width: int) -> Text:
        index, ts = self.cursor
        col = self._column(index, ts, width)
        clock = time.strftime("%H:%M:%S", time.gmtime(ts / 1e9)) + f".{ts // 1_000_000 % 1000:03d}"
        label = f" event {index + 1:,} of {self.data.events:,} · {clock} "
        line = [" "] * width
        if self.pinned is not None:
            line[self._column(self.pinned, self._ts_of(self.pinned), width)] = "◇"
        line[col] = "▲"
        start = col + 1 if col + 1 + len(label) <= width else max(0, col - len(label))
        text = Text("".join(line), style=self.rich_style)
        if self.pinned is not None:
            text.stylize(self._style("timeline--pinned"))
        text.stylize(self._style("timeline--cursor"), col, col + 1)
        label_text = Text(label, style=self._style("timeline--cursor"))
        return (
            text[:start] + label_text + text[start + len(label) :] if len(label) < width else text
        )

    # -- mouse --------------------------------------------------------------------------

    def _seek_at(self, x: int) -> None:
        width = max(1, self.content_size.width)
        lo, hi = self._span
        value = lo + int((hi - lo) * min(max(x, 0), width - 1) / max(width - 1, 1))
        self.post_message(self.Seek(index=value) if self.fold else self.Seek(ts=value))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self._seek_at(event.x)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self._seek_at(event.x)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._dragging = False
        self.release_mouse()
