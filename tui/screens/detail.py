"""One agent up close: its own state as a tree, its recent events, its messages, its health over
time."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static, Tree

from swarmscope.core.live.source import Source
from swarmscope.core.model.filters import Filter
from swarmscope.core.model.health import Health
from swarmscope.core.model.views import AgentView
from swarmscope.core.words import NOTHING, clip, plain
from swarmscope.tui.render import (
    bar,
    count_cell,
    duration,
    human_bytes,
    sparkline,
    status_glyph,
)
from swarmscope.tui.screens.event import EventScreen
from swarmscope.tui.widgets.event_log import EventLog, log_rows
from swarmscope.tui.widgets.keybar import KeyBar
from swarmscope.tui.widgets.line_list import LineList
from swarmscope.tui.widgets.state_tree import StateTree, fill_tree

HISTORY = 120
"""Frames of health history kept while the screen is open."""
SHOWN_METRICS = 8


class AgentDetailScreen(Screen):
    """Enter on an agent. Escape goes back."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back")]
    DEFAULT_CSS = """
    AgentDetailScreen #facts { height: auto; padding: 0 1; background: $panel; }
    AgentDetailScreen #body { height: 1fr; }
    AgentDetailScreen #state { width: 45%; border: round $primary-darken-2; }
    AgentDetailScreen #side { width: 55%; }
    AgentDetailScreen #links {
        height: auto; max-height: 8; border: round $primary-darken-2; padding: 0 1;
    }
    AgentDetailScreen #agent-log { border: round $primary-darken-2; }
    """

    def __init__(self, source: Source, agent_id: str) -> None:
        super().__init__()
        self.source = source
        self.agent_id = agent_id
        self._state: Any = None
        self._beats: deque[float] = deque(maxlen=HISTORY)
        self._last_now = None

    def compose(self) -> ComposeResult:
        yield Static(id="facts")
        with Horizontal(id="body"):
            tree = StateTree("state", id="state")
            tree.border_title = "own state"
            yield tree
            with Vertical(id="side"):
                yield Static(id="links")
                log = EventLog(id="agent-log")
                log.border_title = "recent events"
                yield log
        yield KeyBar()

    @on(LineList.Opened, "#agent-log")
    def _open_event(self, event: LineList.Opened) -> None:
        self.app.push_screen(EventScreen(event.row.event))

    def on_mount(self) -> None:
        self.query_one("#links").border_title = "messages"
        self.frame()
        self.query_one(Tree).focus()

    def frame(self) -> None:
        src = self.source
        with src.reading():
            agent = src.model.agents.get(self.agent_id)
            if agent is None:
                return
            now = src.now()
            health, beat = agent.health(now), agent.beat_ratio(now)
            facts = self._facts(agent, health, beat, now)
            links = [
                (k, v.count, v.topic) for k, v in src.model.links.items() if self.agent_id in k
            ]
            events = [e for e in src.recent if e.agent == self.agent_id]
            state = agent.state
        if now != self._last_now:  # one sample per instant, however often we draw
            self._last_now = now
            self._beats.append(min(beat, 4.0))
        facts.append(f"\nheartbeat age over time  {sparkline(list(self._beats), 60)}")
        self.query_one("#facts", Static).update(facts)
        self.query_one("#links", Static).update(self._links(links))
        self.query_one(EventLog).set_rows(log_rows(events[-1000:], Filter(), skip_heartbeats=False))
        if state is not self._state:  # states are immutable values: identity tells a change
            self._state = state
            self._show_state(state)

    def _facts(self, a: AgentView, health: Health, beat: float, now: int) -> Text:
        text = Text.assemble(
            (f"{health.glyph} {a.id}", "bold"),
            f"  {plain(a.role)}  {status_glyph(a.status)} {a.status or '?'}  ",
            f"health {health.value} (beat {beat:.1f}x of {a.interval:g}s)  ",
            f"host {plain(a.host)} pid {plain(a.pid)}  ",
            f"up {duration((now - a.first_seen) / 1e9)}\n",
            *_task(a),
            (
                f"  tasks ok {a.tasks_ok} failed {a.tasks_failed}  errors {a.errors}  "
                f"lost {a.gaps}  restarts {a.restarts}  "
            ),
            _resources(a, now),
        )
        if a.type or a.tags:
            tags = (
                " ".join(f"{k}={plain(v)}" for k, v in a.tags.items())
                if isinstance(a.tags, dict)
                else plain(a.tags)
            )
            text.append(f"\ntype {plain(a.type)}  tags {clip(tags, 200)}")
        if a.metrics:
            names = sorted(a.metrics)
            more = f"  … {len(names) - SHOWN_METRICS} more" if len(names) > SHOWN_METRICS else ""
            text.append(
                "\nmetrics "
                + "  ".join(f"{k} {a.metrics[k]:,.4g}" for k in names[:SHOWN_METRICS])
                + more
            )
        if a.last_error:
            text.append(
                f"\nlast error: {a.last_error['type']}: {a.last_error['message']}", style="bold red"
            )
        return text

    def _links(self, links: list) -> Text:
        if not links:
            return Text("no messages yet", style="dim")
        lines = []
        for (src, dst), n, topic in sorted(links, key=lambda link: -link[1])[:6]:
            arrow = f"→ {dst}" if src == self.agent_id else f"← {src}"
            lines.append(f"{arrow:<24} {count_cell(n, 'message')}  last topic {topic or '-'}")
        return Text("\n".join(lines))

    def _show_state(self, state: Any) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.root.expand()
        fill_tree(tree.root, state)


def _task(a: AgentView) -> tuple[str | tuple[str, str], ...]:
    """Its task and progress; a task it failed with the bar stopped at a ✖, in red, so it does
    not read as one still in flight."""
    pct = "" if a.progress is None else f" {a.progress:.0%}"
    name = plain(a.task_name or a.failed_task)
    if not a.at_failure():
        done, todo = bar(a.progress, 20)
        return (f"task {name} {done}{todo}{pct}",)
    done, todo = bar(a.progress, 19)
    return (
        f"task {name} ",
        (f"{done}✖", "red"),
        todo,
        (f" failed at{pct}" if pct else " failed", "bold red"),
    )


def _resources(a: AgentView, now: int) -> str:
    """cpu and rss while its heartbeats say how it is now; none after its bye or done, when they
    would be what it used before it finished."""
    if not a.reporting(now) or a.cpu is None and a.rss is None:
        return f"cpu {NOTHING} rss {NOTHING}"
    cpu = NOTHING if a.cpu is None else f"{a.cpu:.0f}%"
    rss = NOTHING if a.rss is None else human_bytes(a.rss)
    return f"cpu {cpu} rss {rss}"
