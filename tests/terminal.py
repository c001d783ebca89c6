"""A real terminal for tests: a tmux session on a tmux server of its own."""

import os
import subprocess
import sys
from pathlib import Path

from helpers import wait_for


class Terminal:
    """One tmux session on a tmux server of its own, whose socket is in the test's tmp dir.

    Not the user's default server (/tmp/tmux-UID/default), shared by every run and every test: a
    session takes its environment from its server, so on a server started elsewhere the command
    would not get this test's $SWARMSCOPE_HOME (see conftest) and a demo would record into
    someone else's folder. No config file either (-f /dev/null): the user's would apply."""

    def __init__(self, socket: Path, name: str, command: str, width: int, height: int) -> None:
        self.tmux = ["tmux", "-f", "/dev/null", "-S", str(socket)]
        self.name = name
        size = ["-x", str(width), "-y", str(height)]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", name, *size, command], check=True)

    def screen(self, escapes: bool = False) -> str:
        """What the terminal shows; with `escapes`, with the escape codes that style it."""
        styled = ["-e"] if escapes else []
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", *styled, "-t", self.name],
            capture_output=True,
            text=True,
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def shows(self, text: str, timeout: float = 60) -> None:
        try:
            wait_for(lambda: text in self.screen(), timeout=timeout, poll=0.1)
        except AssertionError:
            raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen()}") from None

    @classmethod
    def running(
        cls, tmp_path: Path, args: str, size: tuple[int, int] = (100, 30), env: str = ""
    ) -> "Terminal":
        """`swarmscope ARGS` in a fresh terminal; its exit status lands in a file when it ends."""
        exit_file = tmp_path / "exit"
        command = (
            f"env {env} {sys.executable} -m swarmscope.tui.cli {args}; "
            f"echo $? > {exit_file}; sleep 60"
        )
        term = cls(tmp_path / "tmux", f"ss-test-{os.getpid()}-{tmp_path.name}", command, *size)
        term.exit_file = exit_file
        return term

    def quits_cleanly(self) -> None:
        """q, then the command must end with status 0."""
        self.keys("q")
        wait_for(
            lambda: self.exit_file.exists() and self.exit_file.read_text().strip() != "",
            timeout=30,
            poll=0.1,
        )
        assert self.exit_file.read_text().strip() == "0"

    def close(self) -> None:
        """The terminal goes away: its server with it, and the command gets SIGHUP."""
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
