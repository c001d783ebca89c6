"""Alerts out to a person: a command of the operator's (`--on-alert`) and a webhook
(`--alert-webhook`), each fed by a thread of its own from a bounded queue.

A hook that hangs or fails costs its own alerts, never the hub's: each run has a timeout
(the command's whole process group is killed), a full queue drops and counts, and every
outcome is counted by channel (`counts`), which /metrics shows. The webhook's body is the
alert's JSON, whose `text` field a Slack or Mattermost incoming webhook shows as is.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from swarmscope.core.errors import ConfigError

HOOK_TIMEOUT_S = 10.0
"""How long one run of the command, or one POST, may take before it is given up and counted."""
QUEUE = 100
"""Alerts waiting for a slow hook; past it, new ones are dropped and counted."""

Payload = dict[str, Any]


def check_webhook(url: str) -> str:
    """The URL, or ConfigError saying what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--alert-webhook {url}: an http:// or https:// URL, e.g. https://hooks.slack.com/..."
        )
    return url


class Hook:
    """One channel: a thread delivering alerts one at a time with `deliver`, counted in `counts`
    under `via` (sent, failed, dropped)."""

    def __init__(self, via: str, deliver: Callable[[bytes], str | None], counts: Counter) -> None:
        """`deliver(body)` returns None once delivered, else why not (a few words)."""
        self.via = via
        self._deliver = deliver
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUE)
        self.counts = counts
        self.last_failure = ""
        self._thread = threading.Thread(target=self._run, name=f"swarmscope-{via}", daemon=True)
        self._thread.start()

    def send(self, payload: Payload) -> None:
        try:
            self._queue.put_nowait(json.dumps(payload).encode())
        except queue.Full:
            self.counts[f"{self.via}.dropped"] += 1

    def close(self, timeout: float) -> None:
        """Deliver what waits, for up to `timeout` seconds."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            why = self._deliver(body)
            if why is None:
                self.counts[f"{self.via}.sent"] += 1
            else:
                self.counts[f"{self.via}.failed"] += 1
                self.last_failure = why


def run_command(command: str, timeout: float = HOOK_TIMEOUT_S) -> Callable[[bytes], str | None]:
    """Deliver by running `command` through the shell, the alert's JSON on its stdin."""

    def deliver(body: bytes) -> str | None:
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: a timeout kills what it started too
        )
        try:
            proc.communicate(body, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"timed out after {timeout:g} s"
        return None if proc.returncode == 0 else f"exit status {proc.returncode}"

    return deliver


def post_webhook(url: str, timeout: float = HOOK_TIMEOUT_S) -> Callable[[bytes], str | None]:
    """Deliver by POSTing the alert's JSON to `url`."""

    def deliver(body: bytes) -> str | None:
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read(65536)
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out, a bad answer
            return f"{type(exc).__name__}: {exc}"[:200]
        return None

    return deliver


class Hooks:
    """Every channel the operator asked for; `send` hands an alert to each."""

    def __init__(self, command: str | None = None, webhook: str | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self._hooks = []
        if command:
            self._hooks.append(Hook("command", run_command(command), self.counts))
        if webhook:
            self._hooks.append(Hook("webhook", post_webhook(check_webhook(webhook)), self.counts))

    def send(self, payload: Payload) -> None:
        for hook in self._hooks:
            hook.send(payload)

    @property
    def failures(self) -> dict[str, str]:
        """The last failure of each channel that had one."""
        return {h.via: h.last_failure for h in self._hooks if h.last_failure}

    def close(self, timeout: float = HOOK_TIMEOUT_S) -> None:
        for hook in self._hooks:
            hook.close(timeout)
