"""End to end: events a second from an emitter process through a hub process into a viewer's model,
against raw PUB->SUB of the same batches."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import msgpack
import zmq

from swarmscope.bench.emit import wait_listening
from swarmscope.bench.report import Report, at_least, figure
from swarmscope.core.hub.feed import Feed
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.wire.format import TOPIC_EVENTS, WIRE_VERSION

_DATA = {"fraction": 0.5, "task": "t-42", "message": "3 of 6 pages"}
HUB = [sys.executable, "-m", "swarmscope.tui.cli", "hub"]
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
        events = [
            (now(), "agent-7", i, "progress", dict(_DATA), 1)
            for i in range(start, min(n, start + batch))
        ]
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
    em = Emitter(
        "agent-7", endpoint, heartbeat=60, auto_heartbeat=False, queue_size=n + 10, batch_size=500
    )
    wait_listening(em._pub, 10)
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

    ours = through_hub(f"ipc://{tmp}/in", f"ipc://{tmp}/out", n, ctx)
    out = {"raw_events_per_s": raw_rate, **ours, "ratio": ours["events_per_s"] / raw_rate}
    figure(report, "floor: raw PUB->SUB, msgpack batches, 2 processes", raw_rate, "ev/s")
    figure(
        report,
        "emitter -> hub -> feed -> model (3 processes)",
        ours["events_per_s"],
        "ev/s",
        raw_rate,
        at_least(0.4, "x"),
    )
    if report:
        report(
            f"  delivered {ours['delivered']:,} of {n + 2:,} (hello, {n:,} progress, bye); "
            f"lost and counted as gaps {ours['gaps']:,}; unaccounted {ours['unaccounted']:,}"
        )
        per_event = {k: ours[f"{k}_cpu_s"] / n * 1e6 for k in ("emitter", "hub", "viewer")}
        report(
            f"  CPU per event: emitter {per_event['emitter']:.2f} us, "
            f"hub {per_event['hub']:.2f} us (start-up included), "
            f"viewer {per_event['viewer']:.2f} us; {os.cpu_count()} cores shared by "
            "3 processes (the floor has 2 and no hub)"
        )
        report(f"  events per message: ours {ours['events_per_message']:,.0f}, floor {_RAW_BATCH}")
    return out


def through_hub(in_ep: str, out_ep: str, n: int, ctx: Any, *flags: str) -> dict[str, Any]:
    """n events from an emitter process through a `swarmscope hub` process (with `flags`) into a
    model here; with the hub's CPU seconds (its own, and what its children used, apart)."""
    hub = subprocess.Popen(
        [*HUB, "--in", in_ep, "--out", out_ep, "--stats-every", "3600", *flags],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        ours = _receive_from_hub(out_ep, in_ep, n, ctx)
        ours["hub_own_cpu_s"] = process_cpu(hub.pid)
    finally:
        hub.terminate()
        hub.wait(30)
        ours["hub_cpu_s"] = _children_cpu() - ours.pop("children_cpu_s")
    return ours


def process_cpu(pid: int) -> float:
    """CPU seconds one live process has used itself (not its children), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """CPU seconds used by this process's finished and waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _receive_from_hub(out_ep: str, in_ep: str, n: int, ctx: Any) -> dict[str, Any]:
    """Fold the emitter's events into a model; the clock starts at the first poll, which is not
    counted."""
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
    return {
        "events_per_s": (delivered - untimed) / max((t1 or 1) - (t0 or 0), 1e-9),
        "delivered": delivered,
        "gaps": gaps,
        "unaccounted": (n + 2) - delivered - gaps,
        "events_per_message": per_message,
        "emitter_cpu_s": emitter_cpu,
        "viewer_cpu_s": viewer_cpu,
        "children_cpu_s": _children_cpu(),
    }


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
