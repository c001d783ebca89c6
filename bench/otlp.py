"""OTLP into the hub: spans a second through `hub --otlp`'s receiver, against decoding the same
protobuf alone (the floor: what no receiver can beat)."""

from __future__ import annotations

import http.client
import tempfile
import time
from typing import Any

from swarmscope.bench.report import Report, figure
from swarmscope.core.hub.hub import Hub


def _request(spans: int, seed: int) -> bytes:
    """An export request of `spans` spans from 10 agents, as an SDK batches them: tool calls and
    model calls with tokens, children before their agent's turn."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def attr(key: str, value: str | int) -> KeyValue:
        v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
        return KeyValue(key=key, value=v)

    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    now = time.time_ns()
    for k in range(spans):
        span = scope.spans.add()
        span.trace_id = (seed * 1_000_003 + k // 10).to_bytes(16, "big")
        span.span_id = (seed * 1_000_003 + k + 1).to_bytes(8, "big")
        span.start_time_unix_nano, span.end_time_unix_nano = now + k * 1000, now + k * 1000 + 500
        agent = attr("gen_ai.agent.name", f"agent-{k % 10}")
        if k % 2:
            span.name = "execute_tool search"
            span.attributes.extend(
                [
                    attr("gen_ai.operation.name", "execute_tool"),
                    attr("gen_ai.tool.name", "search"),
                    agent,
                ]
            )
        else:
            span.name = "chat"
            span.attributes.extend(
                [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.request.model", "m"),
                    attr("gen_ai.usage.input_tokens", 800),
                    attr("gen_ai.usage.output_tokens", 90),
                    agent,
                ]
            )
    return request.SerializeToString()


def bench_otlp(quick: bool = False, report: Report = print) -> dict[str, Any]:
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        from swarmscope.adapters.otlp import OtlpReceiver
    except ImportError:
        if report:
            report("otlp: skipped (needs OpenTelemetry's protobuf: pip install 'swarmscope[otlp]')")
        return {}

    per, requests = 1_000, (20 if quick else 200)
    bodies = [_request(per, seed) for seed in range(requests)]
    spans = per * requests
    if report:
        report(f"otlp: {spans:,} spans in {requests} protobuf requests of {per:,}")
    start = time.perf_counter()
    for body in bodies:
        ExportTraceServiceRequest.FromString(body)
    floor = spans / (time.perf_counter() - start)
    endpoint = f"ipc://{tempfile.mkdtemp(prefix='ssotlp')}/in"
    hub = Hub(endpoint, endpoint + "-out")
    hub.add_listener(lambda kept: None)  # a hub that takes every event, as a recording one does
    with hub:
        receiver = OtlpReceiver("127.0.0.1:0", endpoint).start()
        try:
            start = time.perf_counter()
            for body in bodies:
                receiver.take("/v1/traces", body, "application/x-protobuf")
            taken = spans / (time.perf_counter() - start)
            host, port = receiver.address.split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            start = time.perf_counter()
            for body in bodies:
                conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                conn.getresponse().read()
            served = spans / (time.perf_counter() - start)
            conn.close()
        finally:
            receiver.stop()
    figure(report, "decode alone (the floor)", floor, "spans/s")
    figure(report, "decoded, mapped and queued (take)", taken, "spans/s", floor, "no target yet")
    figure(report, "over HTTP, keep-alive", served, "spans/s", floor, "no target yet")
    return {"otlp_floor_spans_per_s": floor, "otlp_take_per_s": taken, "otlp_http_per_s": served}
