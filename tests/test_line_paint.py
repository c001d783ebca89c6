"""A list repaints only the screen lines whose rows changed: what it shows must be what a full
repaint shows, frame after frame (line_list.py, agent_grid.py)."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from replay_fixtures import replay_app, write_session
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from swarmscope.core.model.health import Health
from swarmscope.tui.rows import AgentRow
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.event_log import EventLog
from swarmscope.tui.widgets.line_list import _rich_strip, text_strip

SEC = 1_000_000_000
STATUSES = ("running", "waiting", "blocked", "failed", "done", "idle")


class GridApp(App):
    def compose(self) -> ComposeResult:
        yield AgentGrid(id="grid")


def screen_text(app: App) -> str:
    """The screen as the compositor holds it (its widgets' cached lines included), with styles."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=True)


def agent(i: int, rng: random.Random) -> AgentRow:
    return AgentRow(
        id=f"agent-{i:02d}",
        role=rng.choice(("coder", "reviewer", "planner")),
        status=rng.choice(STATUSES),
        task=f"t-{rng.randrange(5)}",
        progress=rng.choice((None, rng.random())),
        health=rng.choice(list(Health)),
        error=rng.choice(("", "boom")),
        cpu=rng.choice((None, 12.5)),
        rss=rng.choice((None, 2**20)),
        events=rng.randrange(100),
        gaps=rng.randrange(3),
        last_seen=rng.randrange(10) * SEC,
        errors=0,
        failed=rng.random() < 0.2,
    )


def changed(row: AgentRow, rng: random.Random) -> AgentRow:
    """One field moved, as one event moves it."""
    field, value = rng.choice(
        (
            ("progress", rng.random()),
            ("status", rng.choice(STATUSES)),
            ("task", f"t-{rng.randrange(9)}"),
            ("last_seen", rng.randrange(10) * SEC),
            ("cpu", rng.choice((None, 50.0))),
            ("error", rng.choice(("", "timeout"))),
            ("health", rng.choice(list(Health))),
            ("failed", not row.failed),
        )
    )
    return replace(row, **{field: value})


def twelve(seed: int) -> list[AgentRow]:
    rng = random.Random(seed)
    return [agent(i, rng) for i in range(12)]


@asynccontextmanager
async def cards(rows: list[AgentRow]) -> AsyncIterator[tuple[App, Pilot, AgentGrid]]:
    """`rows` as cards at 120x30, focused and painted once."""
    app = GridApp()
    async with app.run_test(size=(120, 30)) as pilot:
        grid = app.query_one(AgentGrid)
        grid.set_rows(rows, now=5 * SEC)
        grid.focus()
        await pilot.pause()
        yield app, pilot, grid


def counting_renders(grid: AgentGrid) -> list[tuple[str, int]]:
    """The (agent, line) of every line the grid renders from now on."""
    drawn: list[tuple[str, int]] = []
    render_row = grid.render_row

    def counted(row: AgentRow, width: int, line: int, selected: bool):
        drawn.append((row.id, line))
        return render_row(row, width, line, selected)

    grid.render_row = counted
    return drawn


async def test_lines_repainted_one_by_one_show_what_a_full_repaint_shows():
    rng = random.Random(5)
    for size in ((120, 30), (80, 24)):  # cards, then a line per agent
        rows = [agent(i, rng) for i in range(40)]
        app = GridApp()
        async with app.run_test(size=size) as pilot:
            grid = app.query_one(AgentGrid)
            for frame in range(30):
                rows = [changed(r, rng) if rng.random() < 0.15 else r for r in rows]
                if frame % 9 == 4:
                    rng.shuffle(rows)
                if frame % 11 == 6:
                    rows.pop(rng.randrange(len(rows)))
                grid.set_rows(list(rows), now=(5 + frame % 4) * SEC)
                if frame % 7 == 5:
                    grid.action_move(rng.choice((1, -1, 3)))
                await pilot.pause()
                shown = screen_text(app)
                grid.clear_cache()  # every line drawn again
                await pilot.pause()
                assert shown == screen_text(app), (size, frame)


async def test_a_progress_that_moved_repaints_one_line_of_one_card():
    rows = twelve(seed=2)
    async with cards(rows) as (app, pilot, grid):
        drawn = counting_renders(grid)
        rows[4] = replace(rows[4], progress=0.123)
        grid.set_rows(list(rows), now=5 * SEC)
        await pilot.pause()
        assert drawn == [(rows[4].id, 1)]
        assert "12%" in screen_text(app)


PARTS = st.tuples(
    st.text(alphabet="ab ✖♥█界🙂", max_size=8),
    st.sampled_from([None, "bold", "red on blue", Style(italic=True), Style.null()]),
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(PARTS, max_size=6),
    base=st.sampled_from(["", "dim", Style(color="green")]),
    over=st.one_of(st.none(), st.tuples(st.integers(0, 9), st.integers(0, 12))),
    width=st.integers(1, 30),
)
def test_a_line_cut_into_segments_here_is_what_rich_renders(parts, base, over, width):
    """text_strip's own cut (spans that follow one another) against Rich's renderer, with
    wide glyphs cut at the width, a base style, and a span laid over others (Rich's path)."""
    console = Console(width=80, file=io.StringIO(), color_system="truecolor")
    text = Text.assemble(*((t, s) if s is not None else t for t, s in parts), style=base)
    if over is not None:
        text.stylize("underline", *over)
    again = text.copy()
    ours = text_strip(text, width, console)
    again.truncate(width, overflow="ellipsis", pad=True)
    assert list(ours) == list(_rich_strip(again, width, console))
    assert ours.cell_length == width


async def test_a_list_fed_in_a_hidden_tab_shows_its_new_rows_when_the_tab_comes_up(tmp_path):
    """A hidden list is not repainted as it is fed (see _repaint_changed), yet the first paint of
    its tab shows the rows it holds then, as a full repaint does."""
    app = replay_app(write_session(tmp_path / "s.swarm"), start=100)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        await pilot.press("3")  # the events tab: drawn at event 101
        await pilot.pause()
        await pilot.press("2")  # the tasks tab; the event list is hidden
        await pilot.pause()
        screen.cursor.seek(3000)
        screen.frame()  # the hidden list is fed the events around 3001
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        shown = screen_text(app)
        assert f"{screen.cursor.event.agent}" in shown
        screen.query_one(EventLog).clear_cache()
        await pilot.pause()
        assert shown == screen_text(app)


async def test_a_cursor_moved_within_view_repaints_the_two_rows_it_left_and_reached():
    rows = twelve(seed=3)
    async with cards(rows) as (app, pilot, grid):
        drawn = counting_renders(grid)
        await pilot.press("right")
        await pilot.pause()
        assert sorted(drawn) == [(rows[k].id, line) for k in (0, 1) for line in range(3)]
        shown = screen_text(app)
        grid.clear_cache()
        await pilot.pause()
        assert shown == screen_text(app)
