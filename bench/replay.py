"""`swarmscope bench --only replay`: from a key to the screen updated, anywhere in a 1,000,000-event
session.

The real replay screen runs headless over the session the sessions bench
caches. Each sample starts at a random position: a step forward, a step
back, a jump to the next error, and a drag of the timeline to a random
instant. The floor is what any seek does at least, one keyframe restore and one block decode,
measured in the same run (goal: a key within 8x of it at p95); beside it, the same screen
redrawn where it stands (the UI's own cost with no seek).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.message import Message

from swarmscope.bench.report import at_most, figure
from swarmscope.bench.sessions import cached_session, profile_against_decode, seek_floor
from swarmscope.bench.ui import painted, percentile
from swarmscope.core.replay.session import open_session
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.screens.replay import ReplayScreen
from swarmscope.tui.widgets.timeline import Timeline


async def _until_moved(screen: ReplayScreen, before: tuple, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while screen._drawn == before and time.monotonic() < deadline:
        await asyncio.sleep(0.0005)
    await painted(screen)


async def _sample(
    app: SwarmscopeApp, screen: ReplayScreen, message: Callable[[], Message]
) -> float:
    before = screen._drawn
    t0 = time.perf_counter()
    target = screen.query_one(Timeline) if not isinstance(message(), events.Key) else app
    target.post_message(message())
    await _until_moved(screen, before)
    return time.perf_counter() - t0


async def _measure(path, n: int, samples: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    session = open_session(path)
    first, last = session[0].ts, session[n - 1].ts
    app = SwarmscopeApp(name="bench", start=lambda: ReplayScreen(session, "bench", start=n // 2))
    out: dict[str, list[float]] = {
        "floor": [],
        "step": [],
        "step back": [],
        "next error": [],
        "drag": [],
    }
    kinds: dict[str, Callable[[], Message]] = {
        "step": lambda: events.Key("right", None),
        "step back": lambda: events.Key("left", None),
        "next error": lambda: events.Key("e", "e"),
        "drag": lambda: Timeline.Seek(ts=rng.randrange(first, last)),
    }
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        await pilot.pause()
        for _ in range(samples):
            screen.cursor.seek(rng.randrange(1, n - 1))
            screen.frame()
            t0 = time.perf_counter()
            screen._drawn = None
            screen.frame()
            out["floor"].append(time.perf_counter() - t0)
            for name, message in kinds.items():
                screen.cursor.seek(rng.randrange(1, n - 1))
                screen.frame()
                await pilot.pause()
                out[name].append(await _sample(app, screen, message))
    session.close()
    return out


def bench_replay(quick: bool = False, report: Callable | None = print) -> dict[str, Any]:
    n = 200_000 if quick else 1_000_000
    samples = 15 if quick else 40
    if report:
        report(
            f"replay UI: key to screen updated, random places in a {n:,}-event session "
            f"({samples} each)"
        )
    path = cached_session(n, report)
    profiled = profile_against_decode(path, n, report)
    return {"events": n, **profiled, **jump_figures(path, n, samples, report)}


def jump_figures(path: Path, n: int, samples: int, report: Callable | None) -> dict[str, Any]:
    """Step, step back, next error and drag in the replay screen over `path`, each against the
    seek floor (issue 19: p95 within 8x), beside the screen redrawn where it stands.

    The floor is the lower of one measured before the replay and one after: a floor that came out
    high would flatter every ratio (docs/benchmarks.md#scale)."""
    before = sum(seek_floor(path)) * 1e3
    m = asyncio.run(_measure(path, n, samples))
    redraw = percentile(m["floor"], 50) * 1e3
    seek = min(before, sum(seek_floor(path)) * 1e3)
    out: dict[str, Any] = {"floor_ms": redraw, "seek_floor_ms": seek}
    figure(report, "redraw in place, no seek (p50)", redraw, "ms")
    figure(report, "floor: one keyframe restore + one block decode", seek, "ms")
    for name in ("step", "step back", "next error", "drag"):
        p50, p95 = percentile(m[name], 50) * 1e3, percentile(m[name], 95) * 1e3
        out[f"{name.replace(' ', '_')}_p50_ms"], out[f"{name.replace(' ', '_')}_p95_ms"] = p50, p95
        figure(report, f"{name}: p50", p50, "ms", seek)
        figure(report, f"{name}: p95", p95, "ms", seek, at_most(8, "x"))
    return out
