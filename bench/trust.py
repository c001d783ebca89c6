"""Benchmarks of trust: a hostile storm, and an overload soak, into a recording hub with a recorder
attached.

`swarmscope bench --only hostile` sends millions of hostile messages (bench/hostile.py: every one
ever found, and good messages broken at random) into `hub --record` with `record` attached, then a
known agent, and says whether either stopped, whether every message was counted once, whether the
known agent's events are whole in both files, and how large each process grew. `--only soak` runs
1,000 agents at 100 events/s each from four processes, past what a 2-core machine takes, and checks,
for every agent, that what it emitted is what the session holds plus what the session says it lost.
Neither is in the default set (each takes minutes); `--quick` runs a small one.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq

from swarmscope.bench.hostile import CUT_BY_ZEROMQ, SEEDS, mutated
from swarmscope.bench.report import Report, at_least, at_most
from swarmscope.core.model.sequence import LOST
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.sdk.publisher import Publisher
from swarmscope.core.session.store import session_files

CLI = [sys.executable, "-m", "swarmscope.tui.cli"]
RSS_BOUNDS_MB = {"hub": 512, "record": 512, "keyframers": 1024}
"""What each process may grow to under any input (docs/trust.md says why these)."""


# -- the processes
# ------------------------------------------------------------------------------------


class _Pipeline:
    """`hub --record` and `record` attached to it, on ipc endpoints in a folder of their own."""

    def __init__(self, tmp: str) -> None:
        self.ins, self.outs = f"ipc://{tmp}/in", f"ipc://{tmp}/out"
        self.record_file = Path(tmp) / "record.swarm"
        self.sessions = Path(tmp) / "hub"
        self.hub = subprocess.Popen(
            [
                *CLI,
                "hub",
                "--in",
                self.ins,
                "--out",
                self.outs,
                "--hold",
                "0",
                "--record",
                "--dir",
                str(self.sessions),
                "--json",
                "--stats-every",
                "3600",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.record = subprocess.Popen(
            [*CLI, "record", "--connect", self.outs, "--out", str(self.record_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.rss: dict[str, float] = {"hub": 0.0, "record": 0.0, "keyframers": 0.0}

    def probe_through(self, timeout: float = 30) -> None:
        """Until a new probe is in both files: the path is up, and all that came before it is
        through."""
        with Emitter(
            f"probe-{time.monotonic_ns()}", self.ins, auto_heartbeat=False, close_timeout=10
        ) as probe:
            deadline = time.monotonic() + timeout
            while not (
                _holds(self.record_file, probe.agent) and _holds(_only(self.sessions), probe.agent)
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the recording hub and its recorder did not take a probe")
                self.sample()
                probe.status("running")
                time.sleep(0.25)

    def sample(self) -> None:
        """The largest RSS each process (and the recorders' keyframers, summed) has had so far."""
        for name, proc in (("hub", self.hub), ("record", self.record)):
            self.rss[name] = max(self.rss[name], rss_mb(proc.pid))
        kids = sum(rss_mb(pid) for proc in (self.hub, self.record) for pid in _children(proc.pid))
        self.rss["keyframers"] = max(self.rss["keyframers"], kids)

    def stop(self) -> dict[str, Any]:
        """SIGINT both; their exit codes, whether either said a traceback, and the hub's final
        counters."""
        self.record.send_signal(signal.SIGINT)
        rec_out, rec_err = self.record.communicate(timeout=120)
        self.hub.send_signal(signal.SIGINT)
        hub_out, hub_err = self.hub.communicate(timeout=120)
        lines = [_json(line) for line in hub_out.splitlines() if line.startswith("{")]
        return {
            "exit": (self.hub.returncode, self.record.returncode),
            "final": lines[-1] if lines else {},
            "tracebacks": ("Traceback" in hub_err) + ("Traceback" in rec_err),
            "record_said": rec_out.strip(),
            "errors": (hub_err.strip()[-2000:], rec_err.strip()[-2000:]),
        }


def _json(line: str) -> dict[str, Any]:
    try:
        return json.loads(line)
    except ValueError:
        return {"unreadable counters line": line[:200]}


def _only(folder: Path) -> Path:
    files = session_files(folder) if folder.exists() else []
    return files[0] if files else folder / "none.swarm"


def _holds(path: Path, agent: str) -> bool:
    try:
        with Session(path) as s:
            return any(e.agent == agent for e in s.events(max(0, len(s) - 5000), len(s)))
    except Exception:  # not there yet, or its header not yet written
        return False


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# -- hostile
# ------------------------------------------------------------------------------------------------


def _hostile_sender(endpoint: str, n: int, seed: int) -> None:
    """Sends n hostile messages, blocking when the hub's queue is full (paced by it, nothing dropped
    here)."""
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.setsockopt(zmq.XPUB_NODROP, 1)
    sock.connect(endpoint)
    sock.recv()
    rng = random.Random(seed)
    pool = [frames for name, frames in SEEDS.items() if name not in CUT_BY_ZEROMQ]
    pool += [mutated(rng) for _ in range(20_000)]
    for k in range(n):
        sock.send_multipart(pool[k % len(pool)] if k % 7 else mutated(rng))
    sock.close(linger=-1)


def bench_hostile(
    line: Callable[..., None], quick: bool = False, report: Report = print
) -> dict[str, Any]:
    n = 200_000 if quick else 10_000_000
    if report:
        report(
            f"hostile: {n:,} hostile messages into `hub --record` with `record` attached, "
            "then a known agent"
        )
    with tempfile.TemporaryDirectory(prefix="sshostile") as tmp:
        pipe = _Pipeline(tmp)
        pipe.probe_through()
        sender = mp.get_context("spawn").Process(target=_hostile_sender, args=(pipe.ins, n, 13))
        start = time.perf_counter()
        sender.start()
        while sender.is_alive():
            pipe.sample()
            sender.join(0.25)
        sent_s = time.perf_counter() - start
        pipe.probe_through(timeout=600)  # the storm is through both: now the known agent
        alive = pipe.hub.poll() is None and pipe.record.poll() is None
        with Emitter("known", pipe.ins, auto_heartbeat=False, close_timeout=60) as known:
            for k in range(1000):
                known.progress(k / 1000, message=f"after the storm {k}")
        deadline = time.monotonic() + 120
        while (
            not (_whole(pipe.record_file) and _whole(_only(pipe.sessions)))
            and time.monotonic() < deadline
        ):
            pipe.sample()
            time.sleep(0.25)
        whole = _whole(pipe.record_file), _whole(_only(pipe.sessions))
        pipe.sample()
        said = pipe.stop()
    final = said["final"]
    counted = (
        final.get("checked", 0)
        + final.get("dropped_messages", 0)
        + final.get("unrecorded_at_stop", 0)
    )
    line("hostile messages sent (paced by the hub)", n / sent_s, "msg/s")
    if report:
        top = sorted(final.get("refused", {}).items(), key=lambda r: -r[1])[:6]
        report(
            f"  the hub took in {final.get('messages_in', 0):,} messages and "
            f"{final.get('subscriptions', 0):,} one-frame ones; "
            f"refused {sum(final.get('refused', {}).values()):,} "
            f"({', '.join(f'{f} {c:,}' for f, c in top)})"
            f"; dropped {final.get('dropped_messages', 0):,} for its recorder, each written as lost"
        )
        report(
            f"  every message counted once: {counted == final.get('messages_in')} "
            f"({final.get('messages_in', 0):,} in = {final.get('checked', 0):,} checked + "
            f"{final.get('dropped_messages', 0):,} dropped + "
            f"{final.get('unrecorded_at_stop', 0):,} unrecorded)"
        )
        report(
            f"  both still running after the storm: {alive}; exit codes {said['exit']}; "
            f"tracebacks: {said['tracebacks']}; failures of ours: {final.get('failures')}"
        )
        report(
            f"  the known agent's 1,002 events whole in the hub's file: {whole[1]}, "
            f"in record's: {whole[0]}"
        )
    for name, mb in pipe.rss.items():
        line(
            f"largest RSS: {name}",
            mb,
            "MB",
            None,
            at_most(RSS_BOUNDS_MB[name], "MB", f"bound {RSS_BOUNDS_MB[name]} MB"),
        )
    return {
        "hostile_messages": n,
        "hostile_per_s": n / sent_s,
        "alive": alive,
        "exit": said["exit"],
        "tracebacks": said["tracebacks"],
        "counted_once": counted == final.get("messages_in"),
        "known_whole": whole,
        "rss_mb": pipe.rss,
        "final": final,
    }


def _whole(path: Path) -> bool:
    """The known agent's hello, 1,000 progress events and bye, in order, none missing."""
    try:
        with Session(path) as s:
            known = [e for e in s.events(0, len(s)) if e.agent == "known"]
    except Exception:  # not there yet
        return False
    return [e.seq for e in known] == list(range(1002)) and known[-1].kind == "bye"


# -- soak
# ------------------------------------------------------------------------------------------------


def publish_agents(
    endpoint: str, first: int, count: int, rate: float, seconds: float, out: Any
) -> None:
    """`count` agents sharing one publisher, each emitting `rate` progress events a second; at the
    end, every agent's bye, and how many events each emitted (its seqs), put on `out`."""
    pub = Publisher(endpoint, queue_size=100_000, close_timeout=120)
    ems = [
        Emitter(f"agent-{first + k:04d}", publisher=pub, auto_heartbeat=False) for k in range(count)
    ]
    start, step = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        for em in ems:
            em.progress(step % 100 / 100, task=f"t-{step // 100}", message=f"step {step}")
        step += 1
        time.sleep(max(0.0, start + step / rate - time.monotonic()))
    for em in ems:
        em.close()
    Emitter(
        f"done-{first:04d}", publisher=pub, auto_heartbeat=False
    ).close()  # after every bye, on one socket
    pub.close()
    out.put(({em.agent: next(em._seq) for em in ems}, pub.dropped))


def bench_soak(
    line: Callable[..., None], quick: bool = False, report: Report = print
) -> dict[str, Any]:
    runs, seconds, agents, rate, procs = (
        (1, 15.0, 400, 100.0, 4) if quick else (5, 60.0, 1000, 100.0, 4)
    )
    if report:
        report(
            f"soak: {agents:,} agents x {rate:.0f} ev/s from {procs} processes for {seconds:.0f} s "
            f"into `hub --record` with `record` attached, {runs} runs (past what 2 cores take)"
        )
    results = [_soak_once(agents, rate, seconds, procs, report) for _ in range(runs)]
    for k, r in enumerate(results, 1):
        line(
            f"run {k}: agents whose events all add up (both files)",
            r["agents_ok"],
            "agents",
            None,
            at_least(agents, "agents", f"of {agents:,}"),
        )
    return {"soak": results}


def _soak_once(
    agents: int, rate: float, seconds: float, procs: int, report: Report
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sssoak") as tmp:
        pipe = _Pipeline(tmp)
        pipe.probe_through()
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        per = agents // procs
        workers = [
            ctx.Process(target=publish_agents, args=(pipe.ins, k * per, per, rate, seconds, out))
            for k in range(procs)
        ]
        for w in workers:
            w.start()
        published, dropped = {}, 0
        for _ in workers:
            while True:
                pipe.sample()
                try:
                    got, d = out.get(timeout=0.5)
                    break
                except Exception:  # the queue's Empty: still running
                    continue
            published.update(got)
            dropped += d
        for w in workers:
            w.join(30)
        # each process's last words, after all its agents': once in both files, all is in
        sentinels = [f"done-{k * per:04d}" for k in range(procs)]
        ends = [
            _Ends(lambda: pipe.record_file, sentinels),
            _Ends(lambda: _only(pipe.sessions), sentinels),
        ]
        waited = time.monotonic()
        growing = _Growth([lambda: pipe.record_file, lambda: _only(pipe.sessions)])
        ended = False
        while not ended and time.monotonic() < waited + 600 and growing.recently(STILL_S):
            pipe.sample()
            time.sleep(0.5)
            ended = all([e.ended() for e in ends])
        waited = time.monotonic() - waited
        said = pipe.stop()
        files = {"hub": _accounted(_only(pipe.sessions)), "record": _accounted(pipe.record_file)}
    ok = sum(
        all(files[f].get(a, (0, 0))[0] + files[f].get(a, (0, 0))[1] == n for f in files)
        for a, n in published.items()
    )
    emitted = sum(published.values())
    final = said["final"]
    if report:
        for f, got in files.items():
            recorded = sum(r for a, (r, _) in got.items() if a in published)
            lost = sum(lost for a, (_, lost) in got.items() if a in published)
            report(
                f"  {f}'s file: {emitted:,} emitted = {recorded:,} recorded + "
                f"{lost:,} written as lost: {emitted == recorded + lost}"
            )
        report(
            f"  lost where: {dropped:,} by the agents' queues; "
            f"{final.get('dropped_events', 0):,} dropped by the hub for its recorder; "
            f"{final.get('gaps', 0):,} before the hub; largest RSS: "
            + ", ".join(f"{k} {v:.0f} MB" for k, v in pipe.rss.items())
        )
        report(
            f"  both files had every sentinel {waited:.0f} s after the agents stopped "
            f"({'in time' if ended else 'never: both files had stopped growing'}); the hub left "
            f"{final.get('unrecorded_at_stop', 0):,} messages unrecorded at its stop"
        )
    return {
        "emitted": emitted,
        "agents_ok": ok,
        "emitter_dropped": dropped,
        "hub": final,
        "rss_mb": pipe.rss,
    }


STILL_S = 60.0
"""A soak stops waiting for its sentinels once neither file has grown for this long: what has not
come by then is not coming (the wait used to run its whole 600 s)."""


class _Growth:
    """Whether any of some growing files grew within the last so many seconds."""

    def __init__(self, paths: list[Callable[[], Path]]) -> None:
        self.paths, self.sizes, self.grew = paths, [-1] * len(paths), time.monotonic()

    def recently(self, seconds: float) -> bool:
        sizes = [_size(path()) for path in self.paths]
        if sizes != self.sizes:
            self.sizes, self.grew = sizes, time.monotonic()
        return time.monotonic() - self.grew < seconds


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


class _Ends:
    """Which of some sentinel agents (each: hello, then bye) a growing file has ended, with its bye
    or by saying the bye was lost (a recorder behind the hub loses sentinels too, and writes so).
    Read on from where the last look stopped: a process that finished early has its sentinel
    followed by anything the others still send, far from the file's tail."""

    def __init__(self, path: Callable[[], Path], agents: list[str]) -> None:
        self.path, self.left, self.read = path, set(agents), 0

    def ended(self) -> bool:
        try:
            with Session(self.path()) as s:
                for ev in s.iter_events(self.read, len(s)):
                    if ev.kind == "bye" or (ev.kind == LOST and ev.seq >= 1):
                        self.left.discard(ev.agent)
                self.read = len(s)
        except Exception:  # not there yet
            pass
        return not self.left


def _accounted(path: Path) -> dict[str, tuple[int, int]]:
    """Per agent: events the file holds (less `lost` ones) and events it says were lost."""
    model, recorded = SwarmModel(), {}
    try:
        with Session(path) as s:
            for b in range(len(s.file.index.blocks)):
                events = s.file.block_events(b, cached=False)
                model.apply_many(events)
                for ev in events:
                    if ev.kind != LOST:
                        recorded[ev.agent] = recorded.get(ev.agent, 0) + 1
    except Exception:  # a file that did not come to be: nothing adds up
        return {}
    return {a: (recorded.get(a, 0), agent.gaps) for a, agent in model.agents.items()}
