"""`swarmscope bench --only ui`: the live view under 1,000 agents at 100,000 events/s.

A feeder process replays a seeded simulated swarm over a real socket at the
target rate; this process runs the real app headless on the ProcessSource the
live commands use (the model folded in a child process). The
floor is the same frame drawn with the same 1,000 agents while no events
arrive, measured in the same run.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import msgpack
import zmq
from textual import events
from textual.screen import Screen

from swarmscope.bench.report import at_most, figure
from swarmscope.core.live.process import ProcessSource
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.sdk.resources import ResourceSampler
from swarmscope.core.wire.format import TOPIC_EVENTS, WIRE_VERSION
from swarmscope.tui.app import SwarmscopeApp

BATCH = 500


def _feeder(endpoint: str, agents: int, rate: int, seconds: float) -> None:
    """Simulate, then publish at `rate` events/s, paced against the wall clock."""
    events = simulate(SimConfig(agents=agents, rate=rate, seed=1), int(rate * seconds))
    batches = [
        msgpack.packb([WIRE_VERSION, events[i : i + BATCH]]) for i in range(0, len(events), BATCH)
    ]
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.bind(endpoint)
    sock.recv()  # the viewer subscribed
    t0 = time.monotonic()
    for n, payload in enumerate(batches):
        due = t0 + n * BATCH / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.send_multipart([TOPIC_EVENTS, payload])
    sock.close(linger=5000)


def _middle(values: list[float]) -> float:
    return values[len(values) // 2]


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values or [0.0])[0]
    )


async def painted(screen: Screen) -> None:
    """Until the screen has been repainted: Textual runs after-refresh callbacks once its
    compositor has drawn the dirty widgets (or at once, when nothing needed drawing)."""
    done = asyncio.Event()
    screen.call_after_refresh(done.set)
    await done.wait()


class _Probe:
    """Times every frame the app draws."""

    def __init__(self, app: SwarmscopeApp) -> None:
        self.durations: list[float] = []
        self.gaps: list[float] = []
        self._last: float | None = None
        inner = app.screen.frame

        def timed() -> None:
            t0 = time.perf_counter()
            if self._last is not None:
                self.gaps.append(t0 - self._last)
            self._last = t0
            inner()
            self.durations.append(time.perf_counter() - t0)

        app.screen.frame = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.durations.clear()
        self.gaps.clear()
        self._last = None


async def measure(source: ProcessSource, seconds: float, feeder: Any, panel: str) -> dict[str, Any]:
    app = SwarmscopeApp(source, refresh=0.1)
    sampler = ResourceSampler()
    async with app.run_test(size=(120, 35)):
        probe = _Probe(app)
        app.screen.action_panel(panel)
        while not source.model.agents and feeder.is_alive():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # warm-up: the first agents, the first frames
        probe.reset()
        rss_start, t_start, events_start = (
            sampler.sample()["rss"],
            time.monotonic(),
            source.model.events,
        )
        keys, rss = [], []
        while feeder.is_alive() and time.monotonic() - t_start < seconds:
            keys.append(await _key_latency(app))
            rss.append(sampler.sample()["rss"])
            await asyncio.sleep(0.25)
        loaded = (list(probe.durations), list(probe.gaps))
        delivered = (source.model.events - events_start) / (time.monotonic() - t_start)
        feeder.join(60)
        await asyncio.sleep(0.3)
        probe.reset()
        await asyncio.sleep(2.0)  # idle: the same agents, no events
        idle = list(probe.durations)
        idle_keys = [await _key_latency(app) for _ in range(8)]
        agents = len(source.model.agents)
    return {
        "loaded": loaded,
        "idle": idle,
        "keys": keys,
        "idle_keys": idle_keys,
        "rss_start": rss_start,
        "rss": rss,
        "delivered": delivered,
        "agents": agents,
    }


async def _key_latency(app: SwarmscopeApp) -> float:
    """Post `s` as the terminal would and wait until the screen has re-sorted and repainted.

    (Pilot.press waits for the app to go idle, which a busy live view never
    does, so the key is posted directly.)"""
    screen = app.screen
    before = screen.sort
    t0 = time.perf_counter()
    app.post_message(events.Key("s", "s"))
    while screen.sort == before:
        await asyncio.sleep(0.001)
    await painted(screen)
    return time.perf_counter() - t0


def _run(agents: int, rate: int, seconds: float, panel: str) -> dict[str, Any]:
    """One run: a feeder at `rate`, the app on a ProcessSource with `panel` focused."""
    endpoint = f"ipc://{tempfile.mkdtemp(prefix='ssbench')}/feed"
    feeder = mp.get_context("spawn").Process(
        target=_feeder, args=(endpoint, agents, rate, seconds + 1.5)
    )
    feeder.start()
    source = ProcessSource(endpoint).start()
    try:
        return asyncio.run(measure(source, seconds, feeder, panel))
    finally:
        source.stop()
        feeder.kill()


def bench_ui(quick: bool = False, report: Callable | None = print) -> dict[str, Any]:
    agents, rate = 1000, 100_000
    seconds = 3.0 if quick else 8.0
    if report:
        report(
            f"live UI: {agents:,} agents at {rate:,} events/s for {seconds:g} s "
            "(headless app, 120x35), then again on the Lanes tab"
        )
    m = _run(agents, rate, seconds, "grid")
    lanes = _run(agents, rate, seconds, "lanes")
    (durations, gaps), idle = m["loaded"], m["idle"]
    out = {
        "agents": m["agents"],
        "events_per_s": m["delivered"],
        "frame_p50_ms": percentile(durations, 50) * 1e3,
        "frame_p95_ms": percentile(durations, 95) * 1e3,
        "idle_frame_p50_ms": percentile(idle, 50) * 1e3,
        "frame_interval_p95_ms": percentile(gaps, 95) * 1e3,
        "key_p50_ms": percentile(m["keys"], 50) * 1e3,
        "key_p95_ms": percentile(m["keys"], 95) * 1e3,
        "idle_key_p50_ms": percentile(m["idle_keys"], 50) * 1e3,
        "rss_start_mb": m["rss_start"] / 2**20,
        "rss_mid_mb": _middle(m["rss"] or [m["rss_start"]]) / 2**20,
        "rss_end_mb": (m["rss"] or [m["rss_start"]])[-1] / 2**20,
        "lanes_frame_p95_ms": percentile(lanes["loaded"][0], 95) * 1e3,
        "lanes_idle_frame_p50_ms": percentile(lanes["idle"], 50) * 1e3,
    }
    figure(report, "delivered into the model", out["events_per_s"], "ev/s")
    figure(report, "floor: frame, same agents, no events (p50)", out["idle_frame_p50_ms"], "ms")
    figure(report, "frame under load p50", out["frame_p50_ms"], "ms", out["idle_frame_p50_ms"])
    figure(
        report,
        "frame under load p95",
        out["frame_p95_ms"],
        "ms",
        out["idle_frame_p50_ms"],
        at_most(1.2, "x"),
    )
    figure(report, "frame interval p95 (asked: 100 ms)", out["frame_interval_p95_ms"], "ms")
    figure(report, "floor: key press, same agents, no events (p50)", out["idle_key_p50_ms"], "ms")
    figure(
        report, "key press to screen updated p50", out["key_p50_ms"], "ms", out["idle_key_p50_ms"]
    )
    figure(
        report,
        "key press to screen updated p95",
        out["key_p95_ms"],
        "ms",
        out["idle_key_p50_ms"],
        at_most(1.5, "x"),
    )
    figure(report, "RSS at start of load", out["rss_start_mb"], "MiB")
    figure(report, "RSS half way (every agent known by then)", out["rss_mid_mb"], "MiB")
    figure(
        report,
        "RSS at end",
        out["rss_end_mb"],
        "MiB",
        out["rss_mid_mb"],
        at_most(1.1, "x", "flat after half way (<= 1.1x)"),
    )
    figure(report, "floor: lanes frame, no events (p50)", out["lanes_idle_frame_p50_ms"], "ms")
    figure(
        report,
        "lanes frame p95, 1,000 agents",
        out["lanes_frame_p95_ms"],
        "ms",
        out["lanes_idle_frame_p50_ms"],
        at_most(50, "ms"),
    )
    return out
