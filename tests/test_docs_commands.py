"""Every command README.md and docs/ show, run as written, on a machine that has run the demo once.

A reader pastes them: a command that names a session, a file or an agent that is not there fails
them. Each shell block runs from a fresh folder with its own $SWARMSCOPE_HOME, where
`swarmscope demo` has run and the README's agent snippet is saved as agent.py (as the README
says). A command that runs until stopped (a hub, a screen, a benchmark) passes if it starts: it
draws or prints, and has not failed 2 s later; it is then stopped. Every other command must end
with status 0 and no traceback. The README's two set-up lines, which make a venv, are what CI
runs before the tests (.ci/run), so they are not run again here.
"""

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import wait_for
from terminal import Terminal

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.M | re.S)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
RUNS_UNTIL_STOPPED = re.compile(r"^swarmscope (demo|hub|watch|record|replay|bench|serve)\b")
SETS_ENV = re.compile(r"^(export \w+=|\w+=\S)")
HEREDOC = re.compile(r"<<'?(\w+)'?")
TERMINALS = itertools.count()
"""A tmux server each: one that is going away cannot take a new session."""


@dataclass
class Command:
    where: str
    text: str
    env: list[str]
    """The block's earlier `export X=...` and `X=...` lines, run first."""

    @property
    def runs_until_stopped(self) -> bool:
        return bool(RUNS_UNTIL_STOPPED.match(self.text))


def commands_of(block: str, where: str) -> list[Command]:
    """The block's commands: one per line, a here-document with the line that starts it."""
    out: list[Command] = []
    env: list[str] = []
    lines = iter(block.splitlines())
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        heredoc = HEREDOC.search(text)
        if heredoc:
            body = []
            for more in lines:
                body.append(more)
                if more.strip() == heredoc[1]:
                    break
            text = "\n".join([text, *body])
        out.append(Command(where, text, list(env)))
        if SETS_ENV.match(text):
            env.append(text)
    return out


def documented() -> list[Command]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in SHELL_BLOCK.finditer(text):
            line = text.count("\n", 0, block.start()) + 2
            where = f"{doc.relative_to(ROOT)}:{line}"
            if "pip install" not in block[1]:
                found.extend(commands_of(block[1], where))
    return found


COMMANDS = documented()


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A home where the demo has run, and the environment a reader's shell would have."""
    base = tmp_path_factory.mktemp("after-the-demo")
    env = {
        **os.environ,
        "SWARMSCOPE_HOME": str(base / "home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    ipc = f"ipc://{base}/demo"
    demo = ["swarmscope", "demo", "--headless", "--duration", "3", "--in", ipc + "-in"]
    ran = subprocess.run(
        [*demo, "--out", ipc + "-out"], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    agent = PYTHON_BLOCK.search((ROOT / "README.md").read_text())[1]
    return {"base": base, "env": env, "agent": agent, "blocks": {}}


def workdir(machine: dict, where: str) -> Path:
    """The folder a block's commands run from, one after another as a reader would paste them:
    made with the README's agent.py for the first (a short path: a tmux socket goes in it)."""
    blocks = machine["blocks"]
    work = blocks.setdefault(where, machine["base"] / f"block{len(blocks)}")
    if not work.exists():
        work.mkdir()
        (work / "agent.py").write_text(machine["agent"])
    return work


def test_the_docs_show_commands_to_run():
    assert len(COMMANDS) > 20
    assert not [c for c in COMMANDS if re.search(r"<[A-Za-z_]+>", c.text)], "placeholders"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.where} {c.text.split()[0:3]}")
def test_a_documented_command_runs_as_written(machine, command: Command):
    work = workdir(machine, command.where)
    script = "\n".join(["set -e", *command.env, command.text])
    if command.runs_until_stopped:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed")
        starts(machine, work, script)
        return
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=machine["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0 and "Traceback" not in said, said


def starts(machine: dict, work: Path, script: str) -> None:
    """Run `script` in a real terminal until it shows something (20 s at most: `bench --json`
    says nothing until its end), then 2 s more: it must still run, or have ended well."""
    exit_file = work / "exit"
    exit_file.unlink(missing_ok=True)
    env = machine["env"]
    setup = [f"export {k}={shlex.quote(env[k])}" for k in ("SWARMSCOPE_HOME", "PATH")]
    inner = "; ".join([*setup, f"cd {shlex.quote(str(work))}", f"bash -c {shlex.quote(script)}"])
    shell = f"bash -c {shlex.quote(inner)}; echo $? > {exit_file}; sleep 60"
    term = Terminal(work / f"tmux{next(TERMINALS)}", "doc", shell, 100, 30)
    try:
        try:
            wait_for(lambda: term.screen().strip() or exit_file.exists(), timeout=20, poll=0.1)
        except AssertionError:
            pass  # quiet so far, and running
        try:
            wait_for(exit_file.exists, timeout=2, poll=0.1)
        except AssertionError:
            return  # still running: it started
        assert exit_file.read_text().strip() == "0", term.screen()
    finally:
        term.close()
