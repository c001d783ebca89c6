"""What an adapter costs the framework it watches: time per span with the adapter, against the
framework's own tracing without it (the floor), into a hub that takes every event."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from typing import Any

from swarmscope.bench.report import Report, figure
from swarmscope.core.hub.hub import Hub


def _per_span_us(spans: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    spans(n)
    return (time.perf_counter() - start) / n * 1e6


def bench_adapters(quick: bool = False, report: Report = print) -> dict[str, Any]:
    n = 5_000 if quick else 50_000
    endpoint = f"ipc://{tempfile.mkdtemp(prefix='ssadapt')}/in"
    hub = Hub(endpoint, endpoint + "-out")
    hub.add_listener(lambda kept: None)  # a hub that takes every event, as a recording one does
    got: dict[str, Any] = {}
    if report:
        report(f"adapters: the cost per span of watching a framework ({n:,} tool spans each)")
    with hub:
        for name, measure in (("otel", _otel), ("openai-agents", _openai_agents)):
            try:
                floor, watched = measure(endpoint, n)
            except ImportError:
                if report:
                    report(f"  {name}: skipped (not installed: pip install 'swarmscope[{name}]')")
                continue
            figure(report, f"{name}: its own tracing (the floor)", floor, "us/span")
            figure(
                report,
                f"{name}: with swarmscope's adapter",
                watched,
                "us/span",
                floor,
                "no target yet",
            )
            got[f"{name}_floor_us"], got[f"{name}_adapter_us"] = floor, watched
    return got


def _otel(endpoint: str, n: int) -> tuple[float, float]:
    from opentelemetry.sdk.trace import TracerProvider

    from swarmscope.adapters.otel import SwarmscopeSpanProcessor
    from swarmscope.adapters.pool import AgentPool

    tool = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.agent.name": "bench-agent",
    }

    def spans(provider: TracerProvider) -> Callable[[int], None]:
        tracer = provider.get_tracer("bench")

        def run(count: int) -> None:
            for _ in range(count):
                with tracer.start_as_current_span("execute_tool search", attributes=tool):
                    pass

        return run

    floor = _per_span_us(spans(TracerProvider()), n)
    watched_provider = TracerProvider()
    # room for every event: a dropped one would cost less than one sent
    watched_provider.add_span_processor(
        SwarmscopeSpanProcessor(pool=AgentPool(endpoint, queue_size=4 * n))
    )
    watched = _per_span_us(spans(watched_provider), n)
    watched_provider.shutdown()
    return floor, watched


def _openai_agents(endpoint: str, n: int) -> tuple[float, float]:
    from agents.tracing import agent_span, function_span, set_trace_processors, trace

    from swarmscope.adapters.openai_agents import SwarmscopeTracingProcessor
    from swarmscope.adapters.pool import AgentPool

    def run(count: int) -> None:
        with trace("bench"), agent_span(name="bench-agent"):
            for _ in range(count):
                with function_span(name="search", input='{"q": "x"}', output="3 results"):
                    pass

    set_trace_processors([])
    floor = _per_span_us(run, n)
    processor = SwarmscopeTracingProcessor(pool=AgentPool(endpoint, queue_size=4 * n))
    set_trace_processors([processor])
    try:
        watched = _per_span_us(run, n)
    finally:
        set_trace_processors([])
        processor.shutdown()
    return floor, watched
