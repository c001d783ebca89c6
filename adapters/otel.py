"""OpenTelemetry in process: the spans a program already makes, as its agents' events, live.

    from opentelemetry import trace
    from swarmscope.adapters.otel import SwarmscopeSpanProcessor
    trace.get_tracer_provider().add_span_processor(SwarmscopeSpanProcessor())

An agent span (GenAI `invoke_agent`, OpenInference `AGENT`) is a turn of the agent it names: the
agent is running, and the turn is a task. A tool or model span is a task of its agent: the one it
names, else its parent span's, else the program's (its `service.name`). A span that ends in error
fails its task and is an `error` of its agent (with the exception the span recorded); tokens a span
used are `metric`s (`tokens.input`, `tokens.output`). Events go out as the spans start and end, from
the threads that make them: the processor never blocks and never raises into the program.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from swarmscope.adapters import spans
from swarmscope.adapters.pool import AgentPool, Guarded, send

MAX_OPEN = 100_000
"""Spans remembered between their start and end (the oldest forgotten past it: a program that
never ends its spans must not grow us)."""


class SwarmscopeSpanProcessor(SpanProcessor, Guarded):
    """Sends spans to a swarmscope hub as the events of the agents they are about."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        agent: str | None = None,
        pool: AgentPool | None = None,
    ) -> None:
        """`endpoint` as Emitter takes it; `agent`: whose a span is that names no agent and has no
        parent that does (default: the tracer's `service.name`); `pool`: share another adapter's
        agents."""
        self.pool = pool or AgentPool(endpoint)
        self.agent = agent
        self._open: OrderedDict[int, str] = OrderedDict()
        """The agent of each span started and not yet ended, by span id."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.guarded(self._started, span)

    def on_end(self, span: ReadableSpan) -> None:
        self.guarded(self._ended, span)

    def shutdown(self) -> None:
        self.pool.close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # the publisher sends as it goes; what waits goes at close

    # -- mapping ------------------------------------------------------------------------

    def _started(self, span: Span) -> None:
        attrs = span.attributes or {}
        agent = self._whose(span, attrs)
        self._open[span.context.span_id] = agent
        if len(self._open) > MAX_OPEN:
            self._open.popitem(last=False)
        self._send(agent, spans.started(span.name, attrs, _task_id(span)))

    def _ended(self, span: ReadableSpan) -> None:
        attrs = span.attributes or {}
        agent = self._open.pop(span.context.span_id, None) or self._whose(span, attrs)
        failed = None
        if span.status.status_code is StatusCode.ERROR:
            recorded = next(
                (e.attributes or {} for e in span.events if e.name == "exception"), None
            )
            failed = spans.failure(span.name, attrs, recorded, span.status.description or "")
        seconds = (span.end_time - span.start_time) / 1e9 if span.end_time else None
        self._send(agent, spans.ended(attrs, _task_id(span), failed, seconds))

    def _send(self, agent: str, said: list[spans.Said]) -> None:
        em = self.pool.get(agent) if said else None
        for kind, data in said if em is not None else ():
            send(em, kind, data)

    def _whose(self, span: ReadableSpan, attrs: Mapping[str, Any]) -> str:
        """The agent the span names, else its parent's, else the program's."""
        named = spans.agent_of(attrs)
        if named:
            return named
        parent = span.parent.span_id if span.parent is not None else None
        if parent in self._open:
            return self._open[parent]
        service = span.resource.attributes.get("service.name") if span.resource else None
        return self.agent or (service if isinstance(service, str) and service else "otel")


def _task_id(span: ReadableSpan) -> str:
    return f"{span.context.span_id:016x}"
