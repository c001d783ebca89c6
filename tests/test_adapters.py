"""The adapters, against the real thing: the OpenTelemetry SDK's own tracer and Python's logging,
into a real hub, read back by a viewer's feed event by event."""

from __future__ import annotations

import logging

import pytest
from helpers import drain

from swarmscope.adapters.logs import SwarmscopeHandler
from swarmscope.adapters.pool import AgentPool, working_for
from swarmscope.core.model.swarm import SwarmModel


def _byes(n: int):
    return lambda events: sum(e.kind == "bye" for e in events) >= n


def _of(events, agent: str, kind: str | None = None) -> list:
    return [e for e in events if e.agent == agent and (kind is None or e.kind == kind)]


# -- OpenTelemetry, in process
# ------------------------------------------------------------------------------------------------


def test_otel_spans_become_agents_turns_tasks_tokens_and_errors(hub, feed):
    """A triage agent's turn calls a model and a tool that fails; a researcher named the
    OpenInference way runs a tool of its own; a span naming no agent is its parent's."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Status, StatusCode

    from swarmscope.adapters.otel import SwarmscopeSpanProcessor

    provider = TracerProvider(resource=Resource({"service.name": "svc"}))
    processor = SwarmscopeSpanProcessor(hub.in_endpoint)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage"}
    with tracer.start_as_current_span("invoke_agent triage", attributes=agent):
        chat = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-x",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
        }
        with tracer.start_as_current_span("chat gpt-x", attributes=chat):
            pass
        tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
        with pytest.raises(TimeoutError):
            with tracer.start_as_current_span("execute_tool search", attributes=tool):
                raise TimeoutError("search took too long")
        with tracer.start_as_current_span("format answer"):
            pass
    researcher = {"openinference.span.kind": "AGENT", "agent.name": "researcher"}
    with tracer.start_as_current_span("researcher", attributes=researcher) as span:
        with tracer.start_as_current_span(
            "fetch", attributes={"openinference.span.kind": "TOOL", "tool.name": "fetch"}
        ):
            pass
        span.set_status(Status(StatusCode.ERROR, "gave up"))
    provider.shutdown()
    events = drain(feed, _byes(2))

    assert {e.agent for e in events} == {"triage", "researcher"}
    starts = [e.data["name"] for e in _of(events, "triage", "task_start")]
    assert starts == ["invoke_agent triage", "model gpt-x", "search"]
    ends = {e.data["task"]: e.data["result"] for e in _of(events, "triage", "task_end")}
    assert sorted(ends.values()) == ["failed", "ok", "ok"]
    (error,) = _of(events, "triage", "error")
    assert error.data["type"] == "TimeoutError" and "too long" in error.data["message"]
    assert "Traceback" in error.data["traceback"]
    tokens = {e.data["name"]: e.data["value"] for e in _of(events, "triage", "metric")}
    assert tokens == {"tokens.input": 120, "tokens.output": 30}
    statuses = [e.data["status"] for e in _of(events, "researcher", "status")]
    assert statuses == ["running", "failed"]
    assert [e.data["name"] for e in _of(events, "researcher", "task_start")][-1] == "fetch"

    model = SwarmModel()
    model.apply_many(events)
    assert model.agents["triage"].tasks_failed == 1 and model.agents["triage"].tasks_ok == 2
    assert model.agents["researcher"].status == "failed"
    assert processor.failed == 0


def test_a_span_that_names_no_agent_nor_has_one_above_is_the_programs(hub, feed):
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from swarmscope.adapters.otel import SwarmscopeSpanProcessor

    provider = TracerProvider(resource=Resource({"service.name": "billing"}))
    provider.add_span_processor(SwarmscopeSpanProcessor(hub.in_endpoint))
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "charge"}
    with provider.get_tracer("t").start_as_current_span("charge", attributes=tool):
        pass
    provider.shutdown()
    events = drain(feed, _byes(1))
    assert {e.agent for e in events} == {"billing"}
    assert [e.data["name"] for e in _of(events, "billing", "task_start")] == ["charge"]


# -- Python logging
# ------------------------------------------------------------------------------------------------


def test_log_records_become_their_agents_events(hub, feed):
    """Whose a record is: extra says, else a logger under the prefix, else the agent a framework
    adapter works for now, else the handler's own. An exception is an error too; swarmscope's own
    loggers never come back through."""
    pool = AgentPool(hub.in_endpoint)
    handler = SwarmscopeHandler("main", prefix="swarm", pool=pool)
    log = logging.getLogger("test_adapters")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    named = logging.getLogger("swarm.planner-1.tools")
    named.addHandler(handler)
    named.setLevel(logging.DEBUG)
    ours = logging.getLogger("swarmscope.hub")
    ours.addHandler(handler)
    try:
        log.info("plain %s", "record", extra={"ticket": 7})
        log.warning("said whose", extra={"agent": "coder-2"})
        named.debug("under the prefix")
        with working_for("researcher-3"):
            try:
                raise ValueError("no such source")
            except ValueError:
                log.exception("fetch failed")
        ours.error("never sent")
        # a format that does not fit its arguments (straight to the handler: pytest's own raises)
        handler.handle(
            log.makeRecord("test_adapters", logging.INFO, "f", 1, "bad %d", ("x",), None)
        )
    finally:
        for logger in (log, named, ours):
            logger.removeHandler(handler)
        handler.close()
    events = drain(feed, _byes(4))

    logs = {(e.agent, e.data["message"]) for e in events if e.kind == "log"}
    assert logs == {
        ("main", "plain record"),
        ("coder-2", "said whose"),
        ("planner-1", "under the prefix"),
        ("researcher-3", "fetch failed"),
        ("main", "'bad %d' % ('x',)"),
    }
    (plain,) = [e for e in _of(events, "main", "log") if e.data["message"] == "plain record"]
    assert plain.data["level"] == "info" and plain.data["fields"]["ticket"] == 7
    assert plain.data["fields"]["logger"] == "test_adapters"
    (error,) = _of(events, "researcher-3", "error")
    assert error.data["type"] == "ValueError" and "no such source" in error.data["traceback"]
    assert handler.failed == 0


# -- the examples, as a user runs them
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "example, agents",
    [
        ("otel_agents.py", {"triage", "researcher"}),
        ("logging_agents.py", {"planner", "coder"}),
        ("langgraph_swarm.py", {"supervisor", "researcher", "writer"}),
        ("openai_agents_swarm.py", {"triage", "researcher", "writer"}),
    ],
)
def test_each_example_puts_its_agents_on_the_hub(hub, feed, example, agents):
    import os
    import subprocess
    import sys
    from pathlib import Path

    needs = {
        "otel_agents.py": "opentelemetry.sdk",
        "langgraph_swarm.py": "langgraph",
        "openai_agents_swarm.py": "agents",
    }
    pytest.importorskip(needs.get(example, "logging"))
    script = Path(__file__).parent.parent / "examples" / example
    env = {**os.environ, "SWARMSCOPE_ENDPOINT": hub.in_endpoint}
    done = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    events = drain(feed, _byes(len(agents)))
    assert {e.agent for e in events} == agents
    if example != "openai_agents_swarm.py":  # the others each show a failure
        assert any(e.kind == "error" for e in events)


# -- swarmscope demo --framework
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", ["otel", "openai-agents", "langgraph"])
def test_demo_runs_each_frameworks_workflow_offline_through_its_adapter(tmp_path, framework):
    """Three agents, their handoffs and the researcher's failing tool, with no key and no
    network: the framework's own runner, graph or tracer, and its adapter."""
    import subprocess
    import sys

    pytest.importorskip(
        {"otel": "opentelemetry.sdk", "openai-agents": "agents"}.get(framework, framework)
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmscope.tui.cli",
            "demo",
            "--framework",
            framework,
            "--headless",
            "--duration",
            "8",
            "--in",
            f"ipc://{tmp_path}/in",
            "--out",
            f"ipc://{tmp_path}/out",
            "--dir",
            str(tmp_path / "sessions"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    final = done.stdout.strip().splitlines()[-1]
    assert final.startswith("final:") and " 3 agents" in final and "0 lost, 0 refused" in final
    assert "the workflow stopped" not in done.stderr


def test_the_adapters_bench_gives_its_figures():
    pytest.importorskip("opentelemetry.sdk")
    from swarmscope.bench.adapters import bench_adapters

    got = bench_adapters(quick=True, report=None)
    assert got["otel_adapter_us"] > 0 and got["otel_floor_us"] > 0
