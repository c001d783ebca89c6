"""How replay looks: the screen, the inspector with a pinned diff, compare, and the browser.

Each id says the terminal size the snapshot is taken in (size_id): test_replay[80x24]."""

from pathlib import Path

import pytest
from replay_fixtures import EVENTS, replay_app, write_session
from tui_fixtures import size_id

from swarmscope.core.replay.session import open_session
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.screens.browser import BrowserScreen
from swarmscope.tui.screens.compare import CompareScreen
from swarmscope.tui.widgets.agent_grid import AgentGrid

SIZES = [(80, 24), (120, 35)]


def write_sessions(directory: Path) -> Path:
    """sim-3, and sim-3b: the same run with one event changed (what compare finds)."""
    write_session(directory / "sim-3.swarm")
    planted = 2500
    changed = EVENTS[planted]._replace(data={**EVENTS[planted].data, "planted": True})
    write_session(
        directory / "sim-3b.swarm",
        EVENTS[:planted] + [changed] + EVENTS[planted + 1 :],
        name="sim-3b",
    )
    return directory


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sessions(tmp_path_factory.mktemp("snapshot-sessions"))


@pytest.fixture(scope="module")
def browsed_sessions(tmp_path_factory) -> Path:
    """A folder named `sessions`, for the browser's title (which shows the folder): tests browse it
    from its parent as a relative path, so the title is the same in every run."""
    directory = tmp_path_factory.mktemp("browsed") / "sessions"
    directory.mkdir()
    return write_sessions(directory)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_replay(snap_compare, sessions, size):
    assert snap_compare(replay_app(sessions / "sim-3.swarm", start=2000), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_inspector_with_a_pinned_diff(snap_compare, sessions, size):
    async def pin_and_move(pilot) -> None:
        pilot.app.screen.query_one(AgentGrid).select("coder-02")
        await pilot.press("s", "s", "d", "shift+right", "shift+right")
        await pilot.pause()
        # the pin's toast lasts seconds: whether it is still up would be the machine's speed
        pilot.app.clear_notifications()

    assert snap_compare(
        replay_app(sessions / "sim-3.swarm", start=2000),
        terminal_size=size,
        run_before=pin_and_move,
    )


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_compare(snap_compare, sessions, size):
    app = SwarmscopeApp(
        start=lambda: CompareScreen(
            open_session(sessions / "sim-3.swarm"), open_session(sessions / "sim-3b.swarm")
        )
    )
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_browser(snap_compare, browsed_sessions, size, monkeypatch):
    monkeypatch.chdir(browsed_sessions.parent)
    assert snap_compare(
        SwarmscopeApp(start=lambda: BrowserScreen(Path(browsed_sessions.name))), terminal_size=size
    )
