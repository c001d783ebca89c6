"""Deterministic apps for UI tests: a seeded swarm seen at a fixed instant."""

from __future__ import annotations

from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.live.source import FrozenSource
from swarmscope.tui.app import SwarmscopeApp

EVENTS = simulate(SimConfig(agents=24, rate=300, seed=7), 8000)


def frozen_app(theme: str = "dark", events=EVENTS, **kwargs) -> SwarmscopeApp:
    return SwarmscopeApp(FrozenSource(events), name="demo · seed 7", theme=theme, **kwargs)


def size_id(size: tuple[int, int]) -> str:
    """A snapshot's id names the terminal it was taken in, from the size itself: 80x24, 120x35."""
    width, height = size
    return f"{width}x{height}"
