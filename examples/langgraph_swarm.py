"""A LangGraph supervisor and two workers, watched by swarmscope: run `swarmscope demo` or a hub,
then `python examples/langgraph_swarm.py`. Needs `pip install 'swarmscope[langgraph]'`.

Plain Python nodes (no model, no key); with yours, only the `watch(...)` line is new."""

import operator
from typing import Annotated, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from swarmscope.adapters.langgraph import watch


class State(TypedDict):
    notes: Annotated[list, operator.add]
    stage: int


def supervisor(state: State) -> Command:
    return Command(goto="researcher" if state["stage"] == 0 else "writer", update={"stage": 1})


def researcher(state: State) -> dict:
    write = get_stream_writer()
    for k in range(1, 4):
        write({"progress": k / 3, "message": f"{k} of 3 sources"})
    return {"notes": ["3 sources"]}


def writer(state: State) -> dict:
    raise ValueError("no template for this report")  # a failure, to see one


graph = StateGraph(State)
graph.add_node("supervisor", supervisor)
graph.add_node("researcher", researcher)
graph.add_node("writer", writer)
graph.add_edge(START, "supervisor")
graph.add_edge("researcher", "supervisor")
graph.add_edge("writer", END)
modes = ["tasks", "updates", "checkpoints", "custom"]
stream = graph.compile().stream({"notes": [], "stage": 0}, stream_mode=modes, version="v2")
try:
    for part in watch(stream):  # the one line: each part as it came, to use as before
        print(part["type"], list(part["data"])[:3] if isinstance(part["data"], dict) else "")
except ValueError as exc:
    print(f"the graph failed, as scripted: {exc}")
