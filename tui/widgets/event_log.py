"""The event log: newest at the bottom, following unless the user has scrolled up."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.text import Text

from swarmscope.core.events import Event, summarize
from swarmscope.core.model.filters import Filter
from swarmscope.tui.render import fit
from swarmscope.tui.widgets.line_list import LineList

LOG_FIELDS = ("agent", "kind", "level", "task")


@dataclass(frozen=True, slots=True)
class LogRow:
    """An event as the log lists it; its one-line summary is made only when it is drawn."""

    ts: int
    agent: str
    seq: int
    kind: str
    level: str
    event: Event = field(compare=False, hash=False)


def level_of(ev: Event) -> str:
    """A log event's level; "error" for an error event; "" for the rest."""
    level = ev.data.get("level") if ev.kind == "log" else ("error" if ev.kind == "error" else "")
    return level if isinstance(level, str) else ""


def task_name(ev: Event) -> str | None:
    """The name of the task a task_start starts (its id when it has no name, as a profile
    counts it); None for any other event. Only a start carries the name."""
    if ev.kind != "task_start":
        return None
    name = ev.data.get("name") or ev.data.get("task")
    return name if isinstance(name, str) else None


def task_filter(name: str) -> Filter:
    """The log filter that shows where tasks called `name` start (enter on the Profile tab)."""
    return Filter(fields=(("task", name.lower(), False),), text=f"task:{name}")


def event_matches(flt: Filter, ev: Event) -> bool:
    return flt.matches(
        {"agent": ev.agent, "kind": ev.kind, "level": level_of(ev), "task": task_name(ev)}
    )


def log_rows(events: Iterable[Event], flt: Filter, skip_heartbeats: bool = True) -> list[LogRow]:
    rows = []
    for ev in events:
        if skip_heartbeats and ev.kind == "heartbeat":
            continue
        if flt and not event_matches(flt, ev):
            continue
        rows.append(LogRow(ev.ts, ev.agent, ev.seq, ev.kind, level_of(ev), ev))
    return rows


class EventLog(LineList):
    """Follows the newest event unless scrolled up; then counts what is pending below."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "log--time",
        "log--agent",
        "log--error",
        "log--warning",
        "log--kind",
    }
    DEFAULT_CSS = """
    EventLog > .log--time { color: $text-muted; }
    EventLog > .log--agent { color: $text-primary; }
    EventLog > .log--kind { color: $text-muted; }
    EventLog > .log--error { color: $error; text-style: bold; }
    EventLog > .log--warning { color: $warning; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no events yet", **kwargs)
        self.follow = True
        self.pending = 0
        self.counts_new = True
        """Count rows arriving below while scrolled up (live); a replay's list is a window, not a
        stream."""

    def set_rows(self, rows) -> None:
        before = len(self.rows)
        super().set_rows(rows)
        if self.follow:
            self.cursor = max(0, len(rows) - 1)
            self.pending = 0
            self.call_after_refresh(self._scroll_to_cursor)  # the first rows arrive before layout
        elif self.counts_new:
            self.pending += max(0, len(rows) - before)

    def watch_cursor(self, old: int, new: int) -> None:
        self.follow = new >= len(self.rows) - 1
        if self.follow:
            self.pending = 0
        super().watch_cursor(old, new)

    def render_row(self, row: LogRow, width: int, line: int, selected: bool) -> Text:
        clock = time.strftime("%H:%M:%S", time.gmtime(row.ts / 1e9))
        style = self.cstyle(f"log--{row.level}") if row.level in ("error", "warning") else None
        text = Text.assemble(
            (clock, self.cstyle("log--time")),
            " ",
            (fit(row.agent, 14), self.cstyle("log--agent")),
            " ",
            (fit(row.kind, 10), self.cstyle("log--kind")),
            " ",
        )
        text.append(summarize(row.event), style=style)
        return text
