"""The recorder as it runs: real subprocesses, a real hub on ipc, the simulator publishing, kill
-9."""

import os
import signal
import subprocess

import msgpack
import pytest
import zmq
from helpers import wait_for
from processes import CLI, keyframers_of, probe_events, probe_until_recorded, recording_hub, running

from swarmscope.core.events import Event
from swarmscope.core.hub.hub import Hub
from swarmscope.core.live.sim import SimConfig, Swarm
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.sdk.publisher import Publisher
from swarmscope.core.session.recorder import Recorder, RecordPolicy
from swarmscope.core.session.repair import repair
from swarmscope.core.session.store import session_files
from swarmscope.core.wire.format import TOPIC_EVENTS, WIRE_VERSION
from swarmscope.core.wire.kept import kept_of


class Tee:
    """A publisher for the simulator that sends for real and remembers what it sent."""

    def __init__(self, endpoint):
        self.pub = Publisher(endpoint, queue_size=200_000)
        self.sent: list[Event] = []

    def put(self, item, urgent=False):
        self.sent.append(Event(*item))
        self.pub.put(item, urgent)

    def add_ticker(self, tick):
        pass

    def run(self, swarm, n):
        """Step the simulated swarm until `n` more events have been published."""
        target = len(self.sent) + n
        while len(self.sent) < target:
            swarm.step()


def _by_agent(events):
    """Each agent's events in order (a publisher sends each agent's as one message: the order
    between agents within a flush is the publisher's, within one agent the agent's)."""
    out = {}
    for ev in events:
        out.setdefault(ev.agent, []).append(ev)
    return out


def _prefix_per_agent(events, sent):
    """Every agent's recorded events are the first of what it sent, in order."""
    got, all_sent = _by_agent(events), _by_agent(sent)
    return all(all_sent[agent][: len(evs)] == evs for agent, evs in got.items())


def _recorded(path):
    """Events in the file so far (it may be mid-write), without probes."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        with Session(path) as s:
            return [e for e in s.events(0, len(s)) if e.agent != "probe"]
    except Exception:
        return []  # the header is not on disk yet


@pytest.fixture
def hub(tmp_path):
    with Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out") as h:
        yield h


def _start_recorder(hub, out):
    proc = subprocess.Popen(
        [*CLI, "record", "--connect", hub.out_endpoint, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    probe_until_recorded(hub.in_endpoint, out)
    return proc


@pytest.mark.parametrize("seed, first, burst", [(1, 400, 3000), (2, 1500, 200), (3, 50, 8000)])
def test_kill_9_loses_at_most_the_unflushed_window(tmp_path, hub, seed, first, burst):
    out = tmp_path / "run.swarm"
    proc = _start_recorder(hub, out)
    keyframers = keyframers_of(proc.pid)
    assert len(keyframers) == 1
    tee = Tee(hub.in_endpoint)
    swarm = Swarm(SimConfig(agents=6, rate=500, seed=seed), tee)
    try:
        tee.run(swarm, first)
        flushed = len(tee.sent)
        # flushed without any close
        wait_for(lambda: len(_recorded(out)) >= flushed, timeout=20, poll=0.02)
        tee.run(swarm, burst)
        tee.pub.close()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    wait_for(lambda: not running(keyframers), timeout=10, poll=0.05)  # its keyframer went with it
    with Session(out) as s:
        assert not s.meta["closed"]
        events = [e for e in s.events(0, len(s)) if e.agent != "probe"]
        summary = s.summary()
    assert flushed <= len(events) <= len(tee.sent)
    assert _prefix_per_agent(events, tee.sent)  # nothing invented, nothing out of place
    live = SwarmModel()
    live.apply_many(events)
    assert summary["events"] - len(probe_events(out)) == len(events)


def test_a_clean_stop_closes_the_file_with_everything(tmp_path, hub):
    out = tmp_path / "clean.swarm"
    proc = _start_recorder(hub, out)
    tee = Tee(hub.in_endpoint)
    swarm = Swarm(SimConfig(agents=4, rate=200, seed=9), tee)
    tee.run(swarm, 2000)
    swarm.close()
    tee.pub.close()
    wait_for(lambda: len(_recorded(out)) >= len(tee.sent), timeout=20, poll=0.02)
    # an agent speaking a wire this build does not read
    garbage = zmq.Context.instance().socket(zmq.XPUB)
    garbage.connect(hub.in_endpoint)
    garbage.recv()
    for _ in range(3):
        garbage.send_multipart(
            [TOPIC_EVENTS, msgpack.packb([WIRE_VERSION + 2000, [[1, "x", 0, "log", {}, 1]]])]
        )
    garbage.close(linger=1000)
    wait_for(lambda: hub.stats.decode.refused.get("version") == 3)
    probe_until_recorded(hub.in_endpoint, out)  # passed after the garbage: the recorder has read it
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in stderr
    assert "recorded" in stdout and str(out) in stdout
    assert (
        "messages refused: 3 version: 3001 (major 3), want an integer 1000 * major + minor"
        in stdout
    )
    with Session(out) as s:
        got = [e for e in s.events(0, len(s)) if e.agent != "probe"]
        assert s.meta["closed"] and _by_agent(got) == _by_agent(tee.sent)
        assert s.meta["summary"]["runs"] == ["sim-9"]


def test_hub_record_writes_a_session_with_no_viewer_attached(tmp_path):
    proc, _, path = recording_hub(tmp_path, "--tag", "ci")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    with Session(path) as s:
        assert s.meta["closed"] and s.meta["tags"] == ["ci"] and s.meta["source"].startswith("hub")


@pytest.mark.parametrize("seed, first, burst", [(4, 600, 3000), (5, 2000, 300)])
def test_kill_9_of_a_recording_hub_leaves_its_file_and_no_keyframer(tmp_path, seed, first, burst):
    """The hub writes; a keyframer process folds behind it. kill -9 of the hub: the keyframer goes
    too (its requests end), and the file opens with every event flushed, its state right."""
    proc, ins, out = recording_hub(tmp_path)
    keyframers = keyframers_of(proc.pid)
    assert len(keyframers) == 1
    tee = Tee(ins)
    swarm = Swarm(SimConfig(agents=6, rate=500, seed=seed), tee)
    try:
        tee.run(swarm, first)
        flushed = len(tee.sent)
        wait_for(lambda: len(_recorded(out)) >= flushed, timeout=20, poll=0.02)
        tee.run(swarm, burst)
        tee.pub.close()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    wait_for(lambda: not running(keyframers), timeout=10, poll=0.05)
    with Session(out) as s:
        assert not s.meta["closed"]
        everything = s.events(0, len(s))
        state = s.state_at(len(s) - 1).to_dict()
    events = [e for e in everything if e.agent != "probe"]
    assert flushed <= len(events) <= len(tee.sent) and _prefix_per_agent(events, tee.sent)
    live = SwarmModel()
    live.apply_many(everything)
    assert state == live.to_dict()
    repair(out)  # and a proper end appended after it
    with Session(out) as s:
        assert s.meta["closed"] and s.summary()["events"] == len(everything)


def _script(run, failed=False, n=5, t0=0):
    events = [
        Event(
            t0 + k,
            f"{run}-agent",
            k,
            "hello" if k == 0 else "status",
            {"tags": {"run": run}} if k == 0 else {"status": "running"},
            1,
        )
        for k in range(n)
    ]
    if failed:
        events.append(
            Event(t0 + n, f"{run}-agent", n, "error", {"type": "E", "message": "boom"}, 1)
        )
    return events


def _give(recorder, events, messages):
    """As a viewer's feed gives them (decoded events), or as a hub does (kept messages)."""
    if messages:
        recorder.record_messages([kept_of(events)])
    else:
        recorder.record(events)


@pytest.mark.parametrize("messages", [False, True], ids=["events", "messages"])
def test_policies_keep_failed_split_by_run_and_rotate(tmp_path, messages):
    split = Recorder(tmp_path / "split", policy=RecordPolicy(split_by_run=True, keep="failed"))
    _give(split, _script("r1") + _script("r2", failed=True), messages)
    # one for both
    assert len(split.current) == 2 and len(keyframers_of(os.getpid())) == (1 if messages else 0)
    kept = split.close()
    assert not running(keyframers_of(os.getpid()))
    assert split.discarded == 1 and len(kept) == 1
    with Session(kept[0]) as s:
        assert s.meta["run"] == "r2" and s.meta["name"] == "r2" and len(s) == 6

    rotate = Recorder(tmp_path / "rot", policy=RecordPolicy(rotate_seconds=10))
    for k in range(5):
        _give(rotate, _script("r", n=3, t0=k * 4_000_000_000), messages)
    parts = rotate.close()
    assert len(parts) == 2
    with Session(parts[0]) as a, Session(parts[1]) as b:
        assert (a.meta["part"], b.meta["part"]) == (1, 2) and len(a) + len(b) == 15


@pytest.mark.parametrize("messages", [False, True], ids=["events", "messages"])
def test_sampling_is_per_session(tmp_path, messages):
    import random

    rec = Recorder(
        tmp_path, policy=RecordPolicy(sample=0.5, split_by_run=True), rng=random.Random(4)
    )
    for run in "abcdefghij":
        _give(rec, _script(run), messages)
    kept = rec.close()
    assert 0 < len(kept) < 10 and rec.skipped == 5 * (10 - len(kept))


def test_the_headless_demo_records_a_session_by_default(tmp_path, sessions_home):
    result = subprocess.run(
        [
            *CLI,
            "demo",
            "--headless",
            "--duration",
            "2",
            "--rate",
            "200",
            "--in",
            f"ipc://{tmp_path}/in",
            "--out",
            f"ipc://{tmp_path}/out",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (path,) = session_files(sessions_home / "sessions")
    assert str(path) in result.stderr
    with Session(path) as s:
        assert s.meta["closed"] and s.meta["tags"] == ["demo", "seed7"] and len(s) > 50
        recorded = len(s)
    final = result.stdout.strip().splitlines()[-1]  # the viewer, there from the first hello
    assert final.startswith(f"final: {recorded} events "), final
