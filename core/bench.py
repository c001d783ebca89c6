"""Benchmarks: every figure next to a floor measured in the same run.

Machines here are shared and noisy, so absolute numbers mean little; the
ratio to a floor taken seconds earlier on the same machine is what we
track. Run with `swarmscope bench`.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import msgpack
import zmq

from .emitter import Emitter
from .feed import Feed
from .hub import Hub
from .model import SwarmModel
from .publisher import Publisher
from .wire import TOPIC_EVENTS, WIRE_VERSION

Report = Callable[[str], None] | None
SECTIONS = ("emit", "e2e", "sessions")
TRUST_SECTIONS = ("hostile", "soak")
"""Minutes each: run only when asked for by name (`--only hostile`)."""
_DATA = {"fraction": 0.5, "task": "t-42", "message": "3 of 6 pages"}


def run_section(name: str, quick: bool = False, report: Report = print) -> dict[str, Any]:
    if name == "sessions":  # in its own module: it needs the session store, the others do not
        from .bench_sessions import bench_sessions
        return bench_sessions(functools.partial(figure, report), quick=quick, report=report)
    if name in TRUST_SECTIONS:
        from . import bench_trust
        run = bench_trust.bench_hostile if name == "hostile" else bench_trust.bench_soak
        return run(functools.partial(figure, report), quick=quick, report=report)
    return {"emit": bench_emit, "e2e": bench_e2e}[name](quick=quick, report=report)


def figure(report: Report, label: str, value: float, unit: str, floor: float | None = None,
          target: str = "") -> None:
    """One figure as the benches print it: value, unit, and its ratio to a floor from the same run."""
    if report is None:
        return
    ratio = f"  {value / floor:5.2f}x floor" if floor else ""
    report(f"  {label:<44} {value:>12,.2f} {unit:<8}{ratio}  {target}")


def _per_event_ns(fn: Callable[[int], None], n: int, repeat: int, clock: Callable[[], int]) -> float:
    """Median over `repeat` runs of clock-time per call of fn(i) for i in range(n)."""
    runs = []
    for _ in range(repeat):
        t0 = clock()
        fn(n)
        runs.append((clock() - t0) / n)
    return statistics.median(runs)


# -- emit(): caller cost ---------------------------------------------------------

def bench_emit(quick: bool = False, report: Report = print) -> dict[str, Any]:
    """emit() on the agent's thread vs building and packing the same event, and vs logging."""
    n, repeat = (20_000, 3) if quick else (200_000, 5)
    if report:
        report(f"emit(): cost on the agent's thread, per event ({n:,} events, median of {repeat})")
    packb, now = msgpack.packb, time.time_ns

    def floor(count: int) -> None:
        for i in range(count):
            packb((now(), "agent-7", i, "progress", {"fraction": 0.5, "task": "t-42", "message": "3 of 6 pages"}, 1))

    log = logging.getLogger("swarmscope.bench")
    log.propagate = False
    log.addHandler(logging.StreamHandler(open(os.devnull, "w")))
    log.setLevel(logging.INFO)

    def logging_info(count: int) -> None:
        for i in range(count):
            log.info("progress %s %s %s", 0.5, "t-42", "3 of 6 pages")

    endpoint = f"ipc://{tempfile.mkdtemp(prefix='ssbench')}/in"
    hub = Hub(endpoint, endpoint + "-out")
    hub.add_listener(lambda kept: None)  # a hub that takes every event, as a recording one does
    with hub:
        # room for every event of both timed passes: a dropped event costs less than a queued one
        em = Emitter("agent-7", endpoint, heartbeat=60, auto_heartbeat=False, queue_size=2 * n * repeat + 10)
        _wait_listening(em._pub)

        def emit(count: int) -> None:
            e = em.emit
            for _ in range(count):
                e("progress", fraction=0.5, task="t-42", message="3 of 6 pages")

        pack_ns = _per_event_ns(floor, n, repeat, time.thread_time_ns)
        emit_ns = _per_event_ns(emit, n, repeat, time.thread_time_ns)
        emit_wall_ns = _per_event_ns(emit, n, repeat, time.perf_counter_ns)
        log_ns = _per_event_ns(logging_info, n, repeat, time.thread_time_ns)
        em.close()
    out = {"pack_ns": pack_ns, "emit_ns": emit_ns, "emit_wall_ns": emit_wall_ns, "logging_ns": log_ns,
           "emit_ratio": emit_ns / pack_ns, "logging_ratio": log_ns / pack_ns, "dropped": em.dropped}
    figure(report, "floor: build + msgpack.packb the same event", pack_ns, "ns")
    figure(report, "emit() (agent thread CPU)", emit_ns, "ns", pack_ns, "target <= 2.5x")
    figure(report, "emit() (wall, flusher thread included)", emit_wall_ns, "ns", pack_ns)
    figure(report, "logging.info() to /dev/null, for scale", log_ns, "ns", pack_ns)
    if report:
        report(f"  dropped by the emitter: {em.dropped}")
    return out


def _wait_listening(pub: Publisher, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pub.listening and time.monotonic() < deadline:
        time.sleep(0.005)


# -- end to end: emitter -> hub -> feed -> model --------------------------------------

_RAW_BATCH = 500
"""Events per message in the floor: what our emitter sends when it is not behind."""


def _raw_sender(endpoint: str, n: int, batch: int) -> None:
    """Floor: build events, pack batches, send on PUB; what any such pipeline must do."""
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.bind(endpoint)
    sock.recv()  # the receiver's subscription: it is listening now
    now = time.time_ns
    for start in range(0, n, batch):
        events = [(now(), "agent-7", i, "progress", dict(_DATA), 1) for i in range(start, min(n, start + batch))]
        sock.send_multipart([TOPIC_EVENTS, msgpack.packb([WIRE_VERSION, events])])
    sock.send_multipart([b"end", b""])
    sock.close(linger=10_000)


def _raw_receive(endpoint: str, n: int) -> float:
    """Receive and unpack every batch; the clock starts at the first, which is not counted."""
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    got, t0 = 0, None
    while True:
        topic, payload = sock.recv_multipart()
        if topic == b"end":
            break
        events = len(msgpack.unpackb(payload)[1])
        if t0 is None:
            t0 = time.perf_counter()
        else:
            got += events
    sock.close()
    return got / (time.perf_counter() - t0)


def emitter_process(endpoint: str, n: int, started: Any = None) -> None:
    """An agent that emits n events as fast as it can, then says bye; `started`, a shared
    multiprocessing Value, is given the wall time it began (once the hub listens)."""
    em = Emitter("agent-7", endpoint, heartbeat=60, auto_heartbeat=False, queue_size=n + 10, batch_size=500)
    _wait_listening(em._pub, 10)
    if started is not None:
        started.value = time.time()
    e = em.emit
    for _ in range(n):
        e("progress", fraction=0.5, task="t-42", message="3 of 6 pages")
    em._pub.close_timeout = 30
    em.close()


def bench_e2e(quick: bool = False, report: Report = print) -> dict[str, Any]:
    """Events/s from an emitter process through a hub process into a model, vs raw PUB->SUB."""
    n = 100_000 if quick else 500_000
    if report:
        report(f"end to end: events/s delivered into the viewer ({n:,} events)")
    ctx = mp.get_context("spawn")
    tmp = tempfile.mkdtemp(prefix="ssbench")

    raw_ep = f"ipc://{tmp}/raw"
    sender = ctx.Process(target=_raw_sender, args=(raw_ep, n, _RAW_BATCH))
    sender.start()
    raw_rate = _raw_receive(raw_ep, n)
    sender.join()

    in_ep, out_ep = f"ipc://{tmp}/in", f"ipc://{tmp}/out"
    hub = subprocess.Popen([sys.executable, "-m", "swarmscope.tui.cli", "hub", "--in", in_ep, "--out", out_ep,
                            "--stats-every", "3600"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        ours = _receive_from_hub(out_ep, in_ep, n, ctx)
    finally:
        hub.terminate()
        hub.wait(10)
        ours["hub_cpu_s"] = _children_cpu() - ours.pop("children_cpu_s")
    out = {"raw_events_per_s": raw_rate, **ours, "ratio": ours["events_per_s"] / raw_rate}
    figure(report, "floor: raw PUB->SUB, msgpack batches, 2 processes", raw_rate, "ev/s")
    figure(report, "emitter -> hub -> feed -> model (3 processes)", ours["events_per_s"], "ev/s", raw_rate,
          "target >= 0.4x")
    if report:
        report(f"  delivered {ours['delivered']:,} of {n + 2:,} (hello, {n:,} progress, bye); "
               f"lost and counted as gaps {ours['gaps']:,}; unaccounted {ours['unaccounted']:,}")
        per_event = {k: ours[f"{k}_cpu_s"] / n * 1e6 for k in ("emitter", "hub", "viewer")}
        report(f"  CPU per event: emitter {per_event['emitter']:.2f} us, hub {per_event['hub']:.2f} us "
               f"(start-up included), viewer {per_event['viewer']:.2f} us; {os.cpu_count()} cores shared by "
               "3 processes (the floor has 2 and no hub)")
        report(f"  events per message: ours {ours['events_per_message']:,.0f}, floor {_RAW_BATCH}")
    return out


def _children_cpu() -> float:
    """CPU seconds used by this process's finished and waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _receive_from_hub(out_ep: str, in_ep: str, n: int, ctx: Any) -> dict[str, Any]:
    """Fold the emitter's events into a model; the clock starts at the first poll, which is not counted."""
    model = SwarmModel()
    with Feed(out_ep) as feed:
        _wait_for_hub(feed, in_ep)
        frames0, events0 = feed.stats.messages, feed.stats.events
        children0, cpu0 = _children_cpu(), time.process_time()
        agent = ctx.Process(target=emitter_process, args=(in_ep, n))
        agent.start()
        t0 = t1 = None
        untimed = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            events = _ours(feed.poll(200))
            if events:
                t1 = time.perf_counter()
                if t0 is None:
                    t0, untimed = t1, len(events)
                model.apply_many(events)
                if events[-1].kind == "bye":
                    break
        viewer_cpu = time.process_time() - cpu0
        agent.join(30)
        emitter_cpu = _children_cpu() - children0
        per_message = (feed.stats.events - events0) / max(feed.stats.messages - frames0, 1)
    a = model.agents.get("agent-7")
    delivered = a.events if a else 0
    gaps = a.gaps if a else 0
    return {"events_per_s": (delivered - untimed) / max((t1 or 1) - (t0 or 0), 1e-9), "delivered": delivered,
            "gaps": gaps, "unaccounted": (n + 2) - delivered - gaps, "events_per_message": per_message,
            "emitter_cpu_s": emitter_cpu, "viewer_cpu_s": viewer_cpu, "children_cpu_s": _children_cpu()}


def _ours(events: list) -> list:
    """The emitter's events, without the probes still in flight, looking at each event only when a
    batch is mixed: a viewer does no such work, and the timed stream is all the emitter's."""
    if events and events[0].agent == events[-1].agent == "agent-7":
        return events
    return [e for e in events if e.agent == "agent-7"]


def _wait_for_hub(feed: Feed, in_ep: str) -> None:
    """Send probes through the hub until one comes back: then the whole path is up."""
    probe = Emitter("probe", in_ep, heartbeat=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe.emit("probe")
        if any(e.agent == "probe" for e in feed.poll(50)):
            break
    probe.close()
