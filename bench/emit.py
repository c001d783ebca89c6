"""emit() on the agent's thread: what instrumenting an agent costs it, against packing the same
event."""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import msgpack

from swarmscope.bench.report import Report, at_most, figure
from swarmscope.core.hub.hub import Hub
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.sdk.publisher import Publisher


def _per_event_ns(
    fn: Callable[[int], None], n: int, repeat: int, clock: Callable[[], int]
) -> float:
    """Median over `repeat` runs of clock-time per call of fn(i) for i in range(n)."""
    runs = []
    for _ in range(repeat):
        t0 = clock()
        fn(n)
        runs.append((clock() - t0) / n)
    return statistics.median(runs)


def bench_emit(quick: bool = False, report: Report = print) -> dict[str, Any]:
    """emit() on the agent's thread vs building and packing the same event, and vs logging."""
    n, repeat = (20_000, 3) if quick else (200_000, 5)
    if report:
        report(f"emit(): cost on the agent's thread, per event ({n:,} events, median of {repeat})")
    packb, now = msgpack.packb, time.time_ns

    def floor(count: int) -> None:
        for i in range(count):
            packb(
                (
                    now(),
                    "agent-7",
                    i,
                    "progress",
                    {"fraction": 0.5, "task": "t-42", "message": "3 of 6 pages"},
                    1,
                )
            )

    log = logging.getLogger("swarmscope.bench")
    log.propagate = False
    log.addHandler(logging.StreamHandler(open(os.devnull, "w")))
    log.setLevel(logging.INFO)

    def logging_info(count: int) -> None:
        for _ in range(count):
            log.info("progress %s %s %s", 0.5, "t-42", "3 of 6 pages")

    endpoint = f"ipc://{tempfile.mkdtemp(prefix='ssbench')}/in"
    hub = Hub(endpoint, endpoint + "-out")
    hub.add_listener(lambda kept: None)  # a hub that takes every event, as a recording one does
    with hub:
        # room for every event of both timed passes: a dropped event costs less than a queued one
        em = Emitter(
            "agent-7", endpoint, heartbeat=60, auto_heartbeat=False, queue_size=2 * n * repeat + 10
        )
        wait_listening(em._pub)

        def emit(count: int) -> None:
            e = em.emit
            for _ in range(count):
                e("progress", fraction=0.5, task="t-42", message="3 of 6 pages")

        pack_ns = _per_event_ns(floor, n, repeat, time.thread_time_ns)
        emit_ns = _per_event_ns(emit, n, repeat, time.thread_time_ns)
        emit_wall_ns = _per_event_ns(emit, n, repeat, time.perf_counter_ns)
        log_ns = _per_event_ns(logging_info, n, repeat, time.thread_time_ns)
        em.close()
    out = {
        "pack_ns": pack_ns,
        "emit_ns": emit_ns,
        "emit_wall_ns": emit_wall_ns,
        "logging_ns": log_ns,
        "emit_ratio": emit_ns / pack_ns,
        "logging_ratio": log_ns / pack_ns,
        "dropped": em.dropped,
    }
    figure(report, "floor: build + msgpack.packb the same event", pack_ns, "ns")
    figure(report, "emit() (agent thread CPU)", emit_ns, "ns", pack_ns, at_most(2.5, "x"))
    figure(report, "emit() (wall, flusher thread included)", emit_wall_ns, "ns", pack_ns)
    figure(report, "logging.info() to /dev/null, for scale", log_ns, "ns", pack_ns)
    if report:
        report(f"  dropped by the emitter: {em.dropped}")
    return out


def wait_listening(pub: Publisher, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pub.listening and time.monotonic() < deadline:
        time.sleep(0.005)
