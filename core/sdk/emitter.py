"""The agent SDK: `Emitter`, the one object an agent author touches.

Everything here runs on the agent's own threads, so every method is cheap,
never blocks and never raises: it builds a tuple and appends it to the
publisher's bounded queue. See publisher.py for what happens next.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import time
import traceback as tb
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from swarmscope.core.errors import ConfigError, ConfigWarning
from swarmscope.core.events import FINAL_STATUSES, URGENT_KINDS
from swarmscope.core.sdk.publisher import Publisher, Unsent
from swarmscope.core.sdk.redact import DEFAULT_SECRET_PATTERN, Redactor
from swarmscope.core.sdk.resources import ResourceSampler
from swarmscope.core.wire.endpoints import agent_endpoint
from swarmscope.core.wire.format import MAX_AGENT_LEN

_REDACTED_KINDS = frozenset({"state", "patch", "log", "error", "hello"})


BEAT_EARLY = 0.9
"""Beats go a tenth of the interval early: one asked of a quiet agent waits a flusher pass (50 ms),
and a viewer judges health by when it arrives against the announced interval."""


def _publisher(
    agent: Any, endpoint: str | None, given: Publisher | None, options: dict[str, Any]
) -> Publisher | Unsent:
    """`given`, or a publisher of `agent`'s own; if the agent id, the endpoint or the key files are
    wrong, one that drops and counts every event, with a warning that says what to mend: a typo in
    an environment variable must not stop the agent it was meant to watch."""
    try:
        if not isinstance(agent, str) or not 0 < len(agent) <= MAX_AGENT_LEN:
            raise ConfigError(
                f"an agent id is text of 1 to {MAX_AGENT_LEN} characters, not {agent!r:.60}"
            )
        return given if given is not None else Publisher(agent_endpoint(endpoint), **options)
    except ConfigError as exc:
        warnings.warn(
            f"swarmscope: {exc}; this agent's events are dropped (counted in Emitter.dropped)",
            ConfigWarning,
            stacklevel=4,
        )
        return Unsent()


class Emitter:
    """Publishes one agent's events to a swarmscope hub.

    >>> with Emitter("agent-7", role="researcher") as em:
    ...     em.status("running")

    Thread-safe: the threads of one agent may share it. Works with no hub
    listening: events wait in a bounded queue, and past its size are
    dropped and counted (`dropped`), never buffered without bound.
    """

    def __init__(
        self,
        agent: str,
        endpoint: str | None = None,
        *,
        role: str | None = None,
        agent_type: str | None = None,
        tags: dict[str, Any] | list[str] | None = None,
        heartbeat: float = 5.0,
        auto_heartbeat: bool = True,
        resources: bool = True,
        redact: str | None = DEFAULT_SECRET_PATTERN,
        clock: Callable[[], int] = time.time_ns,
        publisher: Publisher | None = None,
        incarnation: int | None = None,
        host: str | None = None,
        pid: int | None = None,
        **publisher_options: Any,
    ) -> None:
        """`heartbeat` is the announced interval in seconds, beaten from the flusher
        thread unless `auto_heartbeat` is off (the simulator beats for itself);
        `redact` is a regex of secret key names (None turns redaction off);
        `publisher` lets many emitters share one socket; `incarnation` replaces the
        random id that tells this run of the agent from its restarts; `host` and
        `pid` replace this process's own (an agent run elsewhere, or simulated)."""
        self.agent = agent
        self.inc = random.getrandbits(62) if incarnation is None else incarnation
        self.heartbeat_interval = heartbeat
        self._clock = clock
        self._seq = itertools.count()
        self._redact = Redactor(redact)
        self._own_publisher = publisher is None
        self._pub = _publisher(agent, endpoint, publisher, publisher_options)
        self._sampler = ResourceSampler() if resources else None
        self._closed = False
        self._status: str | None = None
        """The last status the agent gave: what its bye says, unless told otherwise."""
        self._next_beat = 0.0
        self._beat_asked = False
        """A heartbeat fell due: the agent's next emit sends it first (see _tick)."""
        self.emit(
            "hello",
            role=role,
            type=agent_type,
            host=host or socket.gethostname(),
            pid=os.getpid() if pid is None else pid,
            heartbeat=heartbeat,
            tags=tags or {},
        )
        if auto_heartbeat:
            self._pub.add_ticker(self._tick)

    # -- the one primitive ------------------------------------------------

    def emit(self, kind: str, /, **data: Any) -> None:
        """Queue an event of any kind; unknown kinds are kept and shown downstream."""
        if self._closed:
            return
        if self._beat_asked and kind != "heartbeat":
            self._beat()
        if kind in _REDACTED_KINDS and self._redact.enabled:
            try:
                data = self._redact(data)
            except Exception:  # never raise into the agent
                data = {"redaction_failed": True}
        # Numbering and queueing are two steps: another thread of the agent may queue between them,
        # a moment out of order; wire/format.py's `message` puts it right within a batch
        # (docs/architecture.md says why).
        self._pub.put(
            (self._clock(), self.agent, next(self._seq), kind, data, self.inc), kind in URGENT_KINDS
        )

    # -- the kinds every framework maps onto --------------------------------

    def status(self, status: str, **extra: Any) -> None:
        self._status = status
        self.emit("status", status=status, **extra)

    def progress(
        self,
        fraction: float | None = None,
        *,
        task: str | None = None,
        n: int | None = None,
        total: int | None = None,
        message: str | None = None,
        blockers: list[str] | None = None,
    ) -> None:
        """Progress as a fraction, or as n of total (the fraction is derived)."""
        if fraction is None and n is not None and total:
            fraction = n / total
        self.emit(
            "progress",
            fraction=fraction,
            task=task,
            n=n,
            total=total,
            message=message,
            blockers=blockers or [],
        )

    def task_start(self, task_id: str, name: str | None = None, **extra: Any) -> None:
        self.emit("task_start", task=task_id, name=name or task_id, **extra)

    def task_end(self, task_id: str, result: str = "ok", **extra: Any) -> None:
        self.emit("task_end", task=task_id, result=result, **extra)

    @contextmanager
    def task(self, task_id: str, name: str | None = None, **extra: Any) -> Iterator[None]:
        """task_start, then task_end ok, or error + task_end failed if the body raises."""
        started = time.monotonic()
        self.task_start(task_id, name, **extra)
        try:
            yield
        except BaseException as exc:
            self.error(exc, task=task_id)
            result = (
                "cancelled" if isinstance(exc, (KeyboardInterrupt, GeneratorExit)) else "failed"
            )
            self.task_end(task_id, result, duration=time.monotonic() - started)
            raise
        self.task_end(task_id, "ok", duration=time.monotonic() - started)

    def heartbeat(self, **resources: Any) -> None:
        self.emit("heartbeat", **resources)

    def log(self, level: str, message: str, **fields: Any) -> None:
        self.emit("log", level=level, message=message, fields=fields)

    def message(
        self,
        to: str,
        *,
        topic: str | None = None,
        summary: str | None = None,
        size: int | None = None,
        **extra: Any,
    ) -> None:
        """A message this agent sent to another (coordination, handoff)."""
        self.emit("message", to=to, topic=topic, summary=summary, size=size, **extra)

    def state(self, state: dict[str, Any]) -> None:
        """The agent's whole own state (memory, context, plan): replaces the last one."""
        self.emit("state", state=state)

    def patch(self, delta: dict[str, Any]) -> None:
        """A change to the agent's state, merged like JSON merge patch (None deletes)."""
        self.emit("patch", patch=delta)

    def checkpoint(self, label: str, **extra: Any) -> None:
        self.emit("checkpoint", label=label, **extra)

    def metric(self, name: str, value: float, **labels: Any) -> None:
        self.emit("metric", name=name, value=value, labels=labels)

    def error(
        self,
        error: BaseException | str,
        *,
        type: str | None = None,
        traceback: str | None = None,
        **extra: Any,
    ) -> None:
        """An exception (type, message and traceback are taken from it) or a message."""
        if isinstance(error, BaseException):
            type = type or error.__class__.__name__
            traceback = traceback or "".join(tb.format_exception(error))
            error = str(error)
        self.emit("error", type=type or "Error", message=error, traceback=traceback, **extra)

    # -- lifecycle ----------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Events this process had to drop (queue full, or no hub by close)."""
        return self._pub.dropped

    def _tick(self, now: float) -> None:
        """On the flusher's thread, every pass. A beat that falls due is first asked of the agent's
        own thread: its next emit sends it, numbered in order with its events (from here, a beat
        could take a seq while the agent's thread held the one before, and be sent first: a gap
        that is not one). An agent quiet until the next pass gets its beat from here."""
        if self._closed or now < self._next_beat:
            return
        if not self._beat_asked:
            self._beat_asked = True
            return
        self._beat()

    def _beat(self) -> None:
        self._beat_asked = False
        self._next_beat = time.monotonic() + self.heartbeat_interval * BEAT_EARLY
        self.heartbeat(**(self._sampler.sample() if self._sampler else {}))

    def close(self, status: str | None = None) -> None:
        """Say bye with the final status and flush; safe to call twice. Without a status, the last
        one the agent gave stands if it was final (an agent that said "failed" and then left its
        `with` block normally still failed), else "done"."""
        if self._closed:
            return
        self.emit(
            "bye", status=status or (self._status if self._status in FINAL_STATUSES else "done")
        )
        self._closed = True
        if self._own_publisher:
            self._pub.close()

    def __enter__(self) -> Emitter:
        return self

    def __exit__(self, exc_type, exc, _tb) -> None:
        if exc is not None and not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            self.error(exc)
            self.close("failed")
        else:
            self.close()
