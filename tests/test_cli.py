"""The `swarmscope` command as a user meets it: real subprocesses, real signals."""

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers import wait_for

from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.hub import Hub
from swarmscope.core.sdk.emitter import Emitter

CLI = [sys.executable, "-m", "swarmscope.tui.cli"]


def lines_of(pipe, timeout: float = 30) -> Iterator[str]:
    """A process's lines as it says them; AssertionError if the next takes over `timeout` s."""
    buffer = b""
    while True:
        while b"\n" not in buffer:
            ready, _, _ = select.select([pipe], [], [], timeout)
            assert ready, f"nothing more said within {timeout} s (so far: {buffer!r})"
            chunk = os.read(pipe.fileno(), 4096)
            if not chunk:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        yield line.decode()


def run(*args, timeout=60):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "args, says",
    [
        (["hub", "--in", "localhost:7770"], "is not a ZeroMQ address"),
        (["hub", "--stats-every", "0"], "must be above zero"),
        (["hub", "--out", "tcp://127.0.0.1:99999"], "a TCP port is 1 to 65535, not 99999"),
        (["demo", "--agents", "many"], "is not a whole number"),
        (["demo", "--headless", "--rate", "-5"], "must be above zero"),
        (["nonsense"], "invalid choice"),
        (["bench", "--only", "everything"], "invalid choice"),
    ],
)
def test_a_bad_argument_gets_one_line_and_no_traceback(args, says):
    result = run(*args)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "endpoints, says",
    [
        (
            ("ipc://{tmp}/same", "ipc://{tmp}/same"),
            "cannot bind --out ipc://{tmp}/same: --in is there",
        ),
        (
            ("tcp://192.0.2.1:7790", "ipc://{tmp}/out"),
            "no network interface of this machine has that",
        ),
    ],
)
def test_a_hub_that_cannot_bind_says_why_not_only_another_hub(tmp_path, endpoints, says):
    ins, out = (e.format(tmp=tmp_path) for e in endpoints)
    result = run("hub", "--in", ins, "--out", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if "cannot bind" in line]
    assert says.format(tmp=tmp_path) in error and "another hub" not in error


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("swarmscope 0.")


def test_help_for_every_command():
    for command in ([], ["hub"], ["demo"], ["bench"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: swarmscope" in result.stdout


def test_bench_runs_each_section_in_its_own_process_and_gives_its_figures_as_json():
    result = run("bench", "--quick", "--only", "emit", "--only", "e2e", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["emit"]["emit_ns"] > 0 and figures["emit"]["pack_ns"] > 0
    e2e = figures["e2e"]  # under load some may be lost, but each one lost is counted
    assert (
        e2e["delivered"] > 0
        and e2e["delivered"] + e2e["gaps"] == 100_002
        and e2e["unaccounted"] == 0
    )


def test_a_taken_address_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("hub", "--in", f"tcp://127.0.0.1:{port}", "--out", f"ipc://{tmp_path}/out")
    assert result.returncode == 1
    assert "cannot bind" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_hub_runs_and_stops_cleanly_on_a_signal(tmp_path, sig):
    ins, outs = f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out"
    hub = subprocess.Popen(
        [*CLI, "hub", "--in", ins, "--out", outs, "--stats-every", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with Feed(outs) as feed, Emitter("a", ins, heartbeat=60) as em:

            def through():
                em.status("running")
                return any(e.agent == "a" for e in feed.poll(20))

            wait_for(through, timeout=30)
        hub.send_signal(sig)
        out, err = hub.communicate(timeout=30)
    finally:
        hub.kill()
    assert hub.returncode == 0, err
    assert "stopped:" in out and "events in" in out and "Traceback" not in err


def test_demo_headless_runs_for_its_duration_and_reports(tmp_path):
    result = run(
        "demo",
        "--headless",
        "--duration",
        "2",
        "--agents",
        "6",
        "--rate",
        "100",
        "--in",
        f"ipc://{tmp_path}/in",
        "--out",
        f"ipc://{tmp_path}/out",
    )
    assert result.returncode == 0, result.stderr
    final = result.stdout.strip().splitlines()[-1]
    assert final.startswith("final:") and " 6 agents" in final and "0 lost, 0 refused" in final


def test_a_recording_that_cannot_be_written_is_said_before_it_starts(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("where the folder would go")
    result = run(
        "record", "--connect", f"ipc://{tmp_path}/out", "--out", str(blocker / "run.swarm")
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"cannot record into {blocker}" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_a_recorder_says_it_waits_for_its_hub_and_when_the_hub_comes_and_goes(tmp_path):
    ins, outs = f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out"
    record = subprocess.Popen(
        [*CLI, "record", "--connect", outs, "--dir", str(tmp_path / "sessions")],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    said = lines_of(record.stderr)
    try:
        assert "waiting for a hub there" in next(said)
        with Hub(ins, outs):
            assert f"the hub at {outs} is there: recording" in next(said)
        assert f"the hub at {outs} went away: waiting for it to come back" in next(said)
        record.send_signal(signal.SIGINT)
        record.communicate(timeout=30)
    finally:
        record.kill()
    assert record.returncode == 0
