"""The agent grid: a card per agent, or a line per agent when space is short.

Built on LineList (Line API), so a thousand agents cost what the visible
ones cost. Health and status each show a glyph next to their colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import NamedTuple

from rich.text import Text

from swarmscope.core.model.health import Health
from swarmscope.core.words import NOTHING
from swarmscope.tui.render import bar, fit, human_bytes, status_glyph
from swarmscope.tui.rows import AgentRow
from swarmscope.tui.widgets.line_list import LineList

ID_MIN, ID_MAX = 8, 24
TASK_MIN, TASK_MAX = 12, 40
"""Bounds of the id and task columns of a one-line row, which are sized to the longest."""
CARD_WIDTH = 38
"""At 120 columns (less a scrollbar) three cards a row, each still wide enough for a 14-character id
beside its role and status."""
CARD_LINES = 3
COMPACT_BELOW = 100
"""Narrower than this, every agent gets one line (80x24 over SSH)."""


class AgentGrid(LineList):
    """Agents as cards (wide terminals) or lines (narrow ones)."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        *(f"health--{h.value}" for h in Health),
        "status--running",
        "status--waiting",
        "status--blocked",
        "status--failed",
        "status--done",
        "status--idle",
        "bar--done",
        "bar--todo",
        "bar--failed",
        "grid--error",
        "grid--role",
    }
    DEFAULT_CSS = """
    AgentGrid > .health--healthy { color: $success; }
    AgentGrid > .health--degraded { color: $warning; }
    AgentGrid > .health--critical { color: $error; text-style: bold; }
    AgentGrid > .health--failed { color: $error; text-style: bold reverse; }
    AgentGrid > .health--stopped { color: $text-muted; }
    AgentGrid > .status--running { color: $success; }
    AgentGrid > .status--waiting { color: $warning; }
    AgentGrid > .status--blocked { color: $warning; text-style: bold; }
    AgentGrid > .status--failed { color: $error; text-style: bold; }
    AgentGrid > .status--done { color: $text-muted; }
    AgentGrid > .status--idle { color: $text-muted; }
    AgentGrid > .bar--done { color: $primary; }
    AgentGrid > .bar--todo { color: $text-disabled; }
    AgentGrid > .bar--failed { color: $error; }
    AgentGrid > .grid--error { color: $error; }
    AgentGrid > .grid--role { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no agents yet: waiting for the first event", **kwargs)
        self._content = (ID_MAX, TASK_MAX)
        """The longest id and task among the rows (capped): what a line's columns are sized to."""
        self.now = 0
        """The instant the rows are of: how fresh each heartbeat is then."""

    def set_rows(self, rows: Sequence[AgentRow], now: int = 0) -> None:
        """`now`: the instant of the rows, from which the grid draws how fresh each beat is (only
        for the rows on screen: ten thousand rows need not change as their beats age)."""
        self.now = now
        content = _content_widths(rows)
        if content != self._content:
            self._content = content
            self.forget_lines()  # lines drawn for other column widths would no longer line up
        super().set_rows(rows)

    def drawn_from(self, row: AgentRow, line: int) -> tuple:
        """The fields a line shows (a card's three lines each show a few: a progress that moved
        repaints its task's line only), and the beat's age, kept to 1/16 of an interval (finer
        than a bar shows)."""
        if self.item_height == 1:
            return row, self._beat(row)
        if line == 0:  # _card_top
            return row.health, row.id, row.role, row.status
        if line == 1:  # _card_task
            return row.task, row.progress, row.failed
        return row.health, self._beat(row), row.cpu, row.rss, row.error, row.gaps

    def row_key(self, row: AgentRow) -> str:
        """The cursor stays on its agent as the grid re-sorts (the replay's inspector shows that
        agent)."""
        return row.id

    def layout_for(self, width: int) -> tuple[int, int]:
        if width < COMPACT_BELOW:
            return 1, 1
        return max(1, width // CARD_WIDTH), CARD_LINES

    def render_row(self, row: AgentRow, width: int, line: int, selected: bool) -> Text:
        if self.item_height == 1:
            return self._line(row, width)
        return (self._card_top, self._card_task, self._card_health)[line](row, width - 1)

    # -- pieces ---------------------------------------------------------------------

    def _health(self, row: AgentRow) -> Text:
        return Text(row.health.glyph, style=self.cstyle(f"health--{row.health.value}"))

    def _status(self, row: AgentRow, width: int) -> Text:
        style = self.cstyle(f"status--{row.status}") if row.status in _STYLED_STATUS else None
        status = row.status or "unknown"  # a viewer that joined after the agent's hello
        word = f" {status}" if width > 1 else ""  # a narrow line keeps the glyph only
        return Text(fit(f"{status_glyph(row.status)}{word}", width), style=style)

    def _bar(self, row: AgentRow, width: int) -> Text:
        """A failed task's bar stops at a ✖ where it failed, in the error colour: the same
        fraction in the usual colour would read as a task still in flight."""
        if not row.failed:
            done, todo = bar(row.progress, width)
            return Text.assemble((done, self.cstyle("bar--done")), (todo, self.cstyle("bar--todo")))
        done, todo = bar(row.progress, width - 1)
        failed = self.cstyle("bar--failed")
        return Text.assemble((done, failed), ("✖", failed), (todo, self.cstyle("bar--todo")))

    def _pct(self, row: AgentRow) -> Text:
        fraction = row.progress
        pct = f"   {NOTHING}" if fraction is None else f"{fraction * 100:3.0f}%"
        return Text(pct, style=self.cstyle("bar--failed") if row.failed else "")

    def _beat(self, row: AgentRow) -> float:
        return round(row.beat(self.now) * 16) / 16

    def _freshness(self, row: AgentRow, width: int) -> Text:
        """Full just after a beat, empty at 3x the interval (FAILED)."""
        fresh = None if row.health is Health.STOPPED else max(0.0, 1 - self._beat(row) / 3)
        done, todo = bar(fresh, width)
        return Text.assemble(
            "♥",
            (done, self.cstyle(f"health--{row.health.value}")),
            (todo, self.cstyle("bar--todo")),
        )

    def _line(self, row: AgentRow, width: int) -> Text:
        cols = line_columns(width, *self._content)
        text = Text.assemble(
            self._health(row),
            " ",
            fit(row.id, cols.id),
            " ",
            self._status(row, cols.status),
            " ",
            fit(row.task or NOTHING, cols.task),
            " ",
        )
        if cols.bar:
            text.append_text(self._bar(row, 8))
            text.append(" ")
        text.append_text(self._pct(row))
        text.append(" ")
        if cols.beat:
            text.append_text(self._freshness(row, 4))
            text.append(" ")
        rest = width - text.cell_len
        if rest > 2 and row.error:
            text.append(fit("✖ " + row.error, rest), style=self.cstyle("grid--error"))
        return text

    def _card_top(self, row: AgentRow, width: int) -> Text:
        id_w = max(8, width - 24)
        return Text.assemble(
            self._health(row),
            " ",
            (fit(row.id, id_w), "bold"),
            " ",
            (fit(row.role, 10), self.cstyle("grid--role")),
            " ",
            self._status(row, 10),
        )

    def _card_task(self, row: AgentRow, width: int) -> Text:
        return Text.assemble(
            "  ",
            fit(row.task or NOTHING, max(4, width - 17)),
            " ",
            self._bar(row, 9),
            " ",
            self._pct(row),
        )

    def _card_health(self, row: AgentRow, width: int) -> Text:
        text = Text.assemble("  ", self._freshness(row, 5), " ")
        if row.cpu is not None:
            text.append(f"cpu {row.cpu:3.0f}% {human_bytes(row.rss):>5} ")
        if row.error:
            text.append(
                fit("✖ " + row.error, max(0, width - text.cell_len)),
                style=self.cstyle("grid--error"),
            )
        elif row.gaps:
            text.append(f"{row.gaps} lost", style=self.cstyle("grid--error"))
        return text


def _content_widths(rows: Sequence[AgentRow]) -> tuple[int, int]:
    ids = max(map(len, map(_ID, rows)), default=ID_MIN)
    tasks = max(max(map(len, map(_TASK, rows)), default=TASK_MIN), len(NOTHING))
    return max(ID_MIN, min(ID_MAX, ids)), max(TASK_MIN, min(TASK_MAX, tasks))


_ID, _TASK = attrgetter("id"), attrgetter("task")


class LineColumns(NamedTuple):
    id: int
    status: int
    task: int
    bar: bool
    beat: bool


def line_columns(width: int, id_w: int, task_w: int) -> LineColumns:
    """The columns of a one-line row `width` cells wide, for ids and tasks whose longest are
    `id_w` and `task_w`.

    Every column takes the room its content needs (a compare screen's half of 100 columns cut
    every task to five characters beside empty space). Where that is more than there is, what
    another column says too gives way first: the progress bar (the percentage stays), the
    heartbeat (the health glyph stays), the status word (its glyph stays); then the id shrinks
    to ID_MIN, and only then the task."""
    over = 2 + id_w + 1 + 10 + 1 + task_w + 1 + 9 + 5 + 6 - width
    status = 10
    bar = over <= 0
    over -= 0 if bar else 9
    beat = over <= 0
    over -= 0 if beat else 6
    if over > 0:
        status, over = 1, over - 9
    if over > 0:
        give = min(over, id_w - ID_MIN)
        id_w, over = id_w - give, over - give
    return LineColumns(id_w, status, max(1, task_w - max(0, over)), bar, beat)


_STYLED_STATUS = {"running", "waiting", "blocked", "failed", "done", "idle"}
