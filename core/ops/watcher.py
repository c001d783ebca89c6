"""What runs in the hub's watch process (watch.py): the swarm folded as a viewer folds it, alerts
judged on a clock, and HTTP for Prometheus and orchestrators.

- `/metrics`: the swarm (metrics.py) and the task-duration histogram, in the format the scraper
  asks for (Prometheus text, or OpenMetrics).
- `/healthz`: 200 while the hub's process sends its counters (it is alive and its threads run).
- `/readyz`: 200 once, besides, the hub proxies and this watch is subscribed to its feed: agents'
  events flow and are counted.

Health is judged on this host's clock from when each agent was last heard (as a live view does,
so an agent on a host whose clock is off is judged fairly). An agent that said bye, or has been
silent past FAILED, is forgotten `retention_s` after it was last heard: series do not grow without
end on a hub that runs for months.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import choose_encoder

from swarmscope.core.errors import ConfigError
from swarmscope.core.events import Event
from swarmscope.core.live.source import LiveSource
from swarmscope.core.model.health import Health
from swarmscope.core.ops.alerts import REASONS, AgentAlerts, Alert, ErrorRate
from swarmscope.core.ops.hooks import Hooks
from swarmscope.core.ops.metrics import TASK_BUCKETS, AgentRow, Snapshot, SwarmCollector
from swarmscope.core.wire.http import BoundedHTTPServer, QuietHandler

STATS_S = 1.0
"""How often the hub's process sends its counters to the watch."""
TICK_S = 0.5
"""How often alerts are judged and retention applied: a silent agent is seen CRITICAL this soon."""
DEFAULT_RETENTION_S = 300.0


@dataclass(frozen=True)
class WatchSettings:
    """What `swarmscope hub` was asked for."""

    metrics: str | None = None
    """HOST:PORT to serve /metrics, /healthz and /readyz on; None for none."""
    retention_s: float = DEFAULT_RETENTION_S
    on_alert: str | None = None
    webhook: str | None = None
    error_rate: float | None = None
    hub: str = ""
    """What alerts name as their hub (its agent side)."""
    say: bool = True
    """Print each alert on stderr (not under a screen that shows them itself)."""

    @property
    def wanted(self) -> bool:
        return bool(self.metrics or self.on_alert or self.webhook or self.error_rate)


MAX_TASK_NAMES = 200
"""Task names the histogram tells apart; the rest count together as OTHER_TASKS (a name is any
string an agent sends: a new series each must not grow the hub's metrics without end)."""
OTHER_TASKS = "(other tasks)"
GONE = (Health.STOPPED, Health.FAILED)
"""Agents retention may forget: said bye, or silent for good."""


class _Folding(LiveSource):
    """A LiveSource that also tells each task that ended, with its duration, as it folds it."""

    def __init__(self, endpoint: str, observe: Any) -> None:
        super().__init__(endpoint, ask=False)  # here from the hub's start: nothing came before
        self._observe = observe

    def _heard(self, chunk: list[Event]) -> None:
        super()._heard(chunk)
        tasks = self.model.tasks
        for ts, _, _, kind, data, _ in chunk:
            if kind == "task_end" and type(data) is dict:
                task = tasks.get(data.get("task"))  # type: ignore[arg-type]
                if task is not None and task.result is not None:
                    self._observe(task.name, task.result, max(0, ts - task.started) / 1e9)


class Watcher:
    """The watch process's work; `close()` ends it."""

    def __init__(self, feed: str, settings: WatchSettings) -> None:
        """ConfigError if the metrics cannot be served where asked, or a hook is malformed."""
        self.settings = settings
        self.hooks = Hooks(settings.on_alert, settings.webhook)
        self.registry = CollectorRegistry(auto_describe=False)
        self._durations = Histogram(
            "swarmscope_task_duration_seconds",
            "How long tasks ran, by name and result (ok, failed, cancelled)",
            ("task", "result"),
            registry=self.registry,
            buckets=TASK_BUCKETS,
        )
        self._task_names: set[str] = set()
        self.registry.register(SwarmCollector(self.snapshot))
        self.alerts = AgentAlerts()
        self._rate = ErrorRate(settings.error_rate) if settings.error_rate else None
        self.raised: Counter[str] = Counter(dict.fromkeys(REASONS, 0))
        self.failures = 0
        """Requests a bug of ours cost (answered 500)."""
        self._hub: dict[str, Any] = {}
        self._hub_at = 0.0
        self._server = _serve(settings.metrics, self) if settings.metrics else None
        self.source = _Folding(feed, self._observe).start()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="swarmscope-alerts", daemon=True)
        self._ticker.start()

    @property
    def address(self) -> str | None:
        """Where /metrics is served (HOST:PORT), if it is."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def hub_counters(self, counters: dict[str, Any]) -> None:
        self._hub, self._hub_at = counters, time.monotonic()

    @property
    def healthy(self) -> bool:
        return time.monotonic() - self._hub_at < 3 * STATS_S and self._ticker.is_alive()

    @property
    def ready(self) -> bool:
        return self.healthy and self._hub.get("proxying", False) and self.source.connected

    def snapshot(self) -> Snapshot:
        """What a scrape reports, read under the model's lock in one go."""
        now = time.time_ns()
        with self.source.reading() as model:
            agents: list[AgentRow] = [
                (
                    a.id,
                    a.role or "",
                    a.status or "",
                    a.health(now).value,
                    a.task_name or "",
                    a.progress,
                    a.errors,
                    a.last_seen,
                )
                for a in model.agents.values()
            ]
            kinds, view_gaps = dict(model.by_kind), model.gaps
        return Snapshot(
            agents,
            kinds,
            view_gaps,
            self._hub,
            dict(self.raised),
            self.alerts.suppressed,
            dict(self.hooks.counts),
            self.failures,
        )

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.source.stop()
        self.hooks.close()

    def _observe(self, name: str, result: str, seconds: float) -> None:
        if name not in self._task_names:
            if len(self._task_names) >= MAX_TASK_NAMES:
                name = OTHER_TASKS
            else:
                self._task_names.add(name)
        self._durations.labels(name, result).observe(seconds)

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            now = time.time_ns()
            with self.source.reading() as model:
                seen = [_seen(a, now) for a in model.agents.values()]
                errors = model.errors
                gone = [s[0] for s in seen if s[3] in GONE and self._expired(model, s[0], now)]
                model.forget(gone)
            self.alerts.forget(gone)
            alerts = self.alerts.update(seen, now)
            rate = self._rate.update(errors, now) if self._rate else None
            for alert in alerts + ([rate] if rate else []):
                self._say(alert)

    def _expired(self, model: Any, agent_id: str, now: int) -> bool:
        return now - model.agents[agent_id].last_seen > self.settings.retention_s * 1e9

    def _say(self, alert: Alert) -> None:
        self.raised[alert.reason] += 1
        if self.settings.say:
            print(f"swarmscope hub: alert: {alert.text}", file=sys.stderr, flush=True)
        self.hooks.send(alert.to_json(hub=self.settings.hub))


def _seen(a: Any, now: int) -> tuple[str, str, str, Health, int, str]:
    err = a.last_error
    error = f"{err.get('type')}: {err.get('message')}" if type(err) is dict else ""
    return (a.id, a.role or "", a.status or "", a.health(now), a.errors, error)


class _Server(BoundedHTTPServer):
    watcher: Watcher


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        try:
            self._get(self.server.watcher, self.path.split("?", 1)[0])
        except Exception as exc:  # noqa: BLE001 - a bug of ours costs this request, never the server
            self.server.watcher.failures += 1
            self.answer(500, f"{type(exc).__name__}\n".encode(), "text/plain", close=True)

    def _get(self, watcher: Watcher, path: str) -> None:
        if path == "/metrics":
            encoder, kind = choose_encoder(self.headers.get("Accept", ""))
            self.answer(200, encoder(watcher.registry), kind)
        elif path in ("/healthz", "/readyz"):
            ok = watcher.healthy if path == "/healthz" else watcher.ready
            self.answer(200 if ok else 503, b"ok\n" if ok else b"not yet\n", "text/plain")
        else:
            self.answer(404, b"/metrics, /healthz or /readyz\n", "text/plain")


def _serve(address: str, watcher: Watcher) -> _Server:
    host, _, port = address.rpartition(":")
    try:
        server = _Server((host.strip("[]") or "127.0.0.1", int(port)), _Handler)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {address}: {exc.strerror}; choose another with --metrics"
        ) from None
    server.watcher = watcher
    threading.Thread(target=server.serve_forever, name="swarmscope-metrics", daemon=True).start()
    return server
