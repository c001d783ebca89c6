"""The embedded default: a hub and a simulated swarm publishing to it, in this process.

`swarmscope demo` (with or without the UI) is this plus a viewer. Everything
goes over real sockets, so what the demo shows is what a real swarm would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from swarmscope.core.errors import ConfigError
from swarmscope.core.hub.hub import Hub
from swarmscope.core.live.sim import SimConfig, Swarm, run_paced
from swarmscope.core.ops.watch import HubWatch
from swarmscope.core.ops.watcher import WatchSettings
from swarmscope.core.sdk.publisher import Publisher
from swarmscope.core.wire.endpoints import DEFAULT_IN, DEFAULT_OUT


class Demo:
    """Starts a hub (unless one is given by address) and a paced simulated swarm on a thread."""

    def __init__(
        self,
        cfg: SimConfig,
        in_endpoint: str = DEFAULT_IN,
        out_endpoint: str = DEFAULT_OUT,
        *,
        embedded_hub: bool = True,
        duration: float | None = None,
        history: str | None = None,
        drive: Callable[[str, Callable[[], bool]], None] | None = None,
        watch: WatchSettings | None = None,
    ) -> None:
        """`history`: where the embedded hub answers late joiners (see Hub); `drive`: what runs
        instead of the simulated swarm (a framework's scripted workflow: drive(endpoint, stop)
        publishes until stop() holds); `watch`: the embedded hub's metrics and alerts
        (core/ops/watch.py), started with it."""
        self.cfg = cfg
        self.in_endpoint, self.out_endpoint = in_endpoint, out_endpoint
        self.hub = Hub(in_endpoint, out_endpoint, history=history) if embedded_hub else None
        self._watch_settings = watch
        self.watch: HubWatch | None = None
        self.duration = duration
        self._drive_instead = drive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure = ""
        """Why a framework's workflow stopped before it was told to, if it did."""
        self.finished = threading.Event()
        """Set when the swarm has run for `duration` (or was stopped)."""
        self.before_swarm: Callable[[], object] = lambda: None
        """Called once the hub is up and before any agent says hello: a viewer that
        must see every agent from its first event waits for its connection here."""

    def start(self) -> Demo:
        if self.hub:
            self.hub.start()
            if self._watch_settings is not None and self._watch_settings.wanted:
                try:
                    self.watch = HubWatch(self.hub, self._watch_settings).start()
                except ConfigError:
                    self.hub.stop()
                    raise
        self.before_swarm()
        self._publisher = Publisher(self.in_endpoint, queue_size=200_000)
        self._thread = threading.Thread(target=self._drive, name="swarmscope-sim", daemon=True)
        self._thread.start()
        return self

    def _drive(self) -> None:
        if self._drive_instead is not None:
            self._drive_other(self._drive_instead)
            return
        swarm = Swarm(self.cfg, self._publisher, start_ns=time.time_ns())
        try:
            run_paced(swarm, self._stop.is_set, self.duration)
        finally:
            swarm.close()
            self.finished.set()

    def _drive_other(self, drive: Callable[[str, Callable[[], bool]], None]) -> None:
        """A framework's workflow until stopped, or for `duration`."""
        ends = time.monotonic() + self.duration if self.duration else None
        try:
            drive(
                self.in_endpoint,
                lambda: self._stop.is_set() or (ends is not None and time.monotonic() >= ends),
            )
        except Exception as exc:  # noqa: BLE001 - said in one line by whoever runs the demo
            self.failure = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self.finished.set()

    def stop(self) -> None:
        """Stop the swarm (agents say bye), flush, then stop the hub."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
            self._publisher.close()
        if self.watch:
            self.watch.stop()
        if self.hub:
            self.hub.stop()

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
