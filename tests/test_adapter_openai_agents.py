"""The OpenAI Agents SDK, run for real and offline: a triage agent hands off to a researcher,
which calls a tool (once failing, once with a secret in its input) and hands off to a writer. The
model is scripted (no API key, no network: the demo's, adapters/demos.py); everything else is the
SDK's own Runner and tracing, with swarmscope's processor, into a real hub, event by event."""

from __future__ import annotations

import asyncio

import pytest
from helpers import drain

agents = pytest.importorskip("agents")

from agents import Agent, Runner, function_tool  # noqa: E402
from agents.tracing import set_trace_processors  # noqa: E402

from swarmscope.adapters.demos import says, scripted_model, tool_call  # noqa: E402
from swarmscope.adapters.openai_agents import SwarmscopeTracingProcessor  # noqa: E402
from swarmscope.core.model.swarm import SwarmModel  # noqa: E402


def test_a_handoff_swarm_shows_its_agents_tools_handoffs_tokens_and_error(hub, feed):
    attempts = []

    @function_tool
    def search(query: str, api_key: str) -> str:
        """Search the web."""
        attempts.append(query)
        if len(attempts) == 1:
            raise TimeoutError("search timed out")
        return f"3 results for {query}"

    writer = Agent(name="writer", model=scripted_model([says("Here is the report.")], pause=0))
    researcher = Agent(
        name="researcher",
        tools=[search],
        handoffs=[writer],
        model=scripted_model(
            [
                tool_call("search", {"query": "agents", "api_key": "sk-secret"}),
                tool_call("search", {"query": "agents again", "api_key": "sk-secret"}),
                tool_call("transfer_to_writer", {}),
            ],
            pause=0,
        ),
    )
    triage = Agent(
        name="triage",
        handoffs=[researcher],
        model=scripted_model([tool_call("transfer_to_researcher", {})], pause=0),
    )
    processor = SwarmscopeTracingProcessor(hub.in_endpoint)
    set_trace_processors([processor])  # ours alone: the SDK's default would export to OpenAI
    try:
        result = asyncio.run(Runner.run(triage, "write me a report on agents"))
    finally:
        set_trace_processors([])
    assert result.final_output == "Here is the report."
    processor.shutdown()
    events = drain(feed, lambda evs: sum(e.kind == "bye" for e in evs) >= 3)

    assert {e.agent for e in events} == {"triage", "researcher", "writer"}
    messages = sorted((e for e in events if e.kind == "message"), key=lambda e: e.ts)
    handoffs = [(e.agent, e.data["to"]) for e in messages]
    assert handoffs == [("triage", "researcher"), ("researcher", "writer")]
    tools = [e for e in events if e.kind == "task_start" and e.data["name"] == "search"]
    assert len(tools) == 2 and all(e.agent == "researcher" for e in tools)
    ends = [e for e in events if e.kind == "task_end" and e.data["task"] == tools[1].data["task"]]
    (done,) = ends
    assert "agents again" in done.data["input"] and "sk-secret" not in done.data["input"]
    assert done.data["output"] == "3 results for agents again" and done.data["result"] == "ok"
    results = [e.data["result"] for e in events if e.kind == "task_end" and e.agent == "researcher"]
    assert "failed" in results
    errors = [e for e in events if e.kind == "error"]
    assert errors and all(e.agent == "researcher" for e in errors)
    tokens = [e for e in events if e.kind == "metric" and e.data["name"] == "tokens.input"]
    assert {e.agent for e in tokens} == {"triage", "researcher", "writer"}

    model = SwarmModel()
    model.apply_many(events)
    assert model.agents["writer"].status == "done"
    assert processor.failed == 0
