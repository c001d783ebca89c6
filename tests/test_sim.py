"""The simulated swarm: seeded, and rich enough to exercise everything a viewer shows."""

from swarmscope.core.live.sim import NS, SimConfig, simulate
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel


def test_the_same_seed_gives_the_same_events():
    cfg = SimConfig(agents=10, rate=500, seed=11)
    assert simulate(cfg, 5000) == simulate(cfg, 5000)
    assert simulate(cfg, 500) != simulate(SimConfig(agents=10, rate=500, seed=12), 500)


def test_a_run_has_failures_restarts_stalls_handoffs_and_state():
    events = simulate(SimConfig(agents=10, rate=500, seed=5, stall_every=10), 30_000)
    model = SwarmModel()
    seen_health: set[Health] = set()
    for i, ev in enumerate(events):
        model.apply(ev)
        if i % 50 == 0:
            seen_health.update(model.health_counts(ev.ts).keys())
    kinds = model.by_kind
    for kind in (
        "hello",
        "bye",
        "status",
        "progress",
        "task_start",
        "task_end",
        "heartbeat",
        "log",
        "message",
        "state",
        "patch",
        "checkpoint",
        "error",
        "metric",
    ):
        assert kinds[kind] > 0, kind
    assert model.restarts > 0 and model.gaps == 0
    assert any("Traceback" in (e.data.get("traceback") or "") for e in events if e.kind == "error")
    assert {Health.HEALTHY, Health.DEGRADED, Health.CRITICAL, Health.FAILED} <= seen_health
    assert any(a.state for a in model.agents.values())
    assert any(link.topic == "handoff" for link in model.links.values())


def test_rate_follows_what_was_asked():
    """Approximate by design: stalls and restarts are paced by the heartbeat, not the rate."""

    def rate(asked):
        events = simulate(SimConfig(agents=20, rate=asked, seed=1), 20_000)
        return len(events) / ((events[-1].ts - events[0].ts) / NS)

    slow, fast = rate(200), rate(2000)
    assert 0.25 * 200 < slow < 2 * 200 and 0.1 * 2000 < fast < 2 * 2000 and fast > 3 * slow
