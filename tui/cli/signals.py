"""Turning SIGINT, SIGTERM and SIGHUP into a clean stop for long-running commands."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An Event set by SIGINT, SIGTERM or SIGHUP (a closed terminal must not leave a hub
    spinning)."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    return stop
