"""`swarmscope serve` in a real browser: headless Chromium, driven over the DevTools protocol.

One hub with a seeded simulated swarm (`swarmscope demo --headless`), one `swarmscope serve` of the
live view, one Chromium: started once for the module, since each takes a second or two. The page
is xterm.js drawing on a canvas, so the screen's text is read from xterm's own buffer: a script
that runs before the page's keeps the terminal textual-serve makes (it is not on `window`).
SWARMSCOPE_SCREENSHOTS=1 saves the page as screenshots/serve-browser.png.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers import wait_for

from swarmscope.core.live.sim import ROLES

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "swarmscope.tui.cli"]
AGENTS = [f"{ROLES[i % len(ROLES)]}-{i:02d}" for i in range(12)]
"""The ids the simulated swarm gives its twelve agents (the demo's default)."""
SCREENSHOT = ROOT / "screenshots" / "serve-browser.png"
WINDOW = (1280, 720)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active) window.xterm = value;
  },
});
"""
"""Runs before textual-serve's script: the first `this.terminal = new Terminal(...)` lands here."""
SCREEN_TEXT = """(() => {
  const t = window.xterm;
  if (!t) return null;
  const b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.viewportY + y).translateToString(true));
  return rows.join("\\n");
})()"""
KEYS = {"?": ("Slash", 191), "Escape": ("Escape", 27)}
"""What Chromium needs to type each key the tests press: its code and Windows key code."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_pair() -> int:
    """A free loopback port whose next is free too: a recording hub answers late joiners on its
    viewer side's port + 1."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def stderr_lines(proc: subprocess.Popen, count: int, timeout: float = 20) -> list[str]:
    """The first `count` lines a process says on stderr, waiting at most `timeout` for them."""
    deadline, said = time.monotonic() + timeout, b""
    while said.count(b"\n") < count:
        ready, _, _ = select.select([proc.stderr], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(proc.stderr.fileno(), 4096) if ready else b""
        assert chunk, f"said only {said!r}"
        said += chunk
    return said.decode().splitlines()[:count]


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    """A subprocess in a process group of its own, so that it and whatever it starts can be
    stopped together."""
    return subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def serving(port: int, *args: str) -> subprocess.Popen:
    """`swarmscope serve --port PORT ARGS`, once it takes connections."""
    proc = start(*CLI, "serve", "--port", str(port), *args)

    def listening() -> bool:
        assert proc.poll() is None, proc.stderr.read().decode()
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for(listening, timeout=20, poll=0.05)
    except BaseException:
        stop(proc)
        raise
    return proc


class Browser:
    """Headless Chromium and one page of it, driven over the DevTools protocol (a websocket of
    JSON calls), each call run to its answer on a loop of the browser's own."""

    def __init__(self, profile: Path) -> None:
        self.proc = start(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        )
        active = profile / "DevToolsActivePort"  # its port, once it listens
        self.loop = asyncio.new_event_loop()
        self.ids = iter(range(1, 1_000_000))
        try:
            wait_for(lambda: active.exists() and "\n" in active.read_text(), timeout=20)
            self.http, self.ws = self.loop.run_until_complete(self._connect(active.read_text()))
        except BaseException:
            self.loop.close()
            stop(self.proc)
            raise

    async def _connect(self, active: str) -> tuple[aiohttp.ClientSession, Any]:
        http = aiohttp.ClientSession()
        async with http.get(f"http://127.0.0.1:{active.split()[0]}/json/list") as answer:
            page = next(t for t in await answer.json() if t["type"] == "page")
        return http, await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    def call(self, method: str, **params: Any) -> dict:
        """One DevTools call's result (events that arrive meanwhile are passed over)."""
        return self.loop.run_until_complete(asyncio.wait_for(self._call(method, params), 20))

    async def _call(self, method: str, params: dict) -> dict:
        n = next(self.ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive()).data)
            if message.get("id") == n:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The expression's value (None for undefined); AssertionError if it throws."""
        done = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in done, done["exceptionDetails"]
        return done["result"].get("value")

    def wait_for_screen(self, condition, timeout: float = 20) -> str:
        """The screen's text once condition(text) holds, polled until `timeout`; else what the
        screen showed last (None: the page made no terminal that the script could keep)."""
        shown: list = [None]

        def holds() -> bool:
            shown[0] = self.evaluate(SCREEN_TEXT)
            return shown[0] is not None and condition(shown[0])

        try:
            wait_for(holds, timeout=timeout, poll=0.1)
        except AssertionError:
            raise AssertionError(f"the page showed, after {timeout} s:\n{shown[0]}") from None
        return shown[0]

    def press(self, key: str) -> None:
        code, number = KEYS[key]
        text = key if len(key) == 1 else ""
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                text=text if kind == "keyDown" else "",
                windowsVirtualKeyCode=number,
            )

    def close(self) -> None:
        self.loop.run_until_complete(self.ws.close())
        self.loop.run_until_complete(self.http.close())
        self.loop.close()
        stop(self.proc)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """The served live view of a simulated swarm, open in Chromium."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs Debian's chromium)")
    base = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "SWARMSCOPE_HOME": str(base / "home")}
    ins, out = f"ipc://{base}/in", f"tcp://127.0.0.1:{free_pair()}"  # the header shows out
    with ExitStack() as stack:
        stack.callback(stop, start(*CLI, "demo", "--headless", "--in", ins, "--out", out, env=env))
        server = serving(free_port(), "watch", "--connect", out)
        stack.callback(stop, server)
        url = re.search(r"http://\S+", stderr_lines(server, 1)[0])[0]
        browser = Browser(base / "chromium")
        stack.callback(browser.close)
        browser.call("Page.enable")  # else the script below is not run
        width, height = WINDOW
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.call("Page.addScriptToEvaluateOnNewDocument", source=KEEP_TERMINAL)
        browser.call("Page.navigate", url=url)
        yield browser


def test_the_page_shows_the_live_grid_of_agents(page: Browser):
    text = page.wait_for_screen(lambda t: all(a in t for a in AGENTS))
    assert "LIVE" in text.splitlines()[0]
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("SWARMSCOPE_SCREENSHOTS"):
        SCREENSHOT.write_bytes(shot)


def test_a_key_pressed_in_the_browser_reaches_the_view(page: Browser):
    page.wait_for_screen(lambda t: AGENTS[0] in t)
    page.evaluate("window.xterm.focus()")
    page.press("?")
    page.wait_for_screen(lambda t: "swarmscope keys" in t)
    page.press("Escape")
    page.wait_for_screen(lambda t: "swarmscope keys" not in t and AGENTS[0] in t)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = one_line(run("serve", "--port", str(port)))
    assert said == (
        f"swarmscope serve: cannot listen on 127.0.0.1:{port}: another server listens there; "
        "give another --port"
    )


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_port_that_is_no_port_is_one_line(port: str):
    assert "a TCP port is a number from 1 to 65535" in one_line(run("serve", "--port", port))


@pytest.mark.parametrize(
    "view, says",
    [
        (["watch", "--bogus"], "`swarmscope watch` takes no --bogus"),
        (["watch", "--connect", "nope"], "swarmscope watch: argument --connect: endpoint 'nope'"),
        (["replay", "nosuch"], "no session 'nosuch'"),
    ],
)
def test_the_views_arguments_are_checked_before_serving(view: list[str], says: str):
    assert says in one_line(run("serve", *view))


def test_without_textual_serve_it_says_what_to_install():
    blocked = (
        "import sys; sys.modules['textual_serve'] = None; from swarmscope.tui.cli import main; "
        "sys.exit(main(['serve']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, timeout=60
    )
    assert "pip install 'swarmscope[serve]'" in one_line(result)


def test_another_host_is_warned_of_and_sigterm_stops_the_server_and_its_views():
    """Bound to every interface it warns; the view it runs for an open websocket ends with it."""
    port = free_port()
    server = serving(port, "--host", "0.0.0.0", "watch", "--connect", "ipc:///nonexistent/out")
    try:
        warning, serves = stderr_lines(server, 2)
        assert warning.startswith(f"swarmscope serve: warning: 0.0.0.0:{port} is reachable")
        assert f":{port} shows `swarmscope watch --connect" in serves
        assert asyncio.run(stop_while_viewed(server, f"ws://127.0.0.1:{port}/ws")) == 0
        wait_for(lambda: not group_alive(server.pid), timeout=20, poll=0.05)
    finally:
        stop(server)


async def stop_while_viewed(server: subprocess.Popen, url: str) -> int:
    """Open a view the way a browser does; once it has drawn, SIGTERM the server: its status."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        while (await asyncio.wait_for(ws.receive(), 20)).type != aiohttp.WSMsgType.BINARY:
            pass
        server.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):  # aiohttp alone would wait a minute for the page
            async for _ in ws:  # until the server closes the page (a browser answers its close)
                pass
        return await asyncio.to_thread(server.wait, 10)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
