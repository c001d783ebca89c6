"""The lower panels: tasks in flight, alerts, and who talks to whom. All LineLists of plain rows."""

from __future__ import annotations

import time

from rich.text import Text

from swarmscope.core.model.health import Health
from swarmscope.core.ops.alerts import Alert, Level
from swarmscope.tui.render import bar, count_cell, duration, fit, human_bytes
from swarmscope.tui.rows import LinkRow, TaskRow
from swarmscope.tui.widgets.line_list import LineList


class TaskList(LineList):
    """Tasks in flight with progress, blockers and ETA; failed tasks stay listed below them."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "task--failed",
        "task--blocked",
        "bar--done",
        "bar--todo",
    }
    DEFAULT_CSS = """
    TaskList > .task--failed { color: $error; }
    TaskList > .task--blocked { color: $warning; }
    TaskList > .bar--done { color: $primary; }
    TaskList > .bar--todo { color: $text-disabled; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no tasks in flight", **kwargs)

    def render_row(self, row: TaskRow, width: int, line: int, selected: bool) -> Text:
        done, todo = bar(row.progress, 10)
        if row.result:
            status = Text(fit(f"✖ {row.result}", 11), style=self.cstyle("task--failed"))
        else:
            status = Text.assemble(
                (done, self.cstyle("bar--done")), (todo, self.cstyle("bar--todo")), " "
            )
        text = Text.assemble(
            status,
            " ",
            fit(row.agent, 14),
            " ",
            fit(row.name, 18),
            " ",
            fit(duration(row.elapsed_s), 6),
            " ",
            fit(f"eta {duration(row.eta_s)}", 10),
        )
        if row.blockers:
            text.append("⚠ blocked: " + ", ".join(row.blockers), style=self.cstyle("task--blocked"))
        else:
            text.append(row.message, style=self.cstyle("list--muted"))
        return text


class AlertList(LineList):
    """Alerts, newest first: who needs a look (failed, critical, raised an error), and when; the
    rules are the hub's own (core/ops/alerts.py)."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "alert--error",
        "alert--critical",
        "alert--failed",
    }
    DEFAULT_CSS = """
    AlertList > .alert--error { color: $warning; }
    AlertList > .alert--critical { color: $warning; text-style: bold; }
    AlertList > .alert--failed { color: $error; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no alerts", **kwargs)

    def render_row(self, row: Alert, width: int, line: int, selected: bool) -> Text:
        clock = time.strftime("%H:%M:%S", time.gmtime(row.ts / 1e9))
        glyph = row.health.glyph if row.level is not Level.ERROR and row.health else "!"
        return Text.assemble(
            clock,
            " ",
            (f"{glyph} {row.level.name:<8}", self.cstyle(f"alert--{row.level.name.lower()}")),
            " ",
            fit(row.agent, 16),
            f" {_detail(row)}",
        )


def _detail(alert: Alert) -> str:
    """What else the alert knows, shortest first: what it was, its error, what was held back."""
    parts = [f"was {alert.was.value}"] if alert.was and alert.level is not Level.ERROR else []
    if alert.error:
        parts.append(alert.error)
    if alert.suppressed:
        parts.append(f"+{alert.suppressed} held back")
    return " · ".join(parts)


class LinkList(LineList):
    """Agent pairs that exchange messages, most recently active first; the receiver's health
    glyph shows who is talking to an agent that can no longer answer."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"link--dead"}
    DEFAULT_CSS = """
    LinkList > .link--dead { color: $error; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(empty="no messages between agents yet", **kwargs)

    def render_row(self, row: LinkRow, width: int, line: int, selected: bool) -> Text:
        health = row.dst_health
        glyph = health.glyph if health else "?"
        dead = health in (None, Health.FAILED, Health.CRITICAL)
        return Text.assemble(
            fit(row.src, 14),
            " → ",
            (f"{glyph} ", self.cstyle("link--dead") if dead else ""),
            fit(row.dst, 14),
            f" {count_cell(row.count, 'message')} ",
            fit(human_bytes(row.bytes), 6),
            " ",
            fit(f"{duration(row.age_s)} ago", 9),
            " ",
            (row.topic, self.cstyle("list--muted")),
        )
