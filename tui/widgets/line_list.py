"""A virtual list of rows drawn with Textual's Line API: only what is on screen is rendered.

One widget for a thousand (or ten thousand) rows instead of a widget per
row; rendered lines are cached per (what the line is drawn from, width,
selected), and a frame repaints only the screen lines whose keys changed, so a
frame that changes a few rows costs a few lines, in the list and in Textual's
compositor after it. The cache holds what the last
rows drew and no more: each cached line is a Strip with a dozen objects of
its own, and a cache of thousands of stale lines made every full garbage
collection of the screen several times slower. Rows may be laid out in columns
and span several lines (the agent cards).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

_CACHE_LIMIT = 4096
"""A bound for a list scrolled far without new rows; new rows start a fresh cache anyway."""


class LineList(ScrollView, can_focus=True):
    """Rows with a cursor; subclasses say how one row looks in `render_row`."""

    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="list.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="list.up"),
        Binding("right,l", "step(1)", "Right", show=False, id="list.right"),
        Binding("left,h", "step(-1)", "Left", show=False, id="list.left"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "jump(0)", "First", show=False, id="list.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="list.last"),
        Binding("enter", "open", "Open", id="list.open"),
    ]
    COMPONENT_CLASSES = {"list--cursor", "list--muted"}
    DEFAULT_CSS = """
    LineList { height: 1fr; }
    LineList > .list--cursor { background: $surface-lighten-1; }
    LineList:focus > .list--cursor { background: $primary 45%; text-style: bold; }
    LineList > .list--muted { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, repaint=False)

    class Opened(Message):
        """Enter on a row."""

        def __init__(self, source: LineList, row: Any) -> None:
            super().__init__()
            self.source, self.row = source, row

        @property
        def control(self) -> LineList:
            return self.source

    def __init__(
        self, *, id: str | None = None, classes: str | None = None, empty: str = "nothing yet"
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: Sequence[Any] = ()
        self.item_height = 1
        self.columns = 1
        self.empty = empty
        self.yielded_actions: frozenset[str] = frozenset()
        """Actions this list leaves to its screen (the replay screen steps through time with
        arrows)."""
        self._cache: dict[tuple, Strip] = {}
        self._previous: dict[tuple, Strip] = {}
        """Lines drawn for the rows before the last set_rows(): reused if still on screen, else
        dropped."""
        self._styles: dict[tuple[str, bool], Style] = {}
        self._drawn: dict[int, list[Hashable]] = {}
        """What each screen line was last drawn from (see _slots): a line whose key is the same
        after set_rows() is left as it is on screen."""
        self._wanted: Any = None
        """The key of a row to put the cursor on when it arrives (see select)."""
        self._chosen = False
        """Whether the user (or select) put the cursor on a row. Until then it stays at the
        top, so a live grid sorted by health keeps its worst agents in view."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in self.yielded_actions

    # -- what subclasses provide ------------------------------------------------

    def render_row(self, row: Any, width: int, line: int, selected: bool) -> Text:
        """Line `line` (0..item_height-1) of `row`, as rich Text at most `width` cells."""
        return Text(str(row))

    def layout_for(self, width: int) -> tuple[int, int]:
        """(columns, lines per row) for a given width; one plain line per row by default."""
        return 1, 1

    def row_key(self, row: Any) -> Any:
        """What names a row from one set of rows to the next, so a chosen row keeps the
        cursor when rows re-sort; None (the default) keeps the cursor at its place in the list."""
        return None

    def drawn_from(self, row: Any, line: int) -> Hashable:
        """What line `line` of a row is drawn from: that line is kept, on screen and in the cache,
        until this changes."""
        return row

    def cstyle(self, name: str) -> Style:
        """A component class's own style only, so it never paints the widget's background over
        text. Kept until the theme changes (clear_cache), as the lines drawn in it are: Textual
        forgets its own copy at every refresh, and working one out again cost 8-16 us a call,
        a dozen calls a line."""
        key = (name, self.has_focus)  # the cursor's style is the focused list's
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name, partial=True)
        return style

    # -- feeding ------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Replace the rows (called once a frame by the screen) and repaint."""
        kept = (
            self._wanted
            if self._wanted is not None
            else self._key_at_cursor()
            if self._chosen
            else None
        )
        self.rows = rows
        self._previous, self._cache = self._cache, {}
        self._relayout()
        index = self._index_of(kept)
        if index is not None:
            self.cursor = index
        elif self.cursor >= len(rows):
            self.cursor = max(0, len(rows) - 1)
        self._wanted = None
        self._repaint_changed()

    def _repaint_changed(self) -> None:
        """Mark dirty the screen lines that would be drawn from something else now (all of them,
        before the first paint).

        A list off screen (in a tab not shown) asks for nothing: Textual holds it at size 0 and
        draws it afresh when it shows, and it takes a refresh of a widget it has not laid out
        as a new widget, for which it maps the whole screen again at the next paint (1.7 ms, on
        every replay jump while the event and alert lists sat in hidden tabs)."""
        if not self.is_on_screen:
            self._drawn.clear()
            return
        width, height = self.scrollable_content_region.size
        changed = [y for y in range(height) if self._drawn.get(y) != self._keys(y, width)]
        if not self._drawn or len(changed) == height:
            self.refresh()
            return
        for start, stop in _runs(changed):
            self.refresh(Region(0, start, width, stop - start))

    def select(self, key: Any) -> None:
        """Put the cursor on the row named `key` (see row_key): now, or with the next rows."""
        self._chosen = True
        index = self._index_of(key)
        if index is None:
            self._wanted = key
        else:
            self.cursor = index

    def _key_at_cursor(self) -> Any:
        row = self.selected
        return None if row is None else self.row_key(row)

    def _index_of(self, key: Any) -> int | None:
        """Where the row named `key` is: most often still under the cursor, else looked for."""
        if key is None:
            return None
        if key == self._key_at_cursor():
            return self.cursor
        return next((i for i, row in enumerate(self.rows) if self.row_key(row) == key), None)

    def clear_cache(self) -> None:
        """Forget styles and rendered lines (a theme switch)."""
        self._styles.clear()
        self.forget_lines()

    def forget_lines(self) -> None:
        """Forget rendered lines, and draw every line again."""
        self._cache.clear()
        self._previous.clear()
        self._drawn.clear()
        self.refresh()

    @property
    def selected(self) -> Any | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def _relayout(self) -> None:
        """Columns, lines per row, and the scrollable size.

        Setting a new virtual size lays the whole screen out again (26 ms under the profiler at
        120x35, and cyclic garbage for the collector), and a replay's tasks list changed length
        on most seeks. Only a new width, or a scrollbar that comes or goes, moves anything
        else on screen: for a new length alone the size is set quietly and the scrollbar is
        told (Textual's `_scroll_update` lays out by itself when the scrollbar shows or hides).
        A list shorter than its viewport takes the viewport's height."""
        width = max(1, self.scrollable_content_region.width or self.size.width)
        self.columns, self.item_height = self.layout_for(width)
        lines = -(-len(self.rows) // self.columns) * self.item_height
        size = Size(width, max(lines, self.scrollable_content_region.height))
        if size.width != self.virtual_size.width:
            self.virtual_size = size
        elif size != self.virtual_size:
            self.set_reactive(LineList.virtual_size, size)
            self._scroll_update(size)

    def on_resize(self) -> None:
        self._relayout()
        self.forget_lines()

    # -- drawing --------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        slots = self._slots(y, self.scrollable_content_region.width)
        self._drawn[y] = [key for _, _, key in slots]
        if not self.rows:
            width = slots[0][1]
            if y == 0:
                return self._strip(Text(self.empty, style=self.cstyle("list--muted")), width)
            return Strip.blank(width, Style.null())
        parts = [
            self._cached(index, key, w) if key is not None else Strip.blank(w, Style.null())
            for index, w, key in slots
        ]
        return Strip.join(parts) if len(parts) > 1 else parts[0]

    def _keys(self, y: int, width: int) -> list[Hashable]:
        return [key for _, _, key in self._slots(y, width)]

    def _slots(self, y: int, width: int) -> list[tuple[int, int, Hashable]]:
        """Screen line `y` of a list `width` cells wide, column by column: (row index, width,
        what the row's line there is drawn from), with None for a blank."""
        if not self.rows:
            return [(-1, width, self.empty if y == 0 else None)]
        item_line, line = divmod(self.scroll_offset.y + y, self.item_height)
        col_width = width // self.columns
        slots = []
        for col in range(self.columns):
            index = item_line * self.columns + col
            w = col_width if col < self.columns - 1 else width - col_width * (self.columns - 1)
            if index >= len(self.rows):
                slots.append((index, w, None))
                continue
            selected = index == self.cursor
            drawn = self.drawn_from(self.rows[index], line)
            slots.append((index, w, (drawn, line, w, selected, self.has_focus)))
        return slots

    def _cached(self, index: int, key: tuple, width: int) -> Strip:
        strip = self._cache.get(key) or self._previous.pop(key, None)
        if strip is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            _, line, _, selected, _ = key
            text = self.render_row(self.rows[index], width, line, selected)
            text.truncate(width, overflow="ellipsis", pad=True)
            if selected:
                text.stylize(self.cstyle("list--cursor"))
            strip = self._strip(text, width)
        self._cache[key] = strip
        return strip

    def _strip(self, text: Text, width: int) -> Strip:
        return text_strip(text, width, self.app.console)

    # -- moving ----------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        """Scrolled to the cursor, which repaints every line; else only the cursor's old and new
        lines changed."""
        self._scroll_to_cursor()
        self._repaint_changed()

    def _scroll_to_cursor(self) -> None:
        top = (self.cursor // self.columns) * self.item_height
        height = self.scrollable_content_region.height
        if top < self.scroll_offset.y:
            self.scroll_to(y=top, animate=False)
        elif top + self.item_height > self.scroll_offset.y + height:
            self.scroll_to(y=top + self.item_height - height, animate=False)

    def _go(self, index: int) -> None:
        self._chosen = True
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, index))

    def action_move(self, rows: int) -> None:
        self._go(self.cursor + rows * self.columns)

    def action_step(self, by: int) -> None:
        if self.columns > 1:
            self._go(self.cursor + by)

    def action_page(self, pages: int) -> None:
        per_page = max(1, self.scrollable_content_region.height // self.item_height) * self.columns
        self._go(self.cursor + pages * per_page)

    def action_jump(self, index: int) -> None:
        self._go(index if index >= 0 else len(self.rows) - 1)

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self, self.selected))


def _runs(ys: list[int]) -> list[tuple[int, int]]:
    """Ascending line numbers as (start, stop) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for y in ys:
        if runs and runs[-1][1] == y:
            runs[-1] = (runs[-1][0], y + 1)
        else:
            runs.append((y, y + 1))
    return runs


def text_strip(text: Text, width: int, console: Console) -> Strip:
    """One line of rich text as a Strip `width` cells wide (cut with an ellipsis, or padded), in
    its base style (Text.render leaves that to its caller where the text has no spans).

    Rows are assembled from parts, whose spans follow one another without overlapping: those
    are cut into segments here, each in the base style plus its span's, which is what Rich's
    general renderer (a stack of open spans at every boundary) makes of them, at a third of
    its cost (65 us a card line). Overlapping spans (a line stylized as the cursor's) go
    through Rich."""
    text.truncate(width, overflow="ellipsis", pad=True)
    null = Style.null()  # Textual's line filters (NO_COLOR) need a style on every segment
    base = console.get_style(text.style, default=null) or null
    plain, at, segments = text.plain, 0, []
    for start, end, style in text.spans:
        if start < at:
            return _rich_strip(text, width, console)
        if start > at:
            segments.append(Segment(plain[at:start], base))
        end = min(end, len(plain))
        if end > start:
            segments.append(
                Segment(plain[start:end], base + console.get_style(style, default=null))
            )
        at = max(at, end)
    if at < len(plain):
        segments.append(Segment(plain[at:], base))
    return Strip(segments, width)


def _rich_strip(text: Text, width: int, console: Console) -> Strip:
    null = Style.null()
    rendered = Segment.apply_style(text.render(console), console.get_style(text.style))
    return Strip([Segment(s.text, s.style or null) for s in rendered if s.text != "\n"], width)
