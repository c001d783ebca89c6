"""Deterministic apps for UI tests: a seeded swarm seen at a fixed instant."""

from __future__ import annotations

from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.live.source import FrozenSource
from swarmscope.tui.app import SwarmscopeApp

EVENTS = simulate(SimConfig(agents=24, rate=300, seed=7), 8000)


def frozen_app(theme: str = "dark", events=EVENTS, **kwargs) -> SwarmscopeApp:
    return SwarmscopeApp(FrozenSource(events), name="demo · seed 7", theme=theme, **kwargs)
