"""The Profile tab: where a run's time went, from a profile's summary (core/model/profile.py).

One list, three parts: the task names that took the most time in all (count, failed, p50 / p95 /
max and how their durations spread), the agents that spent the most time blocked or waiting, and
the critical path on one line. The screen hands in the summary as plain data; rows here are
frozen copies of it, so the list's line cache can key on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from swarmscope.core.model.profile import Step
from swarmscope.core.words import NOTHING, counted
from swarmscope.tui.render import SPARKS, fit
from swarmscope.tui.widgets.line_list import LineList

TOP = 20
"""Task names, and agents, listed: a profile reads from the top; more is a scroll away from
what matters."""
TASK_COLUMNS = (("total", 6), ("count", 6), ("failed", 6), ("p50", 6), ("p95", 6), ("max", 6))
AGENT_COLUMNS = (
    ("■ blocked", 9),
    ("… waiting", 9),
    ("▶ running", 9),
    ("· idle", 7),
    ("tasks", 6),
    ("failed", 6),
)
"""Column titles and widths; the agents' time carries the status glyphs the grid shows."""
SPREAD = 10
"""Cells of a histogram: one per bin of Profile.histogram."""
ROLE = 10
NAME = (10, 32)
"""Fewest and most cells of a task's or an agent's name: wider, the figures would drift away
from the names they belong to."""


@dataclass(frozen=True, slots=True)
class Heading:
    """A part's title, over its columns' names (`part`: "title", "tasks" or "agents")."""

    part: str
    text: str


@dataclass(frozen=True, slots=True)
class TaskLine:
    """A task name: its tasks' count, failures and durations in seconds."""

    name: str
    count: int | None
    """None: not in this profile (a task followed from an earlier one stays listed)."""
    failed: int = 0
    total_s: float = 0.0
    p50_s: float = 0.0
    p95_s: float = 0.0
    max_s: float = 0.0
    histogram: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentLine:
    """An agent: seconds in each status, tasks ended and failed."""

    agent: str
    role: str
    blocked_s: float
    waiting_s: float
    running_s: float
    idle_s: float
    tasks: int
    failed: int


@dataclass(frozen=True, slots=True)
class PathLine:
    """The critical path: its tasks as `agent:task`, a task run again at once as `×n`."""

    steps: tuple[str, ...]
    took_s: float


@dataclass(frozen=True, slots=True)
class Note:
    text: str


Row = Heading | TaskLine | AgentLine | PathLine | Note


def profile_rows(
    summary: dict[str, Any] | None, scope: str, busy: bool, keep: str | None = None
) -> list[Row]:
    """The rows of a summary (None: none yet). `keep`: a task name to list even if this
    summary has none of it, so the cursor (and n / N in a replay) stay on it."""
    said = [scope, summary and counted(summary["events"], "event"), busy and "profiling…"]
    rows: list[Row] = [Heading("title", " · ".join(s for s in said if s))]
    if summary is None:
        return rows
    tasks = [_task(r) for r in summary["tasks"][:TOP]]
    if keep is not None and keep not in {t.name for t in tasks}:
        tasks.append(TaskLine(keep, None))
    rows.append(Heading("tasks", "tasks by total time"))
    rows += tasks or [Note("no task has ended here")]
    agents = [_agent(r) for r in summary["agents"][:TOP]]
    if agents:
        rows += [Heading("agents", "agents by blocked+waiting"), *agents]
    path = path_line(summary["critical_path"])
    return rows + ([path] if path else [])


def _task(row: dict[str, Any]) -> TaskLine:
    return TaskLine(
        row["name"],
        row["count"],
        row["failed"],
        row["total_s"],
        row["p50_s"],
        row["p95_s"],
        row["max_s"],
        tuple(row["histogram"]),
    )


def _agent(row: dict[str, Any]) -> AgentLine:
    return AgentLine(
        row["agent"],
        row["role"],
        row["blocked_s"],
        row["waiting_s"],
        row["running_s"],
        row["idle_s"],
        row["tasks"],
        row["failed"],
    )


def path_line(steps: list[Step]) -> PathLine | None:
    """The path's tasks in order; the messages between them show as a change of agent."""
    tasks = [s for s in steps if s.kind == "task"]
    if not tasks:
        return None
    names: list[str] = []
    runs: list[int] = []
    for step in tasks:
        name = f"{step.agent}:{step.name}"
        if names and names[-1] == name:
            runs[-1] += 1
        else:
            names.append(name)
            runs.append(1)
    shown = tuple(n if k == 1 else f"{n} ×{k}" for n, k in zip(names, runs, strict=True))
    return PathLine(shown, (tasks[-1].end - tasks[0].start) / 1e9)


def span(seconds: float) -> str:
    """A duration in at most 6 cells, to the millisecond below a second: 850ms, 2.40s, 3m05s."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    s = int(seconds)
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def spread(counts: tuple[int, ...]) -> str:
    """A histogram as bars scaled to its fullest bin; an empty bin is a blank, so a lone slow
    task stands apart from the crowd."""
    most = max(counts, default=0)
    if not most:
        return " " * len(counts)
    return "".join(SPARKS[math.ceil(n * 8 / most) - 1] if n else " " for n in counts)


def path_text(steps: tuple[str, ...], width: int) -> str:
    """The steps joined by arrows in `width` cells: the first, and as many of the last as fit
    (what set the end is at the end)."""
    whole = " → ".join(steps)
    if len(whole) <= width or len(steps) < 3:
        return whole
    tail: list[str] = []
    room = width - len(steps[0]) - len(" → … → ")
    for step in reversed(steps[1:]):
        if len(step) + 3 > room and tail:
            break
        tail.insert(0, step)
        room -= len(step) + 3
    return " → ".join([steps[0], "…", *tail])


class ProfileList(LineList):
    """The profile's rows; enter on a task posts Opened with its TaskLine (the screen filters
    the event log to it)."""

    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "profile--heading",
        "profile--title",
        "profile--bar",
        "profile--failed",
        "profile--stuck",
        "profile--path",
    }
    DEFAULT_CSS = """
    /* rows are cut to the width; the first rows' vertical scrollbar would bring a horizontal */
    ProfileList { overflow-x: hidden; }
    ProfileList > .profile--heading { color: $text-muted; text-style: bold; }
    ProfileList > .profile--title { color: $text-primary; text-style: bold; }
    ProfileList > .profile--bar { color: $accent; }
    ProfileList > .profile--failed { color: $error; }
    ProfileList > .profile--stuck { color: $warning; }
    ProfileList > .profile--path { color: $secondary; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(empty="profiling…", **kwargs)
        self._summary: dict[str, Any] | None = None
        self._scope = ""
        self._placed = False
        """Whether the cursor was put on the first task: until then it would sit on a title."""
        self._followed: str | None = None
        """The task n / N last went to: listed even when a profile has none of it."""

    def show_profile(self, summary: dict[str, Any] | None, scope: str, busy: bool = False) -> None:
        """Take a new summary (None: none yet) of `scope` (what it covers, in words)."""
        self._summary, self._scope = summary, scope
        self.set_rows(profile_rows(summary, scope, busy, keep=self._followed))
        first = next((i for i, r in enumerate(self.rows) if isinstance(r, TaskLine)), None)
        if first is not None and not self._placed:
            self._placed = True
            self.cursor = first  # a place, not a task: as tasks re-rank, the slowest stays under it

    def say_busy(self, busy: bool) -> None:
        """Say "profiling…" over the rows shown (a fold is taking its time), or stop saying it."""
        self.show_profile(self._summary, self._scope, busy)

    def follow_task(self) -> str | None:
        """The task under the cursor, kept under it from now on, whatever the next profiles rank
        first (n / N go to its starts again and again); None on another row."""
        task = self.selected_task
        if task is not None:
            self._followed = task
            self.select(("task", task))
        return task

    @property
    def selected_task(self) -> str | None:
        row = self.selected
        return row.name if isinstance(row, TaskLine) else None

    def row_key(self, row: Row) -> Any:
        if isinstance(row, TaskLine):
            return ("task", row.name)
        if isinstance(row, AgentLine):
            return ("agent", row.agent)
        return (type(row).__name__, getattr(row, "part", ""))

    # -- drawing ------------------------------------------------------------------------------

    def render_row(self, row: Row, width: int, line: int, selected: bool) -> Text:
        if isinstance(row, TaskLine):
            return self._draw_task(row, width)
        if isinstance(row, AgentLine):
            return self._draw_agent(row, width)
        if isinstance(row, Heading):
            return self._draw_heading(row, width)
        if isinstance(row, PathLine):
            return self._draw_path(row, width)
        return Text(row.text, style=self.cstyle("list--muted"))

    def _draw_heading(self, row: Heading, width: int) -> Text:
        if row.part == "title":
            return Text(row.text, style=self.cstyle("profile--title"))
        if row.part == "tasks":
            cells = [fit(row.text, _name_width(width, TASK_COLUMNS, SPREAD + 1))]
            cells += [f"{title:>{w}}" for title, w in TASK_COLUMNS] + ["durations"]
        else:
            # over the names and the roles: the roles say what they are
            cells = [fit(row.text, _name_width(width, AGENT_COLUMNS, ROLE + 1) + 1 + ROLE)]
            cells += [f"{title:>{w}}" for title, w in AGENT_COLUMNS]
        return Text(" ".join(cells), style=self.cstyle("profile--heading"))

    def _draw_task(self, row: TaskLine, width: int) -> Text:
        name = fit(row.name, _name_width(width, TASK_COLUMNS, SPREAD + 1))
        if row.count is None:
            return Text.assemble(name, " ", ("none here", self.cstyle("list--muted")))
        times = (row.p50_s, row.p95_s, row.max_s)
        return Text.assemble(
            name,
            f" {span(row.total_s):>6} {row.count:>6,} ",
            (f"{_failed(row.failed):>6}", self.cstyle("profile--failed")),
            *(f" {span(s):>6}" for s in times),
            " ",
            (spread(row.histogram), self.cstyle("profile--bar")),
        )

    def _draw_agent(self, row: AgentLine, width: int) -> Text:
        stuck = self.cstyle("profile--stuck")
        return Text.assemble(
            fit(row.agent, _name_width(width, AGENT_COLUMNS, ROLE + 1)),
            " ",
            fit(row.role, ROLE),
            (f" {_time(row.blocked_s):>9}", stuck if row.blocked_s else ""),
            (f" {_time(row.waiting_s):>9}", stuck if row.waiting_s else ""),
            f" {_time(row.running_s):>9} {_time(row.idle_s):>7} {row.tasks:>6,} ",
            (f"{_failed(row.failed):>6}", self.cstyle("profile--failed")),
        )

    def _draw_path(self, row: PathLine, width: int) -> Text:
        head = f"critical path, {span(row.took_s)}: "
        return Text.assemble(
            (head, self.cstyle("profile--heading")),
            (path_text(row.steps, width - len(head)), self.cstyle("profile--path")),
        )


def _name_width(width: int, columns: tuple[tuple[str, int], ...], extra: int) -> int:
    """What is left for the name of a row of `columns` (and `extra` cells more) in `width`."""
    low, high = NAME
    return max(low, min(high, width - sum(w + 1 for _, w in columns) - extra))


def _failed(n: int) -> str:
    """Failed tasks marked with the grid's ✖ (a shape, not only a colour); none is a blank."""
    return f"✖ {n:,}" if n else ""


def _time(seconds: float) -> str:
    return span(seconds) if seconds else NOTHING
