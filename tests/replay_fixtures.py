"""Sessions for replay UI tests: a seeded simulated run written to a real session file."""

from __future__ import annotations

from pathlib import Path

from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.replay.session import open_session
from swarmscope.core.session.writer import SessionWriter, new_header
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.screens.replay import ReplayScreen

EVENTS = simulate(SimConfig(agents=12, rate=200, seed=3), 6000)


def write_session(path: Path, events=EVENTS, name: str = "sim-3") -> Path:
    """A session file of `events`; its header is fixed too, so screens showing it are stable."""
    header = new_header(
        name=name,
        tags=["test"],
        started=events[0].ts,
        id=f"{name}-0000-session",
        host="test-host",
        pid=1,
    )
    with SessionWriter(path, header) as w:
        w.append(events)
    return path


def replay_app(path: Path, start: int | None = None, **kwargs) -> SwarmscopeApp:
    session = open_session(path)
    return SwarmscopeApp(
        name="sim-3", start=lambda: ReplayScreen(session, "sim-3", start=start), **kwargs
    )
