"""As a person would: `swarmscope demo` in a real terminal (tmux), typed at, read back, quit."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import wait_for
from terminal import Terminal

COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]")
"""An SGR code that sets a foreground or background colour."""

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.mark.parametrize(
    "size, env", [((80, 24), "NO_COLOR=1"), ((120, 35), ""), ((80, 24), "LANG=C TERM=vt100")]
)
def test_demo_in_a_real_terminal(tmp_path: Path, size, env):
    term = Terminal.running(
        tmp_path, f"demo --no-mouse --in ipc://{tmp_path}/in --out ipc://{tmp_path}/out", size, env
    )
    try:
        term.shows("LIVE")
        term.shows("12 agents")
        if "NO_COLOR" in env:  # no colour at all, not even greys: only weight and reverse video
            assert not COLOUR.search(term.screen(escapes=True))
        if "LANG=C" in env:  # what a vt100 can show: ASCII, bars and borders included
            assert term.screen().isascii(), term.screen()
        term.keys("?")
        term.shows("swarmscope keys")
        if "LANG=C" in env:
            assert term.screen().isascii(), term.screen()
        term.shows("ctrl+p")  # the last key of the help, in sight without scrolling
        term.keys("Escape")
        wait_for(lambda: "swarmscope keys" not in term.screen(), timeout=10, poll=0.1)
        term.keys("/")
        term.shows("filter agents")
        term.keys(*"role:coder")
        term.shows("role:coder")
        term.keys("Enter")
        wait_for(lambda: "researcher-" not in term.screen().split("Tasks")[0], timeout=10, poll=0.1)
        assert "coder-" in term.screen()
        term.shows("q Quit")  # the box has closed: a q typed sooner would go into it
        term.quits_cleanly()
    finally:
        term.close()


def test_record_a_demo_then_replay_it_in_a_real_terminal(tmp_path: Path):
    sessions = tmp_path / "sessions"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmscope.tui.cli",
            "demo",
            "--headless",
            "--duration",
            "2",
            "--agents",
            "6",
            "--in",
            f"ipc://{tmp_path}/in",
            "--out",
            f"ipc://{tmp_path}/out",
            "--dir",
            str(sessions),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    term = Terminal.running(tmp_path, f"replay --dir {sessions} --no-mouse")
    try:
        term.shows("SESSIONS")
        term.shows(" demo ")  # the session's name
        term.keys("Enter")
        term.shows("REPLAY")
        term.shows("event 1 of")
        term.keys("End")
        wait_for(lambda: "event 1 of" not in term.screen(), timeout=10, poll=0.1)
        at, of = re.search(
            r"event ([\d,]+) of ([\d,]+) · \d\d:", term.screen()
        ).groups()  # the timeline's label
        assert at == of  # at the last event
        term.keys("Home", "Right", "Right")
        term.shows("event 3 of")
        term.keys("Space")
        term.shows("▶")
        term.quits_cleanly()
    finally:
        term.close()


def test_a_closed_terminal_ends_the_demo_instead_of_leaving_it_spinning(tmp_path: Path):
    pid_file = tmp_path / "pid"
    command = (
        f"echo $$ > {pid_file}; exec {sys.executable} -m swarmscope.tui.cli demo --no-record "
        f"--in ipc://{tmp_path}/in --out ipc://{tmp_path}/out"
    )
    term = Terminal(tmp_path / "tmux", f"ss-test-{os.getpid()}-hup", command, 100, 30)
    try:
        term.shows("LIVE")
        pid = int(pid_file.read_text())
    finally:
        term.close()  # the terminal goes away: the process gets SIGHUP

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0

    wait_for(gone, timeout=20, poll=0.1)


def test_watch_with_record_rewinds_and_comes_back_live(tmp_path: Path):
    swarm = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarmscope.tui.cli",
            "demo",
            "--headless",
            "--no-record",
            "--duration",
            "60",
            "--agents",
            "6",
            "--in",
            f"ipc://{tmp_path}/in",
            "--out",
            f"ipc://{tmp_path}/out",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sessions = tmp_path / "sessions"
    term = Terminal.running(
        tmp_path, f"watch --connect ipc://{tmp_path}/out --record --dir {sessions} --no-mouse"
    )
    try:
        term.shows("REC")
        term.shows("planner-00")

        def rewound() -> bool:  # a recorder that joined late starts its file within JOIN_HOLD_S
            term.keys("r")
            return "REPLAY" in term.screen() or (time.sleep(0.3) or "REPLAY" in term.screen())

        wait_for(rewound, timeout=20)
        term.shows("live")  # "… behind live" or "at live"
        term.keys("l")
        term.shows("LIVE")
        term.quits_cleanly()
        assert list(sessions.glob("*.swarm"))
    finally:
        term.close()
        swarm.terminate()
        swarm.wait(10)
