"""What the live and replay screens share: header, agent grid, and tasks / events / alerts below.

A subclass says where the model comes from (its `frame`); this class turns
a model at an instant into rows for the widgets (`read_model`, `show`) and
owns sorting, filtering, alerts and moving between panels.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass
from functools import cached_property

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static, TabbedContent, TabPane

from swarmscope.core.model.filters import Filter, parse_filter
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.ops.alerts import AgentAlerts, Alert, Level, RateMeter
from swarmscope.tui.rows import (
    AGENT_FIELDS,
    LINK_FIELDS,
    SORTS,
    AgentRow,
    AgentRows,
    LinkRow,
    TaskRow,
    TaskRows,
    filter_agents,
    filter_links,
    link_rows,
    swarm_eta,
)
from swarmscope.tui.screens.event import EventScreen
from swarmscope.tui.widgets.agent_grid import COMPACT_BELOW, AgentGrid
from swarmscope.tui.widgets.event_log import LOG_FIELDS, EventLog, task_filter
from swarmscope.tui.widgets.header import Header, Summary
from swarmscope.tui.widgets.keybar import KeyBar
from swarmscope.tui.widgets.lanes import LaneList, Lanes
from swarmscope.tui.widgets.line_list import LineList
from swarmscope.tui.widgets.panels import AlertList, LinkList, TaskList
from swarmscope.tui.widgets.profile import ProfileList, TaskLine

WRITE_ACTIONS = frozenset({"bookmark"})
"""Actions refused with --readonly: a screen shared on a wall must not change a session."""
MAX_ALERTS = 500
TAB_PADDING = 2
"""Cells a tab takes beside its title (Textual's Tab: one each side)."""
KEY_HINT = re.compile(r" \[\d\]")
FIXED_TITLES = {
    "tab-messages": "Messages [5]",
    "tab-inspector": "Inspector [6]",
    "tab-profile": "Profile [7]",
    "tab-lanes": "Lanes [8]",
}
"""Titles of tabs without figures, said again when the width drops their keys (or brings
them back)."""
PANELS = ("grid", "tasks", "log", "alerts", "messages")
FILTERABLE = {
    "grid": (AGENT_FIELDS, "filter agents: words, or id:… role:… status:… task:… health:…"),
    "log": (LOG_FIELDS, "filter events: words, or agent:… kind:… level:… task:…"),
    "messages": (LINK_FIELDS, "filter messages: words, or from:… to:… topic:… health:…"),
}
"""The lists `/` narrows: their filter fields, and what the filter box says. Another focused list
filters the grid."""


def no_filters() -> dict[str, Filter]:
    return {name: Filter() for name in FILTERABLE}


def allowed(node, action: str) -> bool:
    """False for a writing action when the app runs --readonly."""
    return not (getattr(node.app, "readonly", False) and action in WRITE_ACTIONS)


@dataclass
class ModelView:
    """What one frame shows of a model, read while the model is held still."""

    now: int
    rows: list[AgentRow]
    changed: list[AgentRow]
    """Rows that changed since the last frame read: what the alert rules judge."""
    health: dict[Health, int]
    tasks: list[TaskRow]
    links: list[LinkRow] | None
    """None while the Messages tab is not shown: reading the links costs ~1 ms a frame with 1,000
    agents."""
    rate: float
    rates: tuple[int, ...]
    errors: int
    gaps: int
    tasks_done: int
    """Tasks ever ended (ok or not): its rate is the swarm's throughput."""


class SwarmScreen(Screen):
    """The panels over a swarm model; subclasses feed it."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="swarm.filter"),
        Binding("escape", "clear", "Clear", show=False, id="swarm.clear"),
        Binding("s", "cycle_sort", "Sort", id="swarm.sort"),
        Binding("tab", "next_panel", "Next panel", show=False, id="swarm.next_panel"),
        Binding("1", "panel('grid')", "Agents", show=False, id="swarm.focus_grid"),
        Binding("2", "panel('tasks')", "Tasks", show=False, id="swarm.focus_tasks"),
        Binding("3", "panel('log')", "Events", show=False, id="swarm.focus_log"),
        Binding("4", "panel('alerts')", "Alerts", show=False, id="swarm.focus_alerts"),
        Binding("5", "panel('messages')", "Messages", show=False, id="swarm.focus_messages"),
        Binding("7", "panel('profile')", "Profile", show=False, id="swarm.focus_profile"),
        Binding("8", "panel('lanes')", "Lanes", show=False, id="swarm.focus_lanes"),
    ]
    DEFAULT_CSS = """
    SwarmScreen #grid {
        height: 1fr; border-top: solid $primary-darken-2; border-title-color: $text-muted;
    }
    SwarmScreen #lower { height: 40%; min-height: 6; }
    SwarmScreen TabbedContent { height: 1fr; }
    SwarmScreen TabPane { padding: 0; }
    SwarmScreen #filter { dock: bottom; display: none; }
    SwarmScreen #filter.-open { display: block; }
    """
    PANELS = (*PANELS, "profile", "lanes")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.swarm_name = name
        self.sort = "health"
        self.filters = no_filters()
        self._filter_target = "grid"
        self._pending_filter: str | None = None
        self._alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self._watch = AgentAlerts(quiet_first=True)
        self._error_rate = RateMeter()
        self._agent_rows = AgentRows()
        self._task_rows = TaskRows()
        self._throughput = RateMeter(window_s=60)
        self._labels: dict[str, str] = {}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)

    # -- composition: subclasses may add above the grid and extra tabs ------------------

    def compose_top(self) -> ComposeResult:
        yield from ()

    def compose_tabs(self) -> ComposeResult:
        yield from ()

    def compose_bottom(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        yield from self.compose_top()
        yield AgentGrid(id="grid")
        with Vertical(id="lower"):
            with TabbedContent(id="tabs", initial="tab-tasks"):
                with TabPane("Tasks [2]", id="tab-tasks"):
                    yield TaskList(id="tasks")
                with TabPane("Events [3]", id="tab-log"):
                    yield EventLog(id="log")
                with TabPane("Alerts [4]", id="tab-alerts"):
                    yield AlertList(id="alerts")
                with TabPane("Messages [5]", id="tab-messages"):
                    yield LinkList(id="messages")
                yield from self.compose_tabs()
                with TabPane("Profile [7]", id="tab-profile"):
                    yield ProfileList(id="profile")
                with TabPane("Lanes [8]", id="tab-lanes"):
                    yield Lanes()
        yield Input(
            id="filter", placeholder="filter: words, or field:value (e.g. role:coder -status:done)"
        )
        yield from self.compose_bottom()
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(AgentGrid).focus()
        self.frame()

    # -- the frame ------------------------------------------------------------------------

    def frame(self) -> None:
        """Read the model and show it; each subclass knows where its model is."""
        raise NotImplementedError

    def shown_tab(self) -> str:
        return self.query_one(TabbedContent).active

    @on(LineList.Opened, "#log")
    def _open_event(self, event: LineList.Opened) -> None:
        self.app.push_screen(EventScreen(event.row.event))

    @on(LineList.Opened, "#profile")
    def _filter_to_task(self, event: LineList.Opened) -> None:
        """Enter on a task of the profile: the event log shows where tasks of that name start."""
        if isinstance(event.row, TaskLine):
            self.filters["log"] = task_filter(event.row.name)
            self.filters_changed()
            self.action_panel("log")
            self.frame()

    @on(LaneList.Zoomed)
    def _zoomed(self) -> None:
        self.frame()

    @property
    def lanes_span(self) -> int:
        """The Lanes tab's window, in ns (its + and - change it)."""
        return self.query_one(LaneList).span

    @on(TabbedContent.TabActivated)
    def _tab_shown(self) -> None:
        """Panels filled only while shown (messages, the profile, the replay's inspector) are drawn
        as they come into view."""
        if self.is_mounted:
            self.frame()

    def read_model(self, model: SwarmModel, now: int) -> ModelView:
        """Rows and figures of `model` at `now`. Call while the model is held still."""
        rows = self._agent_rows(model, now, self.sort)
        return ModelView(
            now,
            rows,
            self._agent_rows.changed,
            dict(self._agent_rows.health),
            self._task_rows(model, now),
            link_rows(model, now) if self.shown_tab() == "tab-messages" else None,
            model.events_per_second(now),
            tuple(model.rate_series(now, 20)),
            model.errors,
            model.gaps,
            model.by_kind.get("task_end", 0),
        )

    def show(
        self,
        view: ModelView,
        *,
        mode: str,
        status: str = "live",
        refused: dict[str, int] | None = None,
        recording: bool | None = None,
        position: str = "",
        alerts: bool = True,
        unlisted: int = 0,
    ) -> None:
        """Hand a frame's rows to the widgets (`unlisted`: see header.Summary)."""
        if alerts:
            seen = ((r.id, r.role, r.status, r.health, r.errors, r.error) for r in view.changed)
            self._raise_alerts(self._watch.update(seen, view.now))
        grid = self.query_one(AgentGrid)
        grid.set_rows(filter_agents(view.rows, self.filters["grid"]), view.now)
        flt = self.filters["grid"]
        grid.border_title = f"agents [1] · sorted by {self.sort}" + (
            f" · filter: {flt.text}" if flt else ""
        )
        self.query_one(TaskList).set_rows(view.tasks)
        self.query_one(AlertList).set_rows(list(self._alerts))
        if view.links is not None:
            self.query_one(LinkList).set_rows(filter_links(view.links, self.filters["messages"]))
        self._label_tabs(view)
        self.query_one(Header).show(
            Summary(
                name=self.swarm_name,
                mode=mode,
                status=status,
                health=view.health,
                rate=view.rate,
                rates=view.rates,
                errors=view.errors,
                error_rate=self._error_rate.update(view.now, view.errors),
                gaps=view.gaps,
                refused=sum((refused or {}).values()),
                refused_why=max(refused, key=refused.get) if refused else "",
                recording=recording,
                clock=time.strftime("%H:%M:%S", time.gmtime(view.now / 1e9)),
                eta_s=swarm_eta(view.tasks),
                agents=len(view.rows),
                position=position,
                unlisted=unlisted,
            )
        )
        self.app.collect_after_paint()

    def _label_tabs(self, view: ModelView) -> None:
        """Tab titles carry the panels' figures: tasks in flight, failed and per minute; new events
        below. Where the titles would not all fit, the tasks' title says its figures in glyphs,
        and then every title leaves its key out (`[3]`: help and the footer say them), so every
        tab stays in sight down to 60 columns."""
        pending = self.query_one(EventLog).pending
        labels = dict(self._fixed_titles)
        labels["tab-log"] = f"Events [3] · {pending:,} new ↓" if pending else "Events [3]"
        labels["tab-alerts"] = f"Alerts [4] {len(self._alerts)}" if self._alerts else "Alerts [4]"
        words, glyphs = self._tasks_label(view)
        labels["tab-tasks"] = words
        if not self._tabs_fit(labels):
            labels["tab-tasks"] = glyphs
        keys = self._tabs_fit(labels)
        for pane, label in labels.items():
            self._set_label(pane, label if keys else KEY_HINT.sub("", label))

    @cached_property
    def _fixed_titles(self) -> dict[str, str]:
        """The titles of this screen's tabs without figures (its panes are composed once; finding
        them by a query each frame took 1 ms)."""
        return {p.id: FIXED_TITLES[p.id] for p in self.query(TabPane) if p.id in FIXED_TITLES}

    def _tabs_fit(self, labels: dict[str, str]) -> bool:
        return sum(cell_len(label) + TAB_PADDING for label in labels.values()) <= self.size.width

    @property
    def compact(self) -> bool:
        """Narrower than 100 columns (80x24 over SSH): labels say it in figures and glyphs."""
        return self.size.width < COMPACT_BELOW

    def _tasks_label(self, view: ModelView) -> tuple[str, str]:
        """In words, with tasks finished per minute; and in the grid's glyphs (▶ running,
        ✖ failed), where the words would not let every tab fit. Failed ones are said only when
        there are some. Widths stay steady (see _set_label)."""
        running = sum(1 for t in view.tasks if t.result is None)
        failed = len(view.tasks) - running
        per_min = self._throughput.update(view.now, view.tasks_done) * 60
        words = f"Tasks [2] {running:>2} running · {per_min:>3.0f}/min" + (
            f" · {failed:>2} failed" if failed else ""
        )
        return words, f"Tasks [2] ▶ {running:>2}" + (f" ✖ {failed:>2}" if failed else "")

    def _set_label(self, pane: str, label: str) -> None:
        """Retitle a tab. A title of the same width is repainted in place: setting `label`
        lays the whole screen out again (see LineList._relayout), and these
        figures change on most frames and every replay key.

        In place means Static's public `update(..., layout=False)`, past Tab.update (which always
        lays out): the tab shows the new title, and its `label` keeps the last title of another
        width. What a tab shows is its `render()`."""
        old = self._labels.get(pane)
        if old == label:
            return
        self._labels[pane] = label
        tab = self.query_one(TabbedContent).get_tab(pane)
        if old is not None and cell_len(old) == cell_len(label):
            Static.update(tab, Content(label), layout=False)
        else:
            tab.label = label

    def _raise_alerts(self, alerts: list[Alert]) -> None:
        """Every alert goes to the Alerts tab (and the header counts the agents by health); only
        a failed agent, which needs a person, pops up a toast, and one toast says them all."""
        for alert in alerts:
            self._alerts.appendleft(alert)
        failed = [a for a in alerts if a.level is Level.FAILED]
        if not failed or not getattr(self.app, "alert_toasts", True):
            return
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        self.notify(f"{failed[0].agent} is FAILED{more}", severity="error", timeout=4)

    # -- actions ----------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.frame()

    def action_panel(self, panel: str) -> None:
        if panel != "grid":
            self.query_one(TabbedContent).active = f"tab-{panel}"
        # at once, not after a refresh: a `/` typed next filters it
        self.set_focus(self.query_one(f"#{panel}"))

    def action_next_panel(self) -> None:
        focused = self.focused.id if self.focused else "grid"
        current = focused if focused in self.PANELS else "grid"
        self.action_panel(self.PANELS[(self.PANELS.index(current) + 1) % len(self.PANELS)])

    def action_filter(self) -> None:
        focused = self.focused.id if self.focused else None
        self._filter_target = focused if focused in FILTERABLE else "grid"
        box = self.query_one("#filter", Input)
        box.placeholder = FILTERABLE[self._filter_target][1]
        box.value = self.filters[self._filter_target].text
        box.add_class("-open")
        box.focus()

    def action_clear(self) -> None:
        """Escape: close the filter box if open, else clear the filters."""
        self.clear_something()

    def clear_something(self) -> bool:
        """Close the filter box, or else clear the filters; False when there was nothing to do."""
        box = self.query_one("#filter", Input)
        if box.has_class("-open"):
            box.remove_class("-open")
            self.query_one(f"#{self._filter_target}", LineList).focus()
            return True
        if not any(self.filters.values()):
            return False
        self.filters = no_filters()
        self.filters_changed()
        self.frame()
        return True

    def filters_changed(self) -> None:
        """The log filter changed: a subclass rebuilds its log."""

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        """Typing fast sends a change per key; only the text as it stands is applied, once."""
        first = self._pending_filter is None
        self._pending_filter = event.value
        if first:
            self.call_later(self._apply_filter)

    def _apply_filter(self) -> None:
        text, self._pending_filter = self._pending_filter, None
        if text is None:
            return
        self.filters[self._filter_target] = parse_filter(text, FILTERABLE[self._filter_target][0])
        if self._filter_target == "log":
            self.filters_changed()
        self.frame()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#filter", Input).remove_class("-open")
        self.query_one(f"#{self._filter_target}", LineList).focus()
