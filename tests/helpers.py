"""Helpers tests share: waiting on a condition with a bound, and draining a feed."""

from __future__ import annotations

import time
from collections.abc import Callable

from swarmscope.core.hub.feed import Feed


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, poll: float = 0.005) -> None:
    """Poll until condition() holds; fail loudly after `timeout` (a bound, not a guess at
    timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(poll)


def drain(feed: Feed, until: Callable[[list], bool], timeout: float = 20.0) -> list:
    """Collect events from `feed` until until(events) holds."""
    events: list = []
    deadline = time.monotonic() + timeout
    while not until(events):
        if time.monotonic() > deadline:
            raise AssertionError(f"stopped waiting after {timeout}s with {len(events)} events")
        events.extend(e for e in feed.poll(50) if e.agent != "probe")
    return events


def exact_state(m) -> tuple:
    """Everything a model shows, with the orders a viewer could see (agents, kinds, tasks)."""
    return m.snapshot(), list(m.agents), list(m.by_kind), list(m.tasks), m.refused
