"""The Lanes tab: one row per agent across a window of time, with a time axis above.

Each task is a bar ending in how it ended (`━━✔` ok, `━━✖` failed, `━━⊘` cancelled, `━━▶`
still running); idle (`·`), waiting (`…`) and blocked (`■`) stretches are marks of their own;
a message is an arrow in its time's column from the sender's lane (`•`) to the receiver's (`▼` or
`▲`), drawn for the lane under the cursor (`a`: for every lane); errors are `⚠`, checkpoints `◇`;
the cursor's instant is a column in reverse video. Enter on a bar goes to where its task began
(a replay) or opens its agent (live). Every cue is a shape as well as a colour, so it reads with
NO_COLOR and in ASCII (`-+ -x -/ ->`, `. ~ =`, `* | v ^`, `! o`).

Built on LineList (Line API): only the lanes on screen are drawn, so a thousand agents cost
what twenty do. Rows are plain snapshots (core/model/lanes.py) handed over once a frame; the
arrows that cross a lane are looked up per drawn line in columns merged once a frame.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from swarmscope.core.model.lanes import Arrow, Bar, Lane
from swarmscope.tui.render import duration, fit
from swarmscope.tui.widgets.line_list import LineList

S = 1_000_000_000
SPAN_NS = 30 * S
"""The window shown first: at 100 columns a cell is 0.3 s, a few cells for a typical task."""
MIN_SPAN_NS, MAX_SPAN_NS = S // 4, 7 * 86_400 * S
LABEL_MIN, LABEL_MAX, LABEL_NARROW = 8, 16, 12
"""Bounds of the agent id column (at least what the axis says there: `30s wide`); below WIDE
columns it gives its room to the lanes."""
WIDE = 100
ENDS = {"ok": "✔", "cancelled": "⊘", None: "▶"}
"""What a bar ends in; any other result (failed, abandoned, an agent's own word) in FAILED."""
FAILED = "✖"
BODY = "━"
STRETCHES = {"idle": "·", "starting": "◌", "waiting": "…", "blocked": "■"}
"""Statuses drawn as stretches; the others (running, done, failed) are said by bars and marks."""
OVER_BARS = frozenset({"waiting", "blocked"})
"""Stretches drawn over a bar's body: a task that waited or was blocked shows where."""
POINTS = {"done": "✔", "failed": "✖"}
"""Statuses drawn once, where they began: where an agent finished or failed."""
MARKS = {"error": "⚠", "checkpoint": "◇"}
TAIL, DOWN, UP, PASS, CURSOR = "•", "▼", "▲", "│", "│"
# what wins a cell: a higher rank draws over a lower
_STRETCH, _CONNECTOR, _BODY, _OVER, _MARK, _ARROW, _END = range(1, 8)


@dataclass(frozen=True, eq=False)
class LanesFrame:
    """What one frame of the Lanes tab shows: plain data, read by the screen from a fold."""

    t0: int
    t1: int
    cursor: int
    """The cursor's instant (a replay's), or now (live)."""
    lanes: Sequence[Lane]
    arrows: Sequence[Arrow]
    live: bool = False
    note: str = ""
    """What was left out, said on the axis."""

    @property
    def span(self) -> int:
        return max(1, self.t1 - self.t0)


class LaneRow(NamedTuple):
    """A lane as the list holds it: the snapshot and the frame, so a drawn line is kept only
    for the frame it was drawn in (or while only the list's own cursor moves)."""

    lane: Lane
    frame: LanesFrame


class Geometry(NamedTuple):
    label: int
    """Cells of the agent id column (a space follows)."""
    width: int
    """Cells of the lanes."""


def geometry(width: int, longest_id: int) -> Geometry:
    widest = LABEL_MAX if width >= WIDE else LABEL_NARROW
    label = max(LABEL_MIN, min(widest, longest_id))
    return Geometry(label, max(1, width - label - 1))


def column(ts: int | None, frame: LanesFrame, width: int, default: int) -> int:
    """The cell of instant `ts` across `width` cells (may fall outside 0..width-1); `default`
    for an unknown instant (before or after what was folded)."""
    if ts is None:
        return default
    return (ts - frame.t0) * width // frame.span


def bars_in_view(lane: Lane, frame: LanesFrame) -> list[Bar]:
    """The bars of `lane` the window shows, by start: what left and right move between."""
    shown = [
        b
        for b in lane.bars
        if (b.end is None or b.end >= frame.t0) and (b.start is None or b.start <= frame.t1)
    ]
    return sorted(shown, key=lambda b: frame.t0 - 1 if b.start is None else b.start)


def nearest_bar(bars: list[Bar], at: int) -> int | None:
    """The bar running at instant `at`, else the one starting nearest it."""
    if not bars:
        return None
    for i, b in enumerate(bars):
        if (b.start is None or b.start <= at) and (b.end is None or b.end >= at):
            return i
    return min(range(len(bars)), key=lambda i: abs((bars[i].start or 0) - at))


class ArrowLayout:
    """The arrows of a frame in one width's cells: ends per lane, and for each column the runs
    of lanes a connector crosses, merged (a lane asks with one bisection per column)."""

    def __init__(
        self, arrows: Sequence[Arrow], frame: LanesFrame, rows: dict[str, int], width: int
    ) -> None:
        self.ends: dict[int, list[tuple[int, str]]] = defaultdict(list)
        crossed: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for a in arrows:
            sender, receiver = rows.get(a.sender), rows.get(a.receiver)
            if sender is None or receiver is None:
                continue
            col = min(width - 1, max(0, column(a.ts, frame, width, 0)))
            self.ends[sender].append((col, TAIL))
            if receiver != sender:
                self.ends[receiver].append((col, DOWN if receiver > sender else UP))
            lo, hi = sorted((sender, receiver))
            if hi - lo > 1:
                crossed[col].append((lo + 1, hi - 1))
        self.runs = {col: _merged(spans) for col, spans in crossed.items()}

    def crossing(self, row: int) -> list[int]:
        """Columns where a connector crosses lane `row`."""
        out = []
        for col, (starts, ends) in self.runs.items():
            i = bisect_right(starts, row) - 1
            if i >= 0 and ends[i] >= row:
                out.append(col)
        return out


def _merged(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Overlapping runs of lanes joined: their starts and ends, in order."""
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(spans):
        if ends and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


class Cells:
    """One lane's cells as they are painted: a glyph, a style name and a rank each."""

    def __init__(self, width: int) -> None:
        self.glyphs = [" "] * width
        self.styles: list[str | None] = [None] * width
        self.ranks = [0] * width

    def put(
        self, col: int, glyph: str, style: str | None, rank: int, over: int | None = None
    ) -> None:
        """Draw at `col` if `rank` is at least what is there (and, with `over`, only over what
        ranks no higher than `over`)."""
        if 0 <= col < len(self.glyphs) and self.ranks[col] <= (rank if over is None else over):
            self.glyphs[col], self.styles[col], self.ranks[col] = glyph, style, rank

    def run(self, a: int, b: int, glyph: str, style: str, rank: int) -> None:
        """Cells a..b-1, clipped; at least cell a."""
        for col in range(max(0, a), min(len(self.glyphs), max(b, a + 1))):
            self.put(col, glyph, style, rank)


def paint(lane: Lane, frame: LanesFrame, width: int) -> Cells:
    """A lane's stretches, bars and marks in cells."""
    cells = Cells(width)
    for s in lane.stretches:
        a, b = column(s.start, frame, width, -1), column(s.end, frame, width, width)
        if s.status in STRETCHES:
            rank = _OVER if s.status in OVER_BARS else _STRETCH
            cells.run(a, b, STRETCHES[s.status], f"lanes--{s.status}", rank)
        elif s.status in POINTS:
            cells.put(a, POINTS[s.status], f"lanes--{s.status}", _END)
    for bar in lane.bars:
        paint_bar(cells, bar, frame, width)
    for m in lane.marks:
        cells.put(column(m.ts, frame, width, -1), MARKS[m.kind], f"lanes--{m.kind}", _MARK)
    return cells


def paint_bar(cells: Cells, bar: Bar, frame: LanesFrame, width: int) -> None:
    a, b = column(bar.start, frame, width, -1), column(bar.end, frame, width, width - 1)
    style = f"lanes--{bar_style(bar)}"
    for col in range(max(0, a), min(width, b)):
        cells.put(col, BODY, style, _BODY)
    if bar.end is None or b < width:  # a bar ending past the window's edge shows no end
        cells.put(min(b, width - 1), ENDS.get(bar.result, FAILED), style, _END)


def bar_style(bar: Bar) -> str:
    if bar.result is None:
        return "running"
    return bar.result if bar.result in ("ok", "cancelled") else "failed"


class LaneList(LineList):
    """The lanes; up and down move between agents, left and right between an agent's bars."""

    BINDINGS = [
        Binding("right", "bar(1)", "Next bar", show=False, id="lanes.next_bar"),
        Binding("left", "bar(-1)", "Previous bar", show=False, id="lanes.prev_bar"),
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in", id="lanes.zoom_in"),
        Binding("minus", "zoom(1)", "Zoom out", id="lanes.zoom_out"),
        Binding("a", "all_arrows", "All messages", id="lanes.all_arrows"),
        Binding("enter", "open", "Open", id="lanes.open"),
    ]
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "lanes--ok",
        "lanes--failed",
        "lanes--cancelled",
        "lanes--running",
        "lanes--done",
        "lanes--idle",
        "lanes--starting",
        "lanes--waiting",
        "lanes--blocked",
        "lanes--message",
        "lanes--error",
        "lanes--checkpoint",
        "lanes--cursor",
        "lanes--chosen",
    }
    DEFAULT_CSS = """
    LaneList { overflow-x: hidden; }
    LaneList > .lanes--ok { color: $success; }
    LaneList > .lanes--done { color: $success; }
    LaneList > .lanes--failed { color: $error; text-style: bold; }
    LaneList > .lanes--cancelled { color: $warning; }
    LaneList > .lanes--running { color: $primary; }
    LaneList > .lanes--idle { color: $text-muted; }
    LaneList > .lanes--starting { color: $text-muted; }
    LaneList > .lanes--waiting { color: $warning; }
    LaneList > .lanes--blocked { color: $warning; text-style: bold; }
    LaneList > .lanes--message { color: $secondary; }
    LaneList > .lanes--error { color: $error; text-style: bold; }
    LaneList > .lanes--checkpoint { color: $text-muted; }
    LaneList > .lanes--cursor { color: $accent; text-style: reverse; }
    LaneList > .lanes--chosen { text-style: bold underline; }
    """

    class Chosen(Message):
        """Enter on a lane: its agent, and the bar chosen on it (None: it shows none)."""

        def __init__(self, source: LaneList, agent: str, bar: Bar | None) -> None:
            super().__init__()
            self.source, self.agent, self.bar = source, agent, bar

        @property
        def control(self) -> LaneList:
            return self.source

    class Zoomed(Message):
        """The window changed width: the screen reads the lanes again."""

    class Reshaped(Message):
        """The lanes' columns moved (a resize, a scrollbar come or gone): the axis follows."""

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no agents in this window", **kwargs)
        self.span = SPAN_NS
        """The window's width in ns: a view setting, like a scroll position (+ and - change it)."""
        self.frame: LanesFrame | None = None
        self.bar: tuple[str, int | None] | None = None
        """The chosen bar of the lane under the cursor, as (task, start): it stays chosen as the
        window moves. None, or a bar no longer in view: the one at the cursor's instant."""
        self.all_arrows = False
        """Draw every message; by default only those the lane under the cursor sent or got (a
        busy swarm's messages would cover every bar)."""
        self._arrows: tuple[tuple, ArrowLayout] | None = None
        self._rows: dict[str, int] = {}
        self._longest = LABEL_MIN
        self._drawn_in: Geometry | None = None
        self._cell_styles: dict[tuple[str | None, bool], Style] = {}

    def set_frame(self, frame: LanesFrame) -> None:
        self.frame = frame
        self._rows = {lane.agent: i for i, lane in enumerate(frame.lanes)}
        self._longest = max((len(lane.agent) for lane in frame.lanes), default=LABEL_MIN)
        self.set_rows([LaneRow(lane, frame) for lane in frame.lanes])

    def row_key(self, row: LaneRow) -> str:
        return row.lane.agent

    def clear_cache(self) -> None:
        self._cell_styles.clear()  # a theme switch
        super().clear_cache()

    @property
    def geometry(self) -> Geometry:
        """The id column and the lanes, for the width the lines are drawn in now."""
        return geometry(self.scrollable_content_region.width or self.size.width, self._longest)

    def watch_cursor(self, old: int, new: int) -> None:
        if old != new:
            self.bar = None
            if not self.all_arrows:
                self.forget_lines()  # the messages drawn are the new lane's
        super().watch_cursor(old, new)

    # -- drawing ---------------------------------------------------------------------------

    def style(self, name: str | None, chosen: bool = False) -> Style | None:
        """A cell's style (and the chosen bar's underline over it), made once per theme."""
        key = (name, chosen)
        if key not in self._cell_styles:
            style = self.cstyle(name) if name else Style()
            self._cell_styles[key] = style + self.cstyle("lanes--chosen") if chosen else style
        return self._cell_styles[key]

    def render_line(self, y: int) -> Strip:
        shape = self.geometry
        if shape != self._drawn_in:
            self._drawn_in = shape
            self.post_message(self.Reshaped())
        return super().render_line(y)

    def render_row(self, row: LaneRow, width: int, line: int, selected: bool) -> Text:
        frame, (label, lanes_w) = row.frame, self.geometry
        cells = paint(row.lane, frame, lanes_w)
        index = self._rows.get(row.lane.agent, -1)
        layout = self._arrow_layout(frame, lanes_w)
        for col in layout.crossing(index):
            cells.put(col, PASS, "lanes--message", _CONNECTOR, over=_STRETCH)
        for col, glyph in layout.ends.get(index, ()):
            cells.put(col, glyph, "lanes--message", _ARROW)
        chosen = self._chosen_cells(row, lanes_w) if selected else range(0)
        cursor = cursor_column(frame, lanes_w)
        glyphs, names = cells.glyphs, cells.styles
        glyphs[cursor], names[cursor] = glyphs[cursor].replace(" ", CURSOR), "lanes--cursor"
        text = Text(fit(row.lane.agent, label) + " ")
        start, style = 0, self.style(names[0], 0 in chosen)
        for col in range(1, lanes_w + 1):  # a run of cells in one style is appended at once
            now = self.style(names[col], col in chosen) if col < lanes_w else None
            if now is not style:
                text.append("".join(glyphs[start:col]), style)
                start, style = col, now
        return text

    def _arrow_layout(self, frame: LanesFrame, width: int) -> ArrowLayout:
        """Laid out once per frame, width and lane under the cursor, for every line drawn."""
        row = self.selected
        agent = None if self.all_arrows or row is None else row.lane.agent
        key = (id(frame), width, agent)
        if self._arrows is None or self._arrows[0] != key:
            arrows = frame.arrows
            if agent is not None:
                arrows = [a for a in arrows if agent in (a.sender, a.receiver)]
            self._arrows = (key, ArrowLayout(arrows, frame, self._rows, width))
        return self._arrows[1]

    def _chosen_cells(self, row: LaneRow, width: int) -> range:
        bar = self.chosen_bar(row)
        if bar is None:
            return range(0)
        a = max(0, column(bar.start, row.frame, width, -1))
        return range(a, min(width, max(column(bar.end, row.frame, width, width - 1), a) + 1))

    # -- bars --------------------------------------------------------------------------------

    def chosen_bar(self, row: LaneRow | None = None) -> Bar | None:
        row = row or self.selected
        if row is None:
            return None
        bars = bars_in_view(row.lane, row.frame)
        i = self._chosen_index(bars, row.frame)
        return None if i is None else bars[i]

    def _chosen_index(self, bars: list[Bar], frame: LanesFrame) -> int | None:
        chosen = next((i for i, b in enumerate(bars) if (b.task, b.start) == self.bar), None)
        return nearest_bar(bars, frame.cursor) if chosen is None else chosen

    def action_bar(self, step: int) -> None:
        row = self.selected
        bars = [] if row is None else bars_in_view(row.lane, row.frame)
        if bars:
            i = max(0, min(len(bars) - 1, (self._chosen_index(bars, row.frame) or 0) + step))
            self.bar = (bars[i].task, bars[i].start)
            self.forget_lines()

    def action_zoom(self, direction: int) -> None:
        """Halve the window (-1) or double it (1)."""
        span = self.span * 2 if direction > 0 else self.span // 2
        self.span = max(MIN_SPAN_NS, min(MAX_SPAN_NS, span))
        self.post_message(self.Zoomed())

    def action_all_arrows(self) -> None:
        self.all_arrows = not self.all_arrows
        self.forget_lines()

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Chosen(self, row.lane.agent, self.chosen_bar(row)))


class LaneAxis(Widget):
    """The line above the lanes: the window's width, its edges and the cursor's instant."""

    COMPONENT_CLASSES = {"axis--cursor", "axis--note"}
    DEFAULT_CSS = """
    LaneAxis { height: 1; color: $text-muted; }
    LaneAxis > .axis--cursor { color: $accent; text-style: bold; }
    LaneAxis > .axis--note { color: $warning; }
    """

    def __init__(self, lanes: LaneList) -> None:
        super().__init__()
        self.lanes = lanes
        """The list below, whose frame and columns this line follows."""

    def render(self) -> Text:
        frame = self.lanes.frame
        if frame is None:
            return Text()
        label, width = self.lanes.geometry
        left, right = edge_words(frame)
        cursor = cursor_column(frame, width)
        line = Cells(width)
        for at, words, style, rank in (
            (0, left, None, 1),
            (width - len(right), right, None, 1),
            *self._middle(frame, width, cursor, len(left) + 1, width - len(right) - 1),
            (cursor, "▼", "axis--cursor", 3),
        ):
            for i, ch in enumerate(words):
                line.put(at + i, ch, style, rank)
        text = Text(fit(span_words(frame.span) + " wide", label) + " ")
        for glyph, name in zip(line.glyphs, line.styles):
            text.append(glyph, self.get_component_rich_style(name, partial=True) if name else None)
        return text

    @staticmethod
    def _middle(
        frame: LanesFrame, width: int, cursor: int, lo: int, hi: int
    ) -> list[tuple[int, str, str, int]]:
        """Between the edges: what was left out, else the cursor's instant beside its mark."""
        if frame.note:
            return [(lo, f"⚠ {frame.note}"[: max(0, hi - lo)], "axis--note", 2)]
        at = "now" if frame.live else clock_words(frame.cursor)
        start = cursor - len(at) - 1 if cursor + len(at) + 1 >= hi else cursor + 2
        return [(start, at, "axis--cursor", 2)] if lo <= start and start + len(at) <= hi else []


def cursor_column(frame: LanesFrame, width: int) -> int:
    """The cursor's cell: now, live, is the last one."""
    return min(width - 1, max(0, column(frame.cursor, frame, width, width - 1)))


def edge_words(frame: LanesFrame) -> tuple[str, str]:
    """What the axis says at its edges: seconds before now (live) or either side of the cursor."""
    before, after = frame.cursor - frame.t0, frame.t1 - frame.cursor
    if frame.live:
        return f"-{span_words(before)}", ""
    return f"-{span_words(before)}", f"+{span_words(after)}"


def span_words(ns: int) -> str:
    """A window's width as people say it: 250ms, 30s, 2m08s."""
    return f"{ns // 1_000_000}ms" if ns < S else duration(ns / S)


def clock_words(ts: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(ts / 1e9)) + f".{ts // 100_000_000 % 10}"


class Lanes(Vertical):
    """The tab's contents: the axis and the lanes, drawn from one frame."""

    DEFAULT_CSS = """
    Lanes { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        lanes = LaneList(id="lanes")
        yield LaneAxis(lanes)
        yield lanes

    def show(self, frame: LanesFrame) -> None:
        self.query_one(LaneList).set_frame(frame)
        self.query_one(LaneAxis).refresh()

    def on_lane_list_reshaped(self) -> None:
        self.query_one(LaneAxis).refresh()
