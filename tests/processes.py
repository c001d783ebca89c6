"""Real processes for tests: the `swarmscope` command, probes that prove a path is up end to end,
and the processes a recorder leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import wait_for

from swarmscope.core.replay.session import Session
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.session.store import session_files

CLI = [sys.executable, "-m", "swarmscope.tui.cli"]


def sessions_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    """`swarmscope sessions ARGS` as a user runs it, with $SWARMSCOPE_HOME at `home`."""
    return subprocess.run(
        [*CLI, "sessions", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SWARMSCOPE_HOME": str(home)},
    )


def probe_until_recorded(endpoint, path):
    """Emit probes until a new one is on disk: the whole path hub -> recorder -> file is up, and
    whatever the hub passed before has reached the recorder."""
    before = len(probe_events(path)) if path.exists() else 0
    probe = Emitter("probe", endpoint, heartbeat=60)

    def on_disk():
        probe.emit("probe")
        return path.exists() and len(probe_events(path)) > before

    wait_for(on_disk, timeout=20, poll=0.05)
    probe.close()


def probe_events(path):
    try:
        with Session(path) as s:
            return [e for e in s.events(0, len(s)) if e.agent == "probe"]
    except Exception:
        return []


def recording_hub(tmp_path, *options):
    """A `swarmscope hub --record` subprocess, once its session file holds a probe: (process, in
    endpoint, file)."""
    ins, home = f"ipc://{tmp_path}/in", tmp_path / "home"
    proc = subprocess.Popen(
        [
            *CLI,
            "hub",
            "--in",
            ins,
            "--out",
            f"ipc://{tmp_path}/out",
            "--record",
            "--stats-every",
            "3600",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SWARMSCOPE_HOME": str(home)},
    )
    probe = Emitter("probe", ins, heartbeat=60)

    def recorded():
        probe.emit("probe")
        files = session_files(home / "sessions")
        return bool(files) and bool(probe_events(files[0]))

    try:
        wait_for(recorded, timeout=20, poll=0.05)
    except BaseException:
        proc.kill()
        raise
    finally:
        probe.close()
    return proc, ins, session_files(home / "sessions")[0]


def keyframers_of(pid):
    """The keyframer processes `pid` started."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text() if proc.name.isdigit() else ""
            if (
                stat
                and int(stat.rsplit(")", 1)[1].split()[1]) == pid
                and b"swarmscope.core.session.keyframer" in (proc / "cmdline").read_bytes()
            ):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def running(pids):
    """Those of `pids` still running (not exited, nor exited and waiting to be reaped)."""

    def running(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    return [pid for pid in pids if running(pid)]
