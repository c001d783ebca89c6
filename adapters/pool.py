"""The agents one process runs, as frameworks name them: one publisher for all of them, an Emitter
for each on first sight.

A framework names its agents as it goes (a span's agent name, a graph's node), often many in one
process, on threads of its own. Each agent gets its Emitter the first time it is named, with one
incarnation for the rest of the run, all on one socket; past MAX_AGENTS names (a framework that
names agents after requests, or a bug), further ones are counted and dropped rather than growing
the process. At exit, every agent says bye and the publisher flushes.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from swarmscope.core.errors import ConfigError, ConfigWarning
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.sdk.publisher import Publisher, Unsent
from swarmscope.core.sdk.redact import Redactor
from swarmscope.core.wire.endpoints import agent_endpoint
from swarmscope.core.words import plain

MAX_AGENTS = 10_000
"""Agents one pool keeps an Emitter for."""
SUMMARY = 200
"""Characters of a tool's input or output shown with its task."""
_REDACT = Redactor()

current_agent: ContextVar[str | None] = ContextVar("swarmscope_current_agent", default=None)
"""The agent a framework adapter is working for on this thread or task now (a log record made
meanwhile is that agent's)."""

_pools: weakref.WeakSet[AgentPool] = weakref.WeakSet()


@contextmanager
def working_for(agent: str | None) -> Iterator[None]:
    """Within the block, this thread's work is `agent`'s."""
    token = current_agent.set(agent)
    try:
        yield
    finally:
        current_agent.reset(token)


def summary(value: Any) -> str | None:
    """A tool's input or output in a line: JSON read and its secrets masked (as the Emitter masks
    state), then cut to SUMMARY characters. Task events are not masked by the Emitter: what an
    adapter puts on them passes here."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return plain(_REDACT(value), SUMMARY)


def send(em: Emitter, kind: str, data: dict[str, Any]) -> None:
    """An event as (kind, data), through the Emitter; a status through status(), which the
    agent's bye then repeats if it was final."""
    if kind == "status":
        em.status(**data)
    else:
        em.emit(kind, **data)


class StampedClock:
    """An Emitter's clock for adapters whose events come stamped (OTLP spans, CrewAI's events):
    the stamp of the event being sent, on this thread, else now."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self) -> int:
        return getattr(self._local, "at", None) or time.time_ns()

    @contextmanager
    def at(self, ts: int) -> Iterator[None]:
        self._local.at = ts
        try:
            yield
        finally:
            self._local.at = None


class Guarded:
    """What every adapter promises the framework that calls it: a bug of ours costs that one call,
    counted in `failed`, and is never raised into the framework."""

    failed = 0

    def guarded(self, work: Callable[..., object], *args: object) -> None:
        try:
            work(*args)
        except Exception:  # noqa: BLE001 - never into the framework's own code
            self.failed += 1


class AgentPool:
    """Emitters by agent name, sharing one publisher. Thread-safe; never raises."""

    def __init__(
        self, endpoint: str | None = None, *, queue_size: int = 10_000, **emitter_options: Any
    ) -> None:
        """`endpoint` as Emitter takes it (None: $SWARMSCOPE_ENDPOINT, else the default);
        `queue_size`: events the shared publisher holds (Publisher's); `emitter_options` go to
        every Emitter (role, heartbeat, redact...)."""
        self._options = emitter_options
        self._lock = threading.Lock()
        self._emitters: dict[str, Emitter] = {}
        self.refused = 0
        """Agents named past MAX_AGENTS (their events dropped)."""
        try:
            self._publisher: Publisher | Unsent | None = Publisher(
                agent_endpoint(endpoint), queue_size=queue_size
            )
        except ConfigError as exc:  # a typo must not stop the framework it was meant to watch
            warnings.warn(
                f"swarmscope: {exc}; the agents' events are dropped", ConfigWarning, stacklevel=2
            )
            self._publisher = Unsent()
        _pools.add(self)

    def get(self, agent: str, **hello: Any) -> Emitter | None:
        """The agent's Emitter, made (and its hello sent, with `hello`'s role, type, tags) the
        first time it is named; None past MAX_AGENTS."""
        em = self._emitters.get(agent)
        if em is not None:
            return em
        with self._lock:
            em = self._emitters.get(agent)
            if em is None:
                if len(self._emitters) >= MAX_AGENTS:
                    self.refused += 1
                    return None
                em = Emitter(agent, publisher=self._publisher, **{**self._options, **hello})
                self._emitters[agent] = em
        return em

    @property
    def agents(self) -> list[str]:
        return list(self._emitters)

    def close(self) -> None:
        """Every agent says bye, then the publisher sends what it holds. Safe to call twice."""
        with self._lock:
            emitters, self._emitters = list(self._emitters.values()), {}
        for em in emitters:
            em.close()
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None


def _close_all() -> None:
    for pool in list(_pools):
        pool.close()


atexit.register(_close_all)
