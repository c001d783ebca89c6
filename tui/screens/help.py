"""Help: every key that works on the screen underneath, from the live bindings themselves.

At 80x24 the keys of a screen take more lines than the terminal has, so they are laid out in as
many columns as it takes to fit (two for the live view, three for the replay's), and what still
does not fit scrolls (up, down, pgup, pgdn) with a note saying so: every key is reachable at any
size.
"""

from __future__ import annotations

from math import ceil

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA = [("ctrl+p", "command palette: every action by name")]
COLUMN_MIN = 24
"""Narrowest a column of keys may be: a key, a gap and a description of ~15 cells (longer ones
wrap)."""
WIDE = 110
"""Widest the box may be."""
CHROME = 4
"""Lines of the box that are not keys: its border, the title and the blank line under it."""
TITLE = "[b]swarmscope keys[/b]  (escape closes)"
SCROLLS = "[b]swarmscope keys[/b]  (↑ ↓ pgup pgdn scroll, escape closes)"


def column_count(rows: int, lines: int, width: int) -> int:
    """Fewest columns that show `rows` keys in `lines` lines, no more than `width` has room for."""
    most = max(1, width // COLUMN_MIN)
    return min(most, max(1, ceil(rows / max(1, lines))))


def natural_width(rows: list[tuple[str, str]], columns: int) -> int:
    """Cells the keys take unwrapped in `columns`: the width of the box around them, less its
    border and padding. (CSS `width: auto` measures the title, not a Rich table.)"""
    per_column = ceil(len(rows) / columns)
    width = 3 * (columns - 1)
    for column in range(columns):
        part = rows[column * per_column : (column + 1) * per_column]
        width += max(cell_len(k) for k, _ in part) + 1 + max(cell_len(d) for _, d in part)
    return width


def key_table(rows: list[tuple[str, str]], columns: int) -> Table:
    """Keys down the first column, then the next, as a book reads."""
    table = Table.grid(padding=(0, 1))
    for column in range(columns):
        table.add_column(style="bold", no_wrap=True)
        table.add_column(min_width=10)
        if column < columns - 1:
            table.add_column(width=1)  # with the padding, three cells between columns
    per_column = ceil(len(rows) / columns)
    for line in range(per_column):
        cells: list[str] = []
        for column in range(columns):
            i = column * per_column + line
            cells += list(rows[i]) if i < len(rows) else ["", ""]
            cells += [""] if column < columns - 1 else []
        table.add_row(*cells)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: auto; max-width: 100%; height: auto; max-height: 100%;
                                  border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bindings = bindings
        self.columns = 1

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(TITLE + "\n", id="help-title")
            yield Static(id="help-keys")

    def on_resize(self, event: events.Resize) -> None:
        self.lay_out(event.size.width, event.size.height)

    def lay_out(self, width: int, height: int) -> None:
        """As many columns as this terminal needs and has room for."""
        rows = [*self.bindings, *EXTRA]
        lines = height - CHROME
        self.columns = column_count(len(rows), lines, min(width, WIDE) - 4)  # border, padding
        inner = max(natural_width(rows, self.columns), cell_len(Text.from_markup(SCROLLS).plain))
        self.query_one(VerticalScroll).styles.width = min(inner + 4, WIDE)
        self.query_one("#help-keys", Static).update(key_table(rows, self.columns))
        self.call_after_refresh(self._title)

    def _title(self) -> None:
        """Say how to scroll only when there is something to scroll to (long descriptions wrap,
        so only the laid out box knows)."""
        scrolls = self.query_one(VerticalScroll).max_scroll_y > 0
        self.query_one("#help-title", Static).update((SCROLLS if scrolls else TITLE) + "\n")

    def action_dismiss(self) -> None:
        self.app.pop_screen()
