"""Live health on the viewer's clock: agents on hosts whose clocks are off by an hour, over a real
hub."""

import time

from helpers import wait_for

from swarmscope.core.live.source import LiveSource
from swarmscope.core.model.health import Health
from swarmscope.core.sdk.emitter import Emitter

HOUR = 3600 * 10**9


def test_health_judges_when_an_agent_was_heard_not_what_its_clock_says(hub):
    now = [time.time_ns()]
    source = LiveSource(hub.out_endpoint, clock=lambda: now[0]).start()
    behind = Emitter("behind", hub.in_endpoint, heartbeat=1, clock=lambda: time.time_ns() - HOUR)
    ahead = Emitter("ahead", hub.in_endpoint, heartbeat=1, clock=lambda: time.time_ns() + HOUR)
    try:

        def both_heard():
            behind.status("running")
            ahead.status("running")
            with source.reading() as model:
                return {"behind", "ahead"} <= model.agents.keys()

        wait_for(both_heard)
        with source.reading() as model:
            assert {k: model.agents[k].health(now[0]) for k in ("behind", "ahead")} == {
                "behind": Health.HEALTHY,
                "ahead": Health.HEALTHY,
            }
            now[0] += 10 * 10**9  # ten silent seconds on the viewer's clock, beats every 1 s
            assert model.agents["ahead"].health(now[0]) == Health.FAILED
    finally:
        behind.close()
        ahead.close()
        source.stop()
