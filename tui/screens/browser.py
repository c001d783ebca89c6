"""The session browser: every recorded session, newest first; enter opens one in replay."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from swarmscope.core.errors import SwarmscopeError
from swarmscope.core.model.filters import Filter, parse_filter
from swarmscope.core.replay.session import open_session
from swarmscope.core.session.catalog import Catalog
from swarmscope.core.words import NOTHING
from swarmscope.tui.render import duration, fit, human_bytes
from swarmscope.tui.widgets.keybar import KeyBar
from swarmscope.tui.widgets.line_list import LineList

SESSION_FIELDS = ("name", "tag", "outcome", "host", "id")
SESSION_SORTS = ("newest", "name", "size", "duration", "errors")


@dataclass(frozen=True, slots=True)
class SessionRow:
    path: str
    id: str
    name: str
    started: int
    events: int
    agents: int
    errors: int
    outcome: str
    bytes: int
    duration_s: float | None
    tags: tuple[str, ...]
    damage: str
    closed: bool = True
    recording: bool = False
    """Not closed, and its writer still at it (a session not closed otherwise crashed)."""

    @classmethod
    def of(cls, e: dict) -> SessionRow:
        span = (
            (e["last_ts"] - e["first_ts"]) / 1e9 if e.get("last_ts") and e.get("first_ts") else None
        )
        return cls(
            e["path"],
            e.get("id") or "",
            e.get("name") or "",
            e.get("started") or 0,
            e.get("events") or 0,
            e.get("agents") or 0,
            e.get("errors") or 0,
            e.get("outcome") or "",
            e.get("bytes") or 0,
            span,
            tuple(e.get("tags") or ()),
            e.get("damage") or "",
            bool(e.get("closed")),
            bool(e.get("recording")),
        )


_SORT_KEYS = {
    "newest": lambda r: -r.started,
    "name": lambda r: r.name,
    "size": lambda r: -r.bytes,
    "duration": lambda r: -(r.duration_s or 0),
    "errors": lambda r: -r.errors,
}


class SessionList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "session--failed",
        "session--ok",
        "session--damaged",
        "session--recording",
    }
    DEFAULT_CSS = """
    SessionList > .session--failed { color: $error; text-style: bold; }
    SessionList > .session--ok { color: $success; }
    SessionList > .session--damaged { color: $warning; }
    SessionList > .session--recording { color: $accent; text-style: bold; }
    """

    def render_row(self, row: SessionRow, width: int, line: int, selected: bool) -> Text:
        glyph, label, kind = _standing(row)
        started = (
            time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(row.started / 1e9))
            if row.started
            else NOTHING
        )
        cells = (
            fit(row.name, 22),
            started,
            f"{row.events:,}",
            f"{row.agents:,}",
            f"{row.errors:,}",
            duration(row.duration_s),
            human_bytes(row.bytes),
        )
        text = Text(f"{glyph} {fit(label, 10)} ", style=self.cstyle(f"session--{kind}"))
        text.append(" ".join(map(_cell, cells, COLUMNS[1:-1])) + " ")
        text.append(" ".join(row.tags), style=self.cstyle("list--muted"))
        return text


COLUMNS = (
    ("state", 12, "<"),
    ("session", 22, "<"),
    ("started (UTC)", 17, "<"),
    ("events", 10, ">"),
    ("agents", 6, ">"),
    ("errors", 6, ">"),
    ("duration", 8, ">"),
    ("size", 7, ">"),
    ("tags", 0, "<"),
)
"""The list's columns: heading, width and alignment; the headings line up with the rows."""


def _cell(text: str, column: tuple[str, int, str]) -> str:
    _, width, align = column
    return f"{fit(text, width).rstrip():{align}{width}}" if width else text


def column_headings() -> str:
    """The line above the list: each heading over its column (render_row's layout)."""
    return " ".join(_cell(column[0], column) for column in COLUMNS)


def _standing(row: SessionRow) -> tuple[str, str, str]:
    """(glyph, label, style) of the first column. A file without an end is said to be one first:
    its outcome is only what was written so far, and one being recorded now needs no repair."""
    outcome = row.outcome or "?"
    if row.recording:
        return "●", "recording", "recording"
    if not row.closed and outcome != "unreadable":
        return "⚠", "not closed", "damaged"
    if outcome == "failed":
        return "✖", outcome, "failed"
    if row.damage:
        return "⚠", outcome, "damaged"
    return "✔", outcome, "ok"


class BrowserScreen(Screen):
    """Pick a session; `/` filters (name:… tag:… outcome:failed), `s` sorts."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="browser.filter"),
        Binding("s", "cycle_sort", "Sort", id="browser.sort"),
        Binding("escape", "clear", "Clear", show=False, id="browser.clear"),
        Binding("ctrl+r", "reload", "Reload", id="browser.reload"),
    ]
    DEFAULT_CSS = """
    BrowserScreen #title { height: 1; background: $panel; padding: 0 1; }
    BrowserScreen #columns { height: 1; color: $text-muted; text-style: bold; }
    BrowserScreen #browser-filter { dock: bottom; display: none; }
    BrowserScreen #browser-filter.-open { display: block; }
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.sort = "newest"
        self.filter = Filter()
        self._rows: list[SessionRow] = []

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(column_headings(), id="columns")
        yield SessionList(
            id="sessions", empty=f"no sessions in {self.directory} yet: run `swarmscope demo`"
        )
        yield Input(
            id="browser-filter",
            placeholder="filter sessions: words, or name:… tag:… outcome:failed",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(SessionList).focus()

    def action_reload(self) -> None:
        with Catalog(self.directory) as catalog:
            self._rows = [SessionRow.of(e) for e in catalog.sync()]
        self._show()

    def _show(self) -> None:
        rows = [
            r
            for r in self._rows
            if not self.filter
            or self.filter.matches(
                {"name": r.name, "tag": " ".join(r.tags), "outcome": r.outcome, "id": r.id}
            )
        ]
        rows.sort(key=_SORT_KEYS[self.sort])
        self.query_one(SessionList).set_rows(rows)
        self.query_one("#title", Static).update(
            Text.assemble(
                ("swarmscope ", "bold"),
                (" SESSIONS ", "reverse bold"),
                (
                    f"  {len(rows)} of {len(self._rows)} in {self.directory}  "
                    f"· sorted by {self.sort}  · enter opens"
                ),
            )
        )

    def action_cycle_sort(self) -> None:
        self.sort = SESSION_SORTS[(SESSION_SORTS.index(self.sort) + 1) % len(SESSION_SORTS)]
        self._show()

    def action_filter(self) -> None:
        box = self.query_one("#browser-filter", Input)
        box.add_class("-open")
        box.focus()

    def action_clear(self) -> None:
        box = self.query_one("#browser-filter", Input)
        box.remove_class("-open")
        box.value = ""
        self.query_one(SessionList).focus()

    @on(Input.Changed, "#browser-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.filter = parse_filter(event.value, SESSION_FIELDS)
        self._show()

    @on(Input.Submitted, "#browser-filter")
    def _filter_done(self) -> None:
        self.query_one("#browser-filter", Input).remove_class("-open")
        self.query_one(SessionList).focus()

    @on(LineList.Opened, "#sessions")
    def _open(self, event: LineList.Opened) -> None:
        from swarmscope.tui.screens.replay import ReplayScreen

        try:
            session = open_session(event.row.path)
        except SwarmscopeError as exc:
            self.notify(str(exc), severity="error", timeout=5)
            return
        self.app.push_screen(ReplayScreen(session, event.row.name, start=0, opened_from_list=True))
