"""How replay looks: the screen, the inspector with a pinned diff, compare, and the browser."""

import shutil
from pathlib import Path

import pytest
from replay_fixtures import EVENTS, replay_app, write_session

from swarmscope.core.replay.session import open_session
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.screens.browser import BrowserScreen
from swarmscope.tui.screens.compare import CompareScreen
from swarmscope.tui.widgets.agent_grid import AgentGrid

SIZES = [(80, 24), (120, 35)]
FIXED_DIR = Path("/tmp/swarmscope-snapshot-sessions")
"""A fixed place, because the browser shows where it looks."""


@pytest.fixture(scope="module")
def sessions() -> Path:
    shutil.rmtree(FIXED_DIR, ignore_errors=True)
    FIXED_DIR.mkdir(parents=True)
    write_session(FIXED_DIR / "sim-3.swarm")
    planted = 2500
    changed = EVENTS[planted]._replace(data={**EVENTS[planted].data, "planted": True})
    write_session(
        FIXED_DIR / "sim-3b.swarm",
        EVENTS[:planted] + [changed] + EVENTS[planted + 1 :],
        name="sim-3b",
    )
    return FIXED_DIR


@pytest.mark.parametrize("size", SIZES)
def test_replay(snap_compare, sessions, size):
    assert snap_compare(replay_app(sessions / "sim-3.swarm", start=2000), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_inspector_with_a_pinned_diff(snap_compare, sessions, size):
    async def choose_coder(pilot) -> None:
        pilot.app.screen.query_one(AgentGrid).select("coder-02")

    assert snap_compare(
        replay_app(sessions / "sim-3.swarm", start=2000),
        terminal_size=size,
        run_before=choose_coder,
        press=["s", "s", "d", "shift+right", "shift+right"],
    )


@pytest.mark.parametrize("size", SIZES)
def test_compare(snap_compare, sessions, size):
    app = SwarmscopeApp(
        start=lambda: CompareScreen(
            open_session(sessions / "sim-3.swarm"), open_session(sessions / "sim-3b.swarm")
        )
    )
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_browser(snap_compare, sessions, size):
    assert snap_compare(SwarmscopeApp(start=lambda: BrowserScreen(sessions)), terminal_size=size)
