"""LangGraph, run for real: a supervisor hands work to a researcher (a subgraph that reports
progress) and then to a writer that fails, streamed through `watch` into a real hub."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from helpers import drain

pytest.importorskip("langgraph")

from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.config import get_stream_writer  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402
from langgraph.types import Command  # noqa: E402

from swarmscope.adapters.langgraph import watch  # noqa: E402
from swarmscope.core.model.swarm import SwarmModel  # noqa: E402


class State(TypedDict):
    notes: Annotated[list, operator.add]
    step: int


def _graph():
    def search(state):
        get_stream_writer()({"progress": 0.5, "message": "2 of 4 sources"})
        return {"notes": ["found"]}

    research = StateGraph(State)
    research.add_node("search", search)
    research.add_edge(START, "search")
    research.add_edge("search", END)

    def supervisor(state):
        return Command(goto="researcher" if state["step"] == 0 else "writer", update={"step": 1})

    def writer(state):
        raise ValueError("no template for this report")

    graph = StateGraph(State)
    graph.add_node("supervisor", supervisor)
    graph.add_node("researcher", research.compile())
    graph.add_node("writer", writer)
    graph.add_edge(START, "supervisor")
    graph.add_edge("researcher", "supervisor")
    graph.add_edge("writer", END)
    return graph.compile(checkpointer=InMemorySaver())


def test_a_supervisor_graph_shows_its_nodes_handoffs_progress_checkpoints_and_failure(hub, feed):
    parts = _graph().stream(
        {"notes": [], "step": 0},
        {"configurable": {"thread_id": "t-1"}},
        stream_mode=["tasks", "updates", "checkpoints", "custom"],
        subgraphs=True,
        version="v2",
    )
    seen = []
    with pytest.raises(ValueError):
        for part in watch(parts, endpoint=hub.in_endpoint):
            seen.append(part)
    assert seen and all("type" in p for p in seen)  # passed through as they came
    events = drain(feed, lambda evs: sum(e.kind == "bye" for e in evs) >= 3)

    assert {e.agent for e in events} == {"supervisor", "researcher", "writer"}
    messages = sorted((e for e in events if e.kind == "message"), key=lambda e: e.ts)
    handoffs = [(e.agent, e.data["to"]) for e in messages]
    assert handoffs == [
        ("supervisor", "researcher"),
        ("researcher", "supervisor"),
        ("supervisor", "writer"),
    ]
    names = [e.data["name"] for e in events if e.kind == "task_start" and e.agent == "researcher"]
    assert names == ["researcher", "search"]  # the subgraph's node is a task of its agent
    (progress,) = [e for e in events if e.kind == "progress"]
    assert progress.agent == "researcher" and progress.data["fraction"] == 0.5
    checkpoints = [e for e in events if e.kind == "checkpoint"]
    assert checkpoints and all(e.data["id"] for e in checkpoints)
    (error,) = [e for e in events if e.kind == "error"]
    assert error.agent == "writer" and "no template" in error.data["message"]
    patches = [e.data["patch"] for e in events if e.kind == "patch" and e.agent == "researcher"]
    assert patches == [{"notes": ["found"], "step": 1}]

    model = SwarmModel()
    model.apply_many(events)
    assert model.agents["writer"].status == "failed"
    assert model.agents["writer"].tasks_failed == 1
    assert model.agents["researcher"].tasks_ok == 2


def test_invoke_with_the_callback_handler_shows_the_same_swarm(hub, feed):
    """invoke() streams nothing: LangChain's callbacks tell the same story, and a node's
    Command(goto=...) is its handoff."""
    from swarmscope.adapters.langgraph import SwarmscopeCallbackHandler

    handler = SwarmscopeCallbackHandler(hub.in_endpoint)
    with pytest.raises(ValueError):
        _graph().invoke(
            {"notes": [], "step": 0}, {"configurable": {"thread_id": "t-2"}, "callbacks": [handler]}
        )
    handler.close()
    events = drain(feed, lambda evs: sum(e.kind == "bye" for e in evs) >= 3)

    assert {e.agent for e in events} == {"supervisor", "researcher", "writer"}
    messages = sorted((e for e in events if e.kind == "message"), key=lambda e: e.ts)
    assert [(e.agent, e.data["to"]) for e in messages] == [
        ("supervisor", "researcher"),
        ("supervisor", "writer"),
    ]
    names = [e.data["name"] for e in events if e.kind == "task_start" and e.agent == "researcher"]
    assert names == ["researcher", "search"]
    (error,) = [e for e in events if e.kind == "error"]
    assert error.agent == "writer" and error.data["type"] == "ValueError"
    model = SwarmModel()
    model.apply_many(events)
    assert model.agents["writer"].status == "failed"
    assert model.agents["supervisor"].tasks_ok == 2 and model.agents["researcher"].tasks_ok == 2
    assert handler.failed == 0
