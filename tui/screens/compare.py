"""Compare mode: two sessions side by side on one timeline, from their first divergence."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from swarmscope.core.errors import SessionError
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.compare import compare, divergence_text
from swarmscope.core.replay.session import Session
from swarmscope.core.words import NOTHING, plain
from swarmscope.tui.rows import AgentRows
from swarmscope.tui.screens.scrubbing import damage_note, steady, step_bindings
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.keybar import KeyBar
from swarmscope.tui.widgets.line_list import LineList

AGENT_FIELDS = ("status", "tasks_ok", "tasks_failed", "errors", "restarts", "gaps")


def agent_differences(a: SwarmModel, b: SwarmModel) -> list[tuple[str, str, object, object]]:
    """(agent, field, in A, in B) for every compared field that differs, agents in both."""
    out = []
    for agent in sorted(a.agents.keys() & b.agents.keys()):
        va, vb = a.agents[agent], b.agents[agent]
        out += [
            (agent, f, getattr(va, f), getattr(vb, f))
            for f in AGENT_FIELDS
            if getattr(va, f) != getattr(vb, f)
        ]
    return out


class CompareScreen(Screen):
    """A moves event by event; B follows to the same offset from its own start."""

    BINDINGS = [
        *step_bindings("compare"),
        Binding("v", "divergence", "Divergence", id="compare.divergence"),
    ]
    DEFAULT_CSS = """
    CompareScreen #report { height: auto; max-height: 40%; padding: 0 1; background: $panel; }
    CompareScreen .side { width: 1fr; border: round $primary-darken-2; }
    CompareScreen .where { height: 1; padding: 0 1; }
    """

    def __init__(self, a: Session, b: Session, report: dict | None = None) -> None:
        """`report`: compare(a, b), when the caller has it already."""
        super().__init__()
        self.a, self.b = a, b
        self.cur_a, self.cur_b = a.cursor(0), b.cursor(0)
        self.report = report or compare(a, b)
        self._rows = (AgentRows(), AgentRows())

    def compose(self) -> ComposeResult:
        yield Static(self._report_text(), id="report")
        with Horizontal():
            for side, session in (("a", self.a), ("b", self.b)):
                with Vertical(classes="side") as box:
                    box.border_title = (
                        f"{side.upper()}: {session.meta.get('name')} ({session.id[:8]})"
                    )
                    yield Static(id=f"where-{side}", classes="where")
                    grid = AgentGrid(id=f"grid-{side}")
                    grid.yielded_actions = frozenset({"step", "jump"})
                    yield grid
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_divergence()
        self.query_one("#grid-a", LineList).focus()

    def _report_text(self) -> Text:
        r = self.report
        text = Text.assemble(("swarmscope ", "bold"), (" COMPARE ", "reverse bold"), "\n")
        d = r["divergence"]
        if d:
            text.append(
                f"{divergence_text(d, ('A', 'B'), numbers=False)}  (v jumps there)\n", style="bold"
            )
        else:
            text.append(
                "no divergence: every agent did the same things in the same order\n", style="bold"
            )
        for field, (va, vb) in list(r["meta"].items())[:6]:
            text.append(f"  {field}: A {plain(va, counts=True)} · B {plain(vb, counts=True)}\n")
        if r["only_in_a"] or r["only_in_b"]:
            text.append(
                f"  only in A: {', '.join(r['only_in_a']) or NOTHING} "
                f"· only in B: {', '.join(r['only_in_b']) or NOTHING}\n"
            )
        diffs = (
            agent_differences(self.a.state_at(len(self.a) - 1), self.b.state_at(len(self.b) - 1))
            if len(self.a) and len(self.b)
            else []
        )
        for agent, field, va, vb in diffs[:8]:
            text.append(
                f"  {agent}.{field}: A {plain(va, counts=True)} · B {plain(vb, counts=True)}\n"
            )
        if len(diffs) > 8:
            text.append(f"  … and {len(diffs) - 8} more agent differences\n")
        return text

    def met_damage(self, exc: SessionError) -> None:
        self.notify(damage_note(exc, self.cur_a.pos), severity="error", timeout=8)
        self._draw()

    def _draw(self) -> None:
        for side, cur, rows in (("a", self.cur_a, self._rows[0]), ("b", self.cur_b, self._rows[1])):
            self.query_one(f"#grid-{side}", AgentGrid).set_rows(
                rows(cur.model, cur.clock, "id"), cur.clock
            )
            offset = (cur.clock - cur.session[0].ts) / 1e9 if len(cur.session) else 0
            self.query_one(f"#where-{side}", Static).update(
                f"event {cur.pos + 1:,} of {len(cur.session):,} · +{offset:.3f}s from its start"
            )

    def _align_b(self) -> None:
        """B to the same offset from its start as A."""
        if len(self.a) and len(self.b):
            self.cur_b.seek_time(self.b[0].ts + (self.cur_a.clock - self.a[0].ts))

    @steady
    def action_step(self, n: int) -> None:
        self.cur_a.step(n)
        self._align_b()
        self._draw()

    @steady
    def action_seek(self, i: int) -> None:
        self.cur_a.seek(i if i >= 0 else len(self.a) - 1)
        self._align_b()
        self._draw()

    @steady
    def action_divergence(self) -> None:
        d = self.report["divergence"]
        if d and d["index_a"] is not None:
            self.cur_a.seek(d["index_a"])
            if d["index_b"] is not None:
                self.cur_b.seek(d["index_b"])
            else:
                self._align_b()
        self._draw()
        if d:  # put both grids' cursors on the agent that diverged
            for side in ("a", "b"):
                grid = self.query_one(f"#grid-{side}", AgentGrid)
                grid.cursor = next((k for k, r in enumerate(grid.rows) if r.id == d["agent"]), 0)
