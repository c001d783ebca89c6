"""The hub's own watch on the swarm: Prometheus metrics, /healthz and /readyz, and alerts, in a
process of their own.

Folding every event into a model costs a viewer's CPU; inside the hub's process it would also
take the interpreter lock from the thread that moves messages off the proxy. So the hub serves
its feed once more, on a private ipc endpoint, through one more ZeroMQ proxy in C (forward.py,
`serve`), and a child process reads it as any viewer would: decodes, folds (a LiveSource),
judges alerts each TICK_S, runs the hooks (hooks.py) and answers HTTP. Should it fall behind,
ZeroMQ drops for it alone and its model counts the loss (`swarmscope_view_events_lost_total`);
the hub, its viewers and its recorder never wait for it.

The hub's process sends its counters down a pipe every STATS_S (HubWatch). The child ends when
that pipe closes, so it never outlives its hub; /healthz says 503 once the counters stop coming.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from swarmscope.core.errors import ConfigError
from swarmscope.core.hub.forward import Forwarder
from swarmscope.core.hub.hub import Hub
from swarmscope.core.ops.watcher import STATS_S, Watcher, WatchSettings

START_S = 30.0
"""How long the hub waits for its watch process to start (imports, binding) before giving up."""


class HubWatch:
    """The hub's side: serve the feed privately, start the watch process, feed it counters."""

    def __init__(self, hub: Hub, settings: WatchSettings) -> None:
        self._hub = hub
        self.settings = settings
        self._dir = tempfile.TemporaryDirectory(prefix="swarmscope-watch-")
        Path(self._dir.name).chmod(0o700)
        self._feed = f"ipc://{self._dir.name}/feed"
        self._bridge = Forwarder(hub.inproc_out, self._feed, hub.context, serve=True)
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child, args=(self._feed, child, settings), name="swarmscope-watch", daemon=True
        )
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send, name="swarmscope-watch", daemon=True)
        self.address: str | None = None

    def start(self) -> HubWatch:
        """Start it; ConfigError (one line) if it cannot serve where it was asked to."""
        self._bridge.start()
        self._proc.start()
        if not self._conn.poll(START_S):
            self.stop()
            raise ConfigError("the hub's metrics process did not start; see its error above")
        said, what = self._conn.recv()
        if said == "error":
            self.stop()
            raise ConfigError(what)
        self.address = what
        self._sender.start()
        return self

    def stop(self) -> None:
        """Stop the child (what its hooks still hold is delivered first, within their timeout)."""
        self._stop.set()
        if self._sender.is_alive():
            self._sender.join(5)
        self._conn.close()  # the child's cue to stop
        self._proc.join(15)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._bridge.stop()
        self._dir.cleanup()

    def _send(self) -> None:
        while True:
            try:
                self._conn.send(hub_counters(self._hub))
            except (OSError, EOFError):
                return  # the child is gone: /healthz can no longer say anything
            if self._stop.wait(STATS_S):
                return


def hub_counters(hub: Hub) -> dict[str, Any]:
    """What the watch reports of the hub itself (totals only: per-agent tables stay home)."""
    hub.count_passed()
    stats = hub.stats
    recording = hub.records
    return {
        "gaps": sum(stats.gaps.values()),
        "dropped_events": sum(stats.intake.dropped_events.values()),
        "refused": dict(stats.decode.refused),
        "publishers": stats.publishers,
        "viewers": stats.viewers,
        "lag": stats.intake.waiting + stats.behind if recording else None,
        "proxying": hub.proxying,
        "failures": stats.failures,
    }


# -- the child ----------------------------------------------------------------------------------


def _child(feed: str, conn: Connection, settings: WatchSettings) -> None:
    """The watch process: stops when the hub's end of `conn` closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c is the hub's to handle: it stops us
    try:
        watcher = Watcher(feed, settings)
    except ConfigError as exc:
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", watcher.address))
    try:
        while True:
            watcher.hub_counters(conn.recv())
    except (EOFError, OSError):
        pass
    watcher.close()
