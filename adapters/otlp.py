"""An OTLP/HTTP receiver: what any OpenTelemetry exporter sends (spans, logs, metrics), as the
events of the agents it is about, on a hub's agent side. `swarmscope hub --otlp` runs one.

Spans are read as otel.py reads them in process (spans.py), with one difference: OTLP sends a
span when it has ended, children before their parents, so a span's start and end go out together,
each at its real time, ordered by time within a request. A span naming no agent is its nearest
ancestor's agent's; one whose parent has not come yet waits for it (HOLD_S at most), then goes
out as its service's. While a span's parent has not come, its trace is still open: its agent is
at work and beats, so a long model call does not turn it FAILED. Log records (Claude Code's
events among them) are `log` events of the agent their `session.id`, agent name or service names;
an ERROR record is an `error` too. Sums and gauges are `metric` events.

Every body passes otlp_body.py's gate first; what it refuses is answered as the OTLP spec says
and counted by reason (`stats`). The server binds loopback by default, as the hub does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from swarmscope.adapters import spans
from swarmscope.adapters.otlp_body import MAX_BODY, Refused, answer, parse, read_body
from swarmscope.adapters.pool import AgentPool, StampedClock, send
from swarmscope.core.wire.http import BoundedHTTPServer, QuietHandler

MAX_REMEMBERED = 100_000
"""Spans whose agent is remembered for their children, and parents awaited (oldest forgotten)."""
OPEN_FOR_S = 3600.0
"""A parent awaited longer than this is taken for lost: its agent stops beating for it."""
HOLD_S = 5.0
"""How long a span that names no agent waits for its parent (OTLP sends children first, often in
requests of their own) before it goes out as its service's."""
MAX_HELD = 10_000
"""Spans held at once; past it, a span whose parent has not come goes out as its service's."""
BEAT_S = 2.0
ERROR_SEVERITY = 17
"""OTLP's SEVERITY_NUMBER_ERROR: records at or above it are errors."""

Planned = tuple[int, str, str, dict[str, Any]]
"""(ts, agent, kind, data): an event to send."""


class OtlpReceiver:
    """OTLP/HTTP on `host:port`, publishing to the hub at `endpoint`."""

    def __init__(self, address: str, endpoint: str | None = None) -> None:
        """`address`: HOST:PORT to listen on (port 0: any free one); `endpoint`: the hub's agent
        side, as Emitter takes it."""
        host, _, port = address.rpartition(":")
        self.stats: Counter[str] = Counter()
        """requests, spans, log_records, points, rejected, and refused.<reason>."""
        self._clock = StampedClock()
        self.pool = AgentPool(endpoint, clock=self._clock, auto_heartbeat=False)
        self._send = threading.Lock()
        self._agent_of: OrderedDict[bytes, str] = OrderedDict()
        """Agent of each span seen, by span id: what a child that names none is."""
        self._awaited: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        """Parents not come yet (their traces open): whose, and since when."""
        self._held: OrderedDict[bytes, list[tuple[Span, dict[str, Any], str | None, float]]] = (
            OrderedDict()
        )
        """Spans that name no agent and whose parent has not come, by parent: they wait for it."""
        self._held_count = 0
        self._server = _Server((host.strip("[]") or "127.0.0.1", int(port)), _Handler)
        self._server.receiver = self
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> OtlpReceiver:
        for target in (self._server.serve_forever, self._beat):
            thread = threading.Thread(target=target, name="swarmscope-otlp", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop taking requests; what is held goes out, and every agent says bye."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._send:
            self._emit(self._release_held(0.0))
        self.pool.close()

    # -- what a request holds -------------------------------------------------------------

    def take(self, path: str, body: bytes, content_type: str) -> tuple[bytes, str]:
        """One export request: its events sent, its response (a partial success if some of it
        could not be taken). Refused if the body is. Requests come on threads of their own: each
        is mapped and sent whole, one at a time (what spans came before says whose a span is)."""
        if path not in _REQUESTS:
            raise Refused(404, "path", f"{path[:60]!r}: /v1/traces, /v1/logs or /v1/metrics")
        request_type, response_type, read = _REQUESTS[path]
        request = parse(body, content_type, request_type)
        response = response_type()
        with self._send:
            planned, rejected = read(self, request)
            self._emit(planned)
        if rejected:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = "spans without ids or start times"
        self.stats["rejected"] += rejected
        return answer(response, content_type)

    def _spans(self, request: trace_pb.ExportTraceServiceRequest) -> tuple[list[Planned], int]:
        found, rejected = [], 0
        for service, span in _each(request.resource_spans, "scope_spans", "spans"):
            if not span.span_id or not span.start_time_unix_nano:
                rejected += 1
                continue
            found.append((span, _attrs(span.attributes), service))
        self.stats["spans"] += len(found)
        named = {s.span_id: spans.agent_of(a) for s, a, _ in found}
        parent_of = {s.span_id: s.parent_span_id for s, _, _ in found}
        planned: list[Planned] = []
        for span, attrs, service in found:
            agent = named[span.span_id] or self._ancestors_agent(span, named, parent_of)
            if agent is None and span.parent_span_id and self._held_count < MAX_HELD:
                waiting = self._held.setdefault(span.parent_span_id, [])
                waiting.append((span, attrs, service, time.monotonic()))
                self._held_count += 1
                continue
            planned += self._place(span, attrs, agent or service or "otlp")
        return planned, rejected

    def _place(self, span: Span, attrs: dict[str, Any], agent: str) -> list[Planned]:
        """A span's events as `agent`'s, and those of the spans held for it, as its agent's."""
        planned: list[Planned] = []
        todo = [(span, attrs, agent)]
        while todo:
            span, attrs, agent = todo.pop()
            self._remember(span, agent)
            planned += _span_events(span, attrs, agent)
            for child, child_attrs, _, _ in self._held.pop(span.span_id, ()):
                self._held_count -= 1
                todo.append((child, child_attrs, spans.agent_of(child_attrs) or agent))
        return planned

    def _release_held(self, older_than: float) -> list[Planned]:
        """Spans whose parent has not come within HOLD_S (or at all, `older_than` 0), as their
        service's agent's."""
        planned: list[Planned] = []
        now = time.monotonic()
        for parent, waiting in list(self._held.items()):
            if now - waiting[0][3] < older_than:
                break  # held in the order they came: the rest are younger
            del self._held[parent]
            self._held_count -= len(waiting)
            for span, attrs, service, _ in waiting:
                planned += self._place(span, attrs, service or "otlp")
        return planned

    def _ancestors_agent(
        self, span: Span, named: dict[bytes, str | None], parent_of: dict[bytes, bytes]
    ) -> str | None:
        """The agent of the nearest ancestor that names one: in this request, else one remembered
        from an earlier request."""
        parent = span.parent_span_id
        for _ in range(64):  # a chain deeper than this, or a loop a hostile body made
            if not parent:
                return None
            if named.get(parent):
                return named[parent]
            if parent in self._agent_of:
                return self._agent_of[parent]
            parent = parent_of.get(parent, b"")
        return None

    def _remember(self, span: Span, agent: str) -> None:
        self._agent_of[span.span_id] = agent
        self._awaited.pop(span.span_id, None)  # a parent some child waited for: its trace closed
        if span.parent_span_id and span.parent_span_id not in self._agent_of:
            self._awaited[span.parent_span_id] = (agent, time.monotonic())
        for table in (self._agent_of, self._awaited):
            while len(table) > MAX_REMEMBERED:
                table.popitem(last=False)

    def _logs(self, request: logs_pb.ExportLogsServiceRequest) -> tuple[list[Planned], int]:
        planned: list[Planned] = []
        for service, record in _each(request.resource_logs, "scope_logs", "log_records"):
            self.stats["log_records"] += 1
            planned += _log_events(record, service)
        return planned, 0

    def _points(self, request: metrics_pb.ExportMetricsServiceRequest) -> tuple[list[Planned], int]:
        planned: list[Planned] = []
        for service, metric in _each(request.resource_metrics, "scope_metrics", "metrics"):
            for point in metric.sum.data_points or metric.gauge.data_points:
                self.stats["points"] += 1
                planned.append(_point_event(metric.name, point, service))
        return planned, 0

    def _emit(self, planned: list[Planned]) -> None:
        """Send, in time order, each event at its own time (under `_send`: the clock says the
        times on this thread)."""
        planned.sort(key=lambda p: p[0])
        for ts, agent, kind, data in planned:
            em = self.pool.get(agent)
            if em is not None:
                with self._clock.at(ts):
                    send(em, kind, data)

    def _beat(self) -> None:
        """Agents with a trace open beat, so their silence while they work is not failure; spans
        held too long for a parent go out."""
        while not self._stopping.wait(BEAT_S):
            now = time.monotonic()
            with self._send:
                self._emit(self._release_held(HOLD_S))
                working = {a for a, since in self._awaited.values() if now - since < OPEN_FOR_S}
                for agent in working:
                    em = self.pool.get(agent)
                    if em is not None:
                        em.heartbeat()


def _span_events(span: Span, attrs: dict[str, Any], agent: str) -> list[Planned]:
    """A finished span's events (spans.started and spans.ended), each at its time."""
    start, end = span.start_time_unix_nano, max(span.end_time_unix_nano, span.start_time_unix_nano)
    task, failed = span.span_id.hex(), None
    if span.status.code == Status.STATUS_CODE_ERROR:
        recorded = next((_attrs(e.attributes) for e in span.events if e.name == "exception"), None)
        failed = spans.failure(span.name, attrs, recorded, span.status.message)
    return [(start, agent, kind, data) for kind, data in spans.started(span.name, attrs, task)] + [
        (end, agent, kind, data)
        for kind, data in spans.ended(attrs, task, failed, (end - start) / 1e9)
    ]


def _log_events(record: Any, service: str | None) -> list[Planned]:
    attrs = _attrs(record.attributes)
    agent = spans.text(attrs, "session.id") or spans.agent_of(attrs) or service or "otlp"
    ts = record.time_unix_nano or record.observed_time_unix_nano or time.time_ns()
    body = _value(record.body)
    message = body if isinstance(body, str) else spans.text(attrs, "event.name") or ""
    level = (record.severity_text or "info").lower()[:20]
    out: list[Planned] = [(ts, agent, "log", {"level": level, "message": message, "fields": attrs})]
    if record.severity_number >= ERROR_SEVERITY:
        out.append((ts, agent, "error", {"type": spans.error_type(attrs), "message": message}))
    return out


def _point_event(name: str, point: Any, service: str | None) -> Planned:
    labels = _attrs(point.attributes)
    agent = spans.text(labels, "session.id") or spans.agent_of(labels) or service or "otlp"
    which = point.WhichOneof("value")
    value = point.as_double if which == "as_double" else point.as_int
    ts = point.time_unix_nano or time.time_ns()
    return ts, agent, "metric", {"name": name[:200], "value": value, "labels": labels}


def _each(resources: Any, scopes: str, items: str) -> Iterator[tuple[str | None, Any]]:
    """Every item of an export request (spans, log records, metrics) with its service's name."""
    for resource in resources:
        service = spans.text(_attrs(resource.resource.attributes), "service.name")
        for scope in getattr(resource, scopes):
            for item in getattr(scope, items):
                yield service, item


def _attrs(pairs: Any) -> dict[str, Any]:
    return {kv.key[:200]: _value(kv.value) for kv in pairs}


def _value(value: AnyValue, depth: int = 0) -> Any:
    """An attribute's value as plain data (arrays and maps to a few levels)."""
    which = value.WhichOneof("value")
    if which in (None, "bytes_value"):
        return None if which is None else value.bytes_value.hex()[:200]
    if which == "array_value":
        return [_value(v, depth + 1) for v in value.array_value.values] if depth < 4 else None
    if which == "kvlist_value":
        return _attrs(value.kvlist_value.values) if depth < 4 else None
    return getattr(value, which)


_REQUESTS = {
    "/v1/traces": (
        trace_pb.ExportTraceServiceRequest,
        trace_pb.ExportTraceServiceResponse,
        OtlpReceiver._spans,
    ),
    "/v1/logs": (
        logs_pb.ExportLogsServiceRequest,
        logs_pb.ExportLogsServiceResponse,
        OtlpReceiver._logs,
    ),
    "/v1/metrics": (
        metrics_pb.ExportMetricsServiceRequest,
        metrics_pb.ExportMetricsServiceResponse,
        OtlpReceiver._points,
    ),
}
"""What each path takes, answers, and how its request is read."""


class _Server(BoundedHTTPServer):
    receiver: OtlpReceiver


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        receiver.stats["requests"] += 1
        content_type = self.headers.get("Content-Type", "")
        try:
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            body = read_body(
                self.rfile,
                self.headers.get("Content-Length"),
                chunked,
                self.headers.get("Content-Encoding", ""),
                MAX_BODY,
            )
            payload, kind = receiver.take(self.path.split("?", 1)[0], body, content_type)
            self.answer(200, payload, kind)
        except Refused as refused:
            receiver.stats[f"refused.{refused.reason}"] += 1
            self.answer(refused.status, str(refused).encode(), "text/plain", close=True)
        except Exception as exc:  # noqa: BLE001 - a bug of ours costs this request, never the server
            receiver.stats["failures"] += 1
            self.answer(500, f"{type(exc).__name__}".encode(), "text/plain", close=True)

    def do_GET(self) -> None:
        self.answer(405, b"OTLP/HTTP takes POST", "text/plain", close=True)
