"""Operations: what `--metrics` costs the hub, what a scrape of 10,000 agents costs, and how long
judging their alerts takes.

The hub's throughput is measured twice in one run, the same emitter, hub and viewer processes,
once without and once with `--metrics` (and an alert hook): the watch is a process of its own
that folds the feed as a viewer does, so on a machine with fewer cores than processes it takes
CPU the others would have had. Its cost to the hub's own process is the figure that says whether
the hub slowed down for it.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from swarmscope.bench.e2e import through_hub
from swarmscope.bench.report import Report, at_most, figure
from swarmscope.core.events import STATUSES
from swarmscope.core.model.health import Health
from swarmscope.core.ops.alerts import AgentAlerts
from swarmscope.core.ops.metrics import HEALTHS, Snapshot, SwarmCollector

AGENTS = 10_000


def bench_ops(quick: bool = False, report: Report = print) -> dict[str, Any]:
    out = _hub_with_and_without(quick, report)
    out.update(_scrape(AGENTS // 10 if quick else AGENTS, report))
    out.update(_alerts(AGENTS // 10 if quick else AGENTS, report))
    return out


def _hub_with_and_without(quick: bool, report: Report) -> dict[str, Any]:
    n = 100_000 if quick else 500_000
    if report:
        report(f"operations: the hub with and without --metrics ({n:,} events each)")
    ctx = mp.get_context("spawn")
    tmp = tempfile.mkdtemp(prefix="ssbench")
    plain = through_hub(f"ipc://{tmp}/a-in", f"ipc://{tmp}/a-out", n, ctx)
    watched = through_hub(
        f"ipc://{tmp}/b-in",
        f"ipc://{tmp}/b-out",
        n,
        ctx,
        "--metrics",
        "127.0.0.1:0",
        "--on-alert",
        "true",
    )
    base, with_metrics = plain["events_per_s"], watched["events_per_s"]
    figure(report, "floor: emitter -> hub -> model, no --metrics", base, "ev/s")
    figure(report, "the same with --metrics and --on-alert", with_metrics, "ev/s", base)
    own = {k: v["hub_own_cpu_s"] / n * 1e6 for k, v in (("plain", plain), ("watched", watched))}
    figure(report, "floor: the hub process's own CPU per event, no --metrics", own["plain"], "us")
    figure(
        report,
        "the hub process's own CPU per event, with --metrics",
        own["watched"],
        "us",
        own["plain"],
        at_most(1.25, "x"),
    )
    if report:
        watch_cpu = (watched["hub_cpu_s"] - watched["hub_own_cpu_s"]) / n * 1e6
        report(
            f"  the watch process (fold, alerts, HTTP): {watch_cpu:.2f} us per event of its own; "
            f"delivered {watched['delivered']:,} of {n + 2:,}, lost and counted "
            f"{watched['gaps']:,}, unaccounted {watched['unaccounted']:,}"
        )
    return {
        "hub_events_per_s": base,
        "hub_metrics_events_per_s": with_metrics,
        "hub_own_cpu_us": own["plain"],
        "hub_metrics_own_cpu_us": own["watched"],
    }


def _scrape(agents: int, report: Report) -> dict[str, Any]:
    """One scrape of `agents` agents, against prometheus_client writing as many samples of one
    family it was handed ready (the library's own cost, our floor)."""
    snap = _snapshot(agents)
    ours = CollectorRegistry(auto_describe=False)
    ours.register(SwarmCollector(lambda: snap))
    text, took = _best(lambda: generate_latest(ours))
    series = sum(1 for line in text.splitlines() if line[:1] not in (b"#", b""))
    floor = CollectorRegistry(auto_describe=False)
    family = GaugeMetricFamily("floor", "floor", labels=("agent", "role", "value"))
    for i in range(series):
        family.add_metric((f"agent-{i % agents:05d}", "coder", "running"), 1.0)
    floor.register(_Ready(family))
    _, floor_took = _best(lambda: generate_latest(floor))
    figure(report, f"floor: prometheus_client writes {series:,} ready samples", floor_took, "ms")
    figure(
        report,
        f"a scrape of {agents:,} agents ({series:,} series, {len(text) / 1e6:.1f} MB)",
        took,
        "ms",
        floor_took,
        at_most(2.0, "x"),
    )
    return {"scrape_agents": agents, "scrape_series": series, "scrape_ms": took}


def _alerts(agents: int, report: Report) -> dict[str, Any]:
    """Judging every agent's alerts once (each watch tick), against building what it reads."""
    rows = _snapshot(agents).agents
    health = {h.value: h for h in Health}

    def seen() -> list:
        return [(a, r, s, health[h], e, "") for a, r, s, h, _, _, e, _ in rows]

    rules = AgentAlerts()
    rules.update(seen(), 0)
    _, floor = _best(seen)
    _, took = _best(lambda: rules.update(seen(), 1))
    figure(report, f"floor: the rows of {agents:,} agents, as a tick reads them", floor, "ms")
    figure(report, f"one tick of alert rules over {agents:,} agents", took, "ms", floor)
    return {"alert_tick_ms": took}


class _Ready:
    def __init__(self, family: GaugeMetricFamily) -> None:
        self._family = family

    def collect(self) -> list:
        return [self._family]


def _snapshot(agents: int) -> Snapshot:
    """`agents` agents as a scrape sees them: statuses and healths spread, half at a task."""
    return Snapshot(
        agents=[
            (
                f"agent-{i:05d}",
                "coder",
                STATUSES[i % len(STATUSES)],
                HEALTHS[i % len(HEALTHS)],
                "parse" if i % 2 else "",
                0.5 if i % 2 else None,
                i % 3,
                time.time_ns(),
            )
            for i in range(agents)
        ],
        kinds={"progress": agents * 100, "status": agents * 3},
        view_gaps=0,
        hub={"gaps": 0, "dropped_events": 0, "refused": {}, "viewers": 1, "publishers": agents},
    )


def _best(work: Any, runs: int = 3) -> tuple[Any, float]:
    """What work() gives, and its fastest of `runs` runs in ms (the least disturbed)."""
    best, got = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        got = work()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return got, best
