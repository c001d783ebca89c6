"""The swarm as Prometheus metrics, in the text format prometheus_client writes.

Agent status and health are state sets, as kube-state-metrics writes pod phases: one series
per possible value, 1 for the agent's current one and 0 for the others, so
`swarmscope_agent_health{health="failed"} == 1` selects failed agents and
`sum by (health) (swarmscope_agent_health)` counts them. Each scrape reads a Snapshot taken
under the model's lock in one go; the families are built from it outside the lock.

Series per agent: 7 statuses + 5 health levels + errors + last seen, and progress while it
works on a task: 14 to 15, so 10,000 agents make about 150,000 (docs/operations.md). Agents
leave after the watch's retention, so a hub that runs for months does not grow its series
without end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from swarmscope.core.events import STATUSES
from swarmscope.core.model.health import Health

HEALTHS = tuple(h.value for h in Health)
TASK_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
"""Seconds: an agent's tasks run from a tool call's fraction of a second to an hour's research."""

EXPOSED = (
    "swarmscope_agent_status",
    "swarmscope_agent_health",
    "swarmscope_agent_progress",
    "swarmscope_agent_errors_total",
    "swarmscope_agent_last_seen_seconds",
    "swarmscope_task_duration_seconds",
    "swarmscope_events_total",
    "swarmscope_events_lost_total",
    "swarmscope_view_events_lost_total",
    "swarmscope_frames_refused_total",
    "swarmscope_agents",
    "swarmscope_publishers",
    "swarmscope_viewers",
    "swarmscope_recorder_lag_messages",
    "swarmscope_alerts_total",
    "swarmscope_alerts_suppressed_total",
    "swarmscope_alert_deliveries_total",
    "swarmscope_alert_deliveries_failed_total",
    "swarmscope_failures_total",
)
"""Every metric the hub serves (histograms and counters as named here; the text format adds
_bucket, _sum, _count and _created): what docs/ops/ may use."""

AgentRow = tuple[str, str, str, str, str, float | None, int, int]
"""(id, role, status, health, task, progress, errors, last seen in ns)."""


@dataclass
class Snapshot:
    """What one scrape reports, read in one go."""

    agents: list[AgentRow]
    kinds: dict[str, int]
    view_gaps: int
    hub: dict[str, Any]
    """The hub's counters (Hub.stats, as the hub process last sent them)."""
    alerts: dict[str, int] = field(default_factory=dict)
    """Alerts raised, by reason."""
    suppressed: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    """Hook outcomes, as `via.outcome` (hooks.Hooks.counts)."""
    failures: int = 0
    """Requests to the metrics a bug of ours cost."""


class SwarmCollector(Collector):
    """prometheus_client asks collect() at each scrape; `snapshot()` says what is true now."""

    def __init__(self, snapshot: Any) -> None:
        self._snapshot = snapshot

    def describe(self) -> list:
        """Nothing up front: registering must not take a snapshot."""
        return []

    def collect(self) -> Iterator[Metric]:
        snap: Snapshot = self._snapshot()
        yield from agent_families(snap.agents)
        yield from feed_families(snap)
        yield from alert_families(snap)


def agent_families(agents: list[AgentRow]) -> tuple[Metric, ...]:
    status = GaugeMetricFamily(
        "swarmscope_agent_status",
        "1 for the agent's current status, 0 for the others (a state set)",
        labels=("agent", "role", "status"),
    )
    health = GaugeMetricFamily(
        "swarmscope_agent_health",
        "1 for the agent's health now, 0 for the others (a state set; stopped: said bye)",
        labels=("agent", "role", "health"),
    )
    progress = GaugeMetricFamily(
        "swarmscope_agent_progress",
        "How far the agent's current task is, 0 to 1",
        labels=("agent", "task"),
    )
    errors = CounterMetricFamily(
        "swarmscope_agent_errors", "Errors the agent raised", labels=("agent",)
    )
    seen = GaugeMetricFamily(
        "swarmscope_agent_last_seen_seconds",
        "When the agent was last heard from (unix time, on the hub's clock)",
        labels=("agent",),
    )
    for agent, role, now_status, now_health, task, done, raised, last_seen in agents:
        for value in STATUSES:
            status.add_metric((agent, role, value), float(value == now_status))
        for value in HEALTHS:
            health.add_metric((agent, role, value), float(value == now_health))
        if task and done is not None:
            progress.add_metric((agent, task), done)
        errors.add_metric((agent,), raised)
        seen.add_metric((agent,), last_seen / 1e9)
    return status, health, progress, errors, seen


def feed_families(snap: Snapshot) -> Iterator[Metric]:
    hub = snap.hub
    kinds = CounterMetricFamily(
        "swarmscope_events", "Events that reached the metrics, by kind", labels=("kind",)
    )
    for kind, n in snap.kinds.items():
        kinds.add_metric((kind,), n)
    lost = CounterMetricFamily(
        "swarmscope_events_lost",
        "Events lost: before the hub (gaps in agents' sequence numbers), or dropped by the hub "
        "for a recorder that fell behind",
        labels=("where",),
    )
    lost.add_metric(("before_hub",), hub.get("gaps", 0))
    lost.add_metric(("hub",), hub.get("dropped_events", 0))
    refused = CounterMetricFamily(
        "swarmscope_frames_refused", "Messages the hub's gate refused, by field", labels=("reason",)
    )
    for reason, n in hub.get("refused", {}).items():
        refused.add_metric((reason,), n)
    yield from (kinds, lost, refused)
    yield CounterMetricFamily(
        "swarmscope_view_events_lost",
        "Events these metrics did not see (lost before the hub, or the metrics fell behind)",
        value=snap.view_gaps,
    )
    yield GaugeMetricFamily("swarmscope_agents", "Agents watched now", value=len(snap.agents))
    yield GaugeMetricFamily(
        "swarmscope_publishers", "Agent connections to the hub", value=hub.get("publishers", 0)
    )
    yield GaugeMetricFamily(
        "swarmscope_viewers", "Viewers and recorders connected", value=hub.get("viewers", 0)
    )
    failures = CounterMetricFamily(
        "swarmscope_failures",
        "Messages, passes or requests a bug of swarmscope's own cost (it went on): report them",
        labels=("where",),
    )
    failures.add_metric(("hub",), hub.get("failures", 0))
    failures.add_metric(("metrics",), snap.failures)
    yield failures
    if hub.get("lag") is not None:
        yield GaugeMetricFamily(
            "swarmscope_recorder_lag_messages",
            "Messages the hub took in and has not yet checked and written (a recording hub)",
            value=hub["lag"],
        )


def alert_families(snap: Snapshot) -> Iterator[Metric]:
    raised = CounterMetricFamily(
        "swarmscope_alerts", "Alerts raised, by reason", labels=("reason",)
    )
    for reason, n in snap.alerts.items():
        raised.add_metric((reason,), n)
    yield raised
    yield CounterMetricFamily(
        "swarmscope_alerts_suppressed",
        "Alerts held back: an agent that flaps or keeps failing says so once",
        value=snap.suppressed,
    )
    sent = CounterMetricFamily(
        "swarmscope_alert_deliveries", "Alerts delivered, by hook", labels=("via",)
    )
    failed = CounterMetricFamily(
        "swarmscope_alert_deliveries_failed",
        "Alerts a hook could not deliver (failed, timed out, or dropped while it was slow)",
        labels=("via",),
    )
    for via in ("command", "webhook"):
        sent.add_metric((via,), snap.deliveries.get(f"{via}.sent", 0))
        failed.add_metric(
            (via,),
            snap.deliveries.get(f"{via}.failed", 0) + snap.deliveries.get(f"{via}.dropped", 0),
        )
    yield sent
    yield failed
