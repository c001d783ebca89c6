"""Helpers tests share: waiting on a condition with a bound, draining a feed, and reading what an
app's screen shows through Textual's public API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.widgets import TabbedContent

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


def toasts(app: Any) -> list[str]:
    """The notifications the app's screen shows now, as plain text: what a user reads in its toasts.

    Run the app with `run_test(..., notifications=True)` (tests run without toasts by default),
    and await `pilot.pause()` after what notifies: a notification is a message the app takes in
    first. A toast goes when its timeout runs out (3 s for the shortest a test reads), so read it
    within a few keys of what raised it. `Toast` is the type name Textual's CSS documents."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


def tab_title(screen: Any, pane: str) -> str:
    """What the tab of `pane` shows now, as plain text. Not `Tab.label`: a title of the same width
    is repainted in place (see SwarmScreen._set_label)."""
    return str(screen.query_one(TabbedContent).get_tab(pane).render())
