"""The "sessions" benchmark: a 1,000,000-event simulator session on disk, opened, sought and
recorded.

Each figure stands next to a floor measured in the same run: reading the
whole file for the open, one zstd block decompression and one bare
SwarmModel.restore for a seek, msgpack and zlib for the bytes, the hub's own
decoding of wire batches as Emitters send them (a batch of columns per
agent) for the recorder; and, for what a slower recorder means in a
recording hub, a burst into one (the rate it was sent at), and many agents'
small messages into one (the rate they were sent at). The session file
is generated once and cached in the temp dir (it takes a while to
simulate), keyed by its size, seed, format version, the writer's keyframe
interval and compression level, and the fields keyframes hold.
"""

from __future__ import annotations

import gc
import gzip
import json
import multiprocessing as mp
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import msgpack
import zmq

from swarmscope.bench.e2e import emitter_process
from swarmscope.bench.report import Report, at_least, at_most, figure
from swarmscope.core.events import Event
from swarmscope.core.hub.hub import TAP_PASS
from swarmscope.core.live.sim import SimConfig, simulate, simulated
from swarmscope.core.model.reducers import MAX_DONE_TASKS
from swarmscope.core.model.views import AgentView, LinkView, TaskView
from swarmscope.core.replay.profiling import profile_between
from swarmscope.core.replay.session import Session
from swarmscope.core.session import format as fmt
from swarmscope.core.session.compact import COMPACT_BLOCK, compact
from swarmscope.core.session.keyframes import KEYFRAME_EVERY
from swarmscope.core.session.message_writer import MessageWriter
from swarmscope.core.session.messages import MESSAGE_LEVEL
from swarmscope.core.session.reader import decode_event_block
from swarmscope.core.session.writer import SessionWriter
from swarmscope.core.wire.format import TOPIC_EVENTS, encode_batch
from swarmscope.core.wire.gate import decode
from swarmscope.core.wire.kept import keep

WARM_SEEKS = 100
"""Seeks made, untimed, before the timed ones: a process's first seeks fault in the memory its heap
grows to (measured with getrusage, 400 seeks: 52 minor page faults a seek over the first 20, 33 over
the next 60, then 0-10), up to 2-3 ms more each on this VM, which made them the p99 of a first pass
(the 8 slowest of 300 were among the first 55). A user's scrubbing is past them after a few
seconds."""
Line = Callable[..., None]
BATCH = 500
"""Events per append: about what one hub message carries under load."""


def bench_sessions(line: Line, quick: bool = False, report: Report = print) -> dict[str, Any]:
    n = 200_000 if quick else 1_000_000
    if report:
        report(f"sessions: a {n:,}-event simulator session on disk")
    path = cached_session(n, report)
    out: dict[str, Any] = {"events": n, "path": str(path)}
    out.update(open_figures(path, line))
    out.update(seek_figures(path, line, 60 if quick else 300))
    out.update(_size(path, n, line))
    out.update(_demo_size(line, 20_000 if quick else 100_000))
    out.update(_recorder(line, 50_000 if quick else 200_000))
    out.update(_burst(line, 500_000 if quick else 2_000_000))
    out.update(_many_agents(line, 20_000 if quick else 100_000))
    return out


def cached_session(n: int, report: Report) -> Path:
    cache = Path(tempfile.gettempdir()) / "swarmscope-bench"
    path = cache / (
        f"sim-{n}-seed7-v{fmt.FORMAT_MAJOR}.{fmt.FORMAT_MINOR}-kf{KEYFRAME_EVERY}-msg{MESSAGE_LEVEL}"
        f"-k{fmt.KEYFRAME_LEVEL}x{fmt.FULL_KEYFRAME_EVERY}-t{MAX_DONE_TASKS}-m{_model_shape()}-c{COMPACT_BLOCK}{fmt.SUFFIX}"
    )
    try:
        with Session(path) as s:
            if s.meta["closed"] and len(s) == n:
                return path
    except Exception:  # absent, stale or damaged: make it again
        path.unlink(missing_ok=True)
    if report:
        report(f"  (simulating and writing {n:,} events once; cached in {cache})")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    with MessageWriter(tmp) as w:  # as a recording hub writes it
        for events in simulated(SimConfig(), n, chunk=100 * BATCH):  # in bounded memory
            batches = _as_emitters_send(events)
            for k in range(0, len(batches), TAP_PASS):
                w.append([keep(encode_batch(batch)) for batch in batches[k : k + TAP_PASS]])
    tmp.rename(path)
    return path


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _model_shape() -> str:
    """A checksum of the fields keyframes hold: a model that gained one writes other keyframes
    (an old file would be restored by field name, a slower path than the bench should time)."""
    names = [[f.name for f in fields(c)] for c in (AgentView, TaskView, LinkView)]
    return f"{zlib.crc32(repr(names).encode()):08x}"


def open_figures(path: Path, line: Line) -> dict[str, Any]:
    def read_all() -> None:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass

    def open_first_screen() -> None:
        with Session(path) as s:
            s.meta, s.events(0, 50)

    floor = _median_s(read_all, 5)
    ours = _median_s(open_first_screen, 5)
    line("floor: read the whole file (page cache warm)", floor * 1e3, "ms")
    line("open + meta/summary + first 50 events", ours * 1e3, "ms", floor * 1e3, at_most(300, "ms"))
    return {"read_all_ms": floor * 1e3, "open_ms": ours * 1e3}


def seek_floor(path: Path) -> tuple[float, float]:
    """Seconds to restore the last keyframe, and to decode a block from the middle: what any
    seek must do at least once (the medians of 20)."""
    with Session(path) as s:
        offset, _ = s.file.index.keyframes[-1]
        raw = s.file.keyframe_raw(offset)
        block_offset, _ = s.file.index.blocks[len(s.file.index.blocks) // 2]
        kind, payload = s.file.event_block(block_offset)
    restore = _median_s(lambda: fmt.model_of_keyframe(fmt.unpack(raw, "keyframe")), 20)
    return restore, _median_s(lambda: decode_event_block(kind, payload), 20)


def seek_figures(path: Path, line: Line, count: int) -> dict[str, Any]:
    floor_restore, floor_block = seek_floor(path)
    floor = floor_restore + floor_block
    with Session(path) as s:
        n = len(s)
    rng = random.Random(1)
    _timed_seeks(path, [rng.randrange(n) for _ in range(WARM_SEEKS)])
    anywhere = _timed_seeks(path, [rng.randrange(n) for _ in range(count)])
    start = _timed_seeks(path, [rng.randrange(n // 20) for _ in range(count // 3)])
    end = _timed_seeks(path, [n - 1 - rng.randrange(n // 20) for _ in range(count // 3)])
    p50, p99 = _pct(anywhere, 50), _pct(anywhere, 99)
    ratio = statistics.median(end) / statistics.median(start)
    line("floor: unpack + SwarmModel.restore of one keyframe", floor_restore * 1e3, "ms")
    line("floor: decode one events block", floor_block * 1e3, "ms")
    line("floor: the two (what any seek does at least)", floor * 1e3, "ms")
    line(f"seek (state_at) p50, {count} random positions", p50 * 1e3, "ms", floor * 1e3)
    line("seek (state_at) p99", p99 * 1e3, "ms", floor * 1e3, at_most(2, "x"))
    line(
        "seek at end / seek at start (medians, last/first 5%)", ratio, "x", None, at_most(1.5, "x")
    )
    return {
        "restore_floor_ms": floor_restore * 1e3,
        "block_floor_ms": floor_block * 1e3,
        "seek_p50_ms": p50 * 1e3,
        "seek_p99_ms": p99 * 1e3,
        "seek_end_start_ratio": ratio,
    }


def profile_against_decode(path: Path, n: int, report: Report) -> dict[str, Any]:
    """`sessions profile` of the whole session, against one pass that only decodes the same
    events (the best of two, one before and one after, so neither has the colder cache)."""

    def decode() -> float:
        with Session(path) as s:
            t0 = time.perf_counter()
            for _ in s.iter_events():
                pass
            return time.perf_counter() - t0

    first = decode()
    with Session(path) as s:
        t0 = time.perf_counter()
        profile_between(s)
        took = time.perf_counter() - t0
    floor = min(first, decode())
    figure(report, f"floor: decode {n:,} events, one pass", floor, "s")
    figure(report, f"profile of {n:,} events (sessions profile)", took, "s", floor, at_most(2, "x"))
    return {"decode_s": floor, "profile_s": took}


def _timed_seeks(path: Path, positions: list[int]) -> list[float]:
    """Seconds per state_at, each on a fresh Session so no cache carries over from the last seek."""
    out = []
    for i in positions:
        with Session(path) as s:
            t0 = time.perf_counter()
            s.state_at(i)
            out.append(time.perf_counter() - t0)
    return out


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _size(path: Path, n: int, line: Line) -> dict[str, Any]:
    with Session(path) as s:
        f = s.file
        kf_bytes = sum(
            fmt.FRAME.unpack(f._pread(off, fmt.FRAME.size))[0] for off, _ in f.index.keyframes
        )
        sample = s.events(n // 2, n // 2 + 100_000)
    total = path.stat().st_size
    raw = sum(len(msgpack.packb(sample[k : k + 2048])) for k in range(0, len(sample), 2048)) / len(
        sample
    )
    zl = sum(
        len(zlib.compress(msgpack.packb(sample[k : k + 2048]), 6))
        for k in range(0, len(sample), 2048)
    ) / len(sample)
    line("floor: msgpack, rows, uncompressed", raw, "B/event")
    line("floor: zlib level 6 of msgpack rows, blocks of 2048", zl, "B/event")
    line("on disk, everything", total / n, "B/event", zl, at_most(20, "B/event"))
    line("  of which keyframes", kf_bytes / n, "B/event")
    return {
        "bytes_per_event": total / n,
        "keyframe_bytes_per_event": kf_bytes / n,
        "msgpack_bytes_per_event": raw,
        "zlib_bytes_per_event": zl,
        "file_bytes": total,
    }


DEMO_RATE = 60.0
"""`swarmscope demo`'s events a second (12 agents)."""
THIRD_UNDER = at_most(2 / 3, "x", "<= 0.67x floor")
WINDOW_NS = 50_000_000
"""An Emitter's batch window and a recorder's flush window: at the demo's pace, each window's
messages make one block."""


def _demo_size(line: Line, n: int) -> dict[str, Any]:
    """The demo's workload recorded as a recording hub records it (each agent's events of a 50 ms
    window one message, each window one block), then compacted at close, against gzip'd JSON
    lines of the same events (the floor: what a team would otherwise keep)."""
    events = simulate(SimConfig(rate=DEMO_RATE, seed=7), n)
    with tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
        path = Path(tmp) / "demo.swarm"
        with MessageWriter(path, flush_interval=0.0, compact=False) as w:
            for window in _windows(events):
                w.append([keep(encode_batch(batch)) for batch in window])
        recorded = path.stat().st_size / n
        t0 = time.perf_counter()
        compact(path)
        took = time.perf_counter() - t0
        compacted = path.stat().st_size / n
    jsonl = "".join(json.dumps(ev._asdict(), default=str) + "\n" for ev in events).encode()
    gz = len(gzip.compress(jsonl, compresslevel=6)) / n
    line(f"the demo's workload, {n:,} events: floor, gzip JSON lines", gz, "B/event")
    line("  as recorded (a block per 50 ms)", recorded, "B/event", gz)
    line("  compacted at close", compacted, "B/event", gz, at_most(12, "B/event"))
    line("  the same, a third under gzip JSON lines", compacted, "B/event", gz, THIRD_UNDER)
    line("  compaction, per event", took / n * 1e6, "us")
    return {
        "demo_gzip_jsonl_bytes_per_event": gz,
        "demo_recorded_bytes_per_event": recorded,
        "demo_compacted_bytes_per_event": compacted,
        "compact_us_per_event": took / n * 1e6,
    }


def _windows(events: list[Event]) -> list[list[list[Event]]]:
    """Events grouped as the demo sends them: per 50 ms window, one batch per agent."""
    out: list[list[list[Event]]] = []
    start: int | None = None
    by_agent: dict[tuple[str, int], list[Event]] = {}
    for ev in events:
        if start is None or ev.ts - start >= WINDOW_NS:
            if by_agent:
                out.append(list(by_agent.values()))
            start, by_agent = ev.ts, {}
        by_agent.setdefault((ev.agent, ev.inc), []).append(ev)
    if by_agent:
        out.append(list(by_agent.values()))
    return out


def _recorder(line: Line, n: int) -> dict[str, Any]:
    """A recording hub's recorder against decoding the same batches (what every viewer does, and a
    recording hub's tap did before format 2.0), each the median of three passes: events on disk
    (checked, compressed, written), then the keyframer caught up and the file closed. And the
    recorder that folds in line, as a SessionWriter does with events a program holds.

    The inputs are frozen out of the collector's sight first: a hub or recorder does not
    carry 200,000 simulated events in its heap, and walking them again and again made
    the first pass of either side up to twice as slow."""
    events = simulate(SimConfig(seed=11), n)
    batches = [encode_batch(batch) for batch in _as_emitters_send(events)]
    decoded = [decode(p) for p in batches]
    gc.collect()
    gc.freeze()
    try:
        hub_s = _median_s(lambda: _decode_all(batches), 3)
        with tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
            durable_s, closed_s = map(
                statistics.median,
                zip(*(_record_messages(Path(tmp) / "m.swarm", batches) for _ in range(3))),
            )
            inline_s = _median_s(lambda: _record(Path(tmp) / "rec.swarm", decoded), 3)
    finally:
        gc.unfreeze()
    hub_rate, rate = n / hub_s, n / durable_s
    line("floor: decoding wire batches (what viewers do)", hub_rate, "ev/s")
    line(
        "recorder (hub, record, watch --record): check, compress, write",
        rate,
        "ev/s",
        hub_rate,
        at_least(1.5, "x"),
    )
    line(
        "  keyframes folded behind (another process): closed",
        n / closed_s,
        "ev/s",
        hub_rate,
        f"{closed_s - durable_s:.2f} s after the last was on disk",
    )
    line("recorder folding in line (SessionWriter)", n / inline_s, "ev/s", hub_rate)
    return {
        "hub_decode_events_per_s": hub_rate,
        "recorder_events_per_s": rate,
        "recorder_closed_events_per_s": n / closed_s,
        "recorder_inline_events_per_s": n / inline_s,
    }


def _record_messages(path: Path, batches: list[bytes]) -> tuple[float, float]:
    """Seconds until every event is on disk, and until the file is closed (keyframes all in)."""
    path.unlink(missing_ok=True)
    w = MessageWriter(path, compact=False)  # compaction comes after the close: _demo_size
    # its keyframer is up, as in a recorder already running (it starts in ~0.2 s)
    w.keyframer.model(0, timeout=30)
    t0 = time.perf_counter()
    for k in range(0, len(batches), TAP_PASS):  # as a hub's tap hands them over
        w.append([keep(payload) for payload in batches[k : k + TAP_PASS]])
    w.flush()
    durable = time.perf_counter() - t0
    w.close()
    return durable, time.perf_counter() - t0


def _as_emitters_send(events: list) -> list[list]:
    """The events as a swarm's Emitters send them: each agent's own in one batch per BATCH events of
    the swarm (wire 2.0 columns, what a hub's tap decodes), in the order the agents first spoke."""
    out = []
    for k in range(0, len(events), BATCH):
        by_agent: dict[tuple[str, int], list] = {}
        for ev in events[k : k + BATCH]:
            by_agent.setdefault((ev.agent, ev.inc), []).append(ev)
        out += by_agent.values()
    return out


def _decode_all(batches: list[bytes]) -> None:
    """As the hub's tap does: each batch decoded, handed on, and let go."""
    for payload in batches:
        decode(payload)


def _record(path: Path, batches: list[list]) -> None:
    path.unlink(missing_ok=True)
    with SessionWriter(path) as w:
        for batch in batches:
            w.append(batch)


def _burst(line: Line, n: int) -> dict[str, Any]:
    """What a recorder slower than the swarm means: a burst into a recording hub (`hub --record`),
    as fast as an Emitter sends. ZeroMQ queues for the tap what it has not taken yet
    (hub.TAP_QUEUE), so the session loses nothing and catches up after; the hub is stopped (SIGTERM)
    as the last event is sent, and drains before it exits."""
    started = mp.get_context("spawn").Value("d", 0.0)
    with tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
        hub, in_ep = _recording_hub(tmp)
        try:
            agent = mp.get_context("spawn").Process(
                target=emitter_process, args=(in_ep, n, started)
            )
            agent.start()
            agent.join()
            sent = time.time()
            hub.send_signal(signal.SIGTERM)
            hub.wait(120)
        finally:
            hub.kill()
        caught_up = time.time() - sent
        with Session(next(Path(tmp, "rec").glob("*" + fmt.SUFFIX))) as s:
            recorded, lost = len(s), s.meta["summary"]["gaps"]
    rate, recording_rate = n / (sent - started.value), n / (sent - started.value + caught_up)
    line("burst into a recording hub, sent at", rate, "ev/s")
    line("  recorded in all (the tap's checking included)", recording_rate, "ev/s", rate)
    line(f"  events in the session, of {n + 2:,} sent", recorded, "events", None, f"lost: {lost:,}")
    line("  all recorded, hub stopped: after the last sent", caught_up, "s")
    return {
        "burst_events_per_s": rate,
        "burst_recording_events_per_s": recording_rate,
        "burst_recorded": recorded,
        "burst_lost": lost,
        "burst_caught_up_s": caught_up,
    }


def _many_agents(
    line: Line, messages: int, agents: int = 1_000, per_message: int = 5
) -> dict[str, Any]:
    """A recording hub's tap against many agents each sending a few events a message (DESIGN's
    1,000 agents at 100,000 events/s send ~20,000 such messages a second): its pace in messages,
    from its own --json counters, every 0.1 s. The messages are sent first, all at once (fewer than
    the tap can queue), so the floor is the rate they went out at."""
    seqs: dict[str, int] = {}
    payloads = []
    for k in range(messages):
        agent = f"agent-{k % agents:04d}"
        seq = seqs[agent] = seqs.get(agent, -per_message) + per_message
        payloads.append(
            encode_batch(
                [
                    Event(time.time_ns(), agent, seq + j, "progress", {"fraction": 0.5}, 1)
                    for j in range(per_message)
                ]
            )
        )
    with tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
        hub, in_ep = _recording_hub(tmp, counters_every=0.1)
        sock = zmq.Context.instance().socket(zmq.XPUB)
        try:
            sock.setsockopt(zmq.SNDHWM, 0)
            sock.connect(in_ep)
            sock.recv()  # the hub has subscribed
            t0 = time.perf_counter()
            for payload in payloads:
                sock.send_multipart([TOPIC_EVENTS, payload])
            sent = time.perf_counter() - t0
            while json.loads(hub.stdout.readline())["messages_in"] < messages:
                pass
            taken = time.perf_counter() - t0
        finally:
            sock.close(linger=0)
            hub.terminate()
            hub.wait(60)
    rate, floor = messages / taken, messages / sent
    line(f"floor: {agents:,} agents' messages of {per_message} events, sent at", floor, "msg/s")
    line(
        "  taken in by a recording hub's tap",
        rate,
        "msg/s",
        floor,
        f"= {rate * per_message:,.0f} ev/s",
    )
    return {"many_agents_sent_per_s": floor, "many_agents_taken_per_s": rate}


def _recording_hub(tmp: str, counters_every: float | None = None) -> tuple[subprocess.Popen, str]:
    """`swarmscope hub --record` in a process of its own, on ipc endpoints in `tmp`, recording into
    tmp/rec; with `counters_every`, its --json counters come on its stdout. Returns it and its agent
    side."""
    in_ep = f"ipc://{tmp}/in"
    counters = (
        ["--stats-every", str(counters_every), "--json"]
        if counters_every
        else ["--stats-every", "3600"]
    )
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarmscope.tui.cli",
            "hub",
            "--in",
            in_ep,
            "--out",
            f"ipc://{tmp}/out",
            "--record",
            "--dir",
            f"{tmp}/rec",
            *counters,
        ],
        stdout=subprocess.PIPE if counters_every else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return hub, in_ep
