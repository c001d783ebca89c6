"""Scripted multi-agent workflows of each framework, offline, for `swarmscope demo --framework`.

Each runs the framework for real (its own runner, graph or tracer) through its adapter, with a
scripted model where it needs one (no API key, no network), over and over at a pace a person can
follow, until told to stop: a triage agent hands off to a researcher, whose search tool fails
about one time in four, and the researcher hands off to a writer. A seeded random picks the
failures, so a seed gives the same run.
"""

from __future__ import annotations

import asyncio
import json
import operator
import random
import time
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from swarmscope.core.errors import ConfigError

Stop = Callable[[], bool]
FRAMEWORKS = ("openai-agents", "langgraph", "otel")
STEP_S = 0.6
"""How long each scripted step takes: slow enough to watch."""


def driver(framework: str) -> Callable[[str, Stop, int], None]:
    """The workflow of `framework` (endpoint, stop, seed), or one line on what to install."""
    try:
        if framework == "openai-agents":
            import agents  # noqa: F401

            return _openai_agents
        if framework == "langgraph":
            import langgraph  # noqa: F401

            return _langgraph
        import opentelemetry.sdk  # noqa: F401

        return _otel
    except ImportError:
        extra = "otel" if framework == "otel" else framework
        raise ConfigError(
            f"--framework {framework} needs the framework: pip install 'swarmscope[{extra}]'"
        ) from None


def _pause(stop: Stop, seconds: float = STEP_S) -> None:
    deadline = time.monotonic() + seconds
    while not stop() and time.monotonic() < deadline:
        time.sleep(0.05)


# -- OpenTelemetry -----------------------------------------------------------------------------


def _otel(endpoint: str, stop: Stop, seed: int) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from swarmscope.adapters.otel import SwarmscopeSpanProcessor

    provider = TracerProvider(resource=Resource({"service.name": "otel-demo"}))
    provider.add_span_processor(SwarmscopeSpanProcessor(endpoint))
    tracer, rng = provider.get_tracer("swarmscope-demo"), random.Random(seed)

    def turn(agent: str, tool: str | None = None) -> None:
        named = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}
        with tracer.start_as_current_span(f"invoke_agent {agent}", attributes=named):
            chat = {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "scripted",
                "gen_ai.usage.input_tokens": rng.randint(400, 1200),
                "gen_ai.usage.output_tokens": rng.randint(50, 300),
            }
            with tracer.start_as_current_span("chat scripted", attributes=chat):
                _pause(stop)
            if tool:
                call = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool}
                try:
                    with tracer.start_as_current_span(f"execute_tool {tool}", attributes=call):
                        _pause(stop)
                        if rng.random() < 0.25:
                            raise TimeoutError(f"{tool} did not answer in time")
                except TimeoutError:
                    pass

    try:
        while not stop():
            for agent, tool in (("triage", None), ("researcher", "web_search"), ("writer", None)):
                turn(agent, tool)
            _pause(stop)
    finally:
        provider.shutdown()


# -- the OpenAI Agents SDK ------------------------------------------------------------------------


def _openai_agents(endpoint: str, stop: Stop, seed: int) -> None:
    from agents import Agent, Runner, function_tool
    from agents.tracing import set_trace_processors

    from swarmscope.adapters.openai_agents import SwarmscopeTracingProcessor

    rng = random.Random(seed)

    @function_tool
    def web_search(query: str) -> str:
        """Search the web."""
        time.sleep(STEP_S)
        if rng.random() < 0.25:
            raise TimeoutError("web_search did not answer in time")
        return f"4 sources on {query}"

    writer = Agent(name="writer", model=scripted_model([says("The report, with 4 sources.")]))
    researcher = Agent(
        name="researcher",
        tools=[web_search],
        handoffs=[writer],
        model=scripted_model(
            [
                tool_call("web_search", {"query": "agent swarms"}),
                tool_call("transfer_to_writer", {}),
            ]
        ),
    )
    triage = Agent(
        name="triage",
        handoffs=[researcher],
        model=scripted_model([tool_call("transfer_to_researcher", {})]),
    )
    processor = SwarmscopeTracingProcessor(endpoint)
    set_trace_processors([processor])
    try:
        while not stop():
            asyncio.run(Runner.run(triage, "a report on agent swarms"))
            _pause(stop)
    finally:
        set_trace_processors([])
        processor.shutdown()


_CALLS = iter(range(1 << 62))


def tool_call(name: str, arguments: dict[str, Any]) -> Callable[[], Any]:
    """A scripted model's answer that calls a tool (or hands off: `transfer_to_<agent>`), with a
    call id of its own each time (the SDK refuses one reused)."""
    from openai.types.responses import ResponseFunctionToolCall

    def made() -> ResponseFunctionToolCall:
        n = next(_CALLS)
        return ResponseFunctionToolCall(
            id=f"fc-{n}",
            call_id=f"call-{n}",
            type="function_call",
            name=name,
            arguments=json.dumps(arguments),
        )

    return made


def says(text: str) -> Callable[[], Any]:
    """A scripted model's final answer."""
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText

    def made() -> ResponseOutputMessage:
        return ResponseOutputMessage(
            id="msg",
            type="message",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(text=text, type="output_text", annotations=[])],
        )

    return made


def _scripted_model_class() -> type:
    from agents import ModelResponse, Usage
    from agents.models.interface import Model
    from agents.tracing import generation_span

    class ScriptedModel(Model):
        """Answers each call with the next output of its script, round and round, after a pause
        as a model would take, in a generation span with its tokens as a model's would be."""

        def __init__(self, script: list[Callable[[], Any]], pause: float) -> None:
            self.script, self.turn, self.pause = script, 0, pause

        async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
            made = self.script[self.turn % len(self.script)]()
            self.turn += 1
            with generation_span(
                model="scripted", usage={"input_tokens": 900, "output_tokens": 120}
            ):
                await asyncio.sleep(self.pause)
            usage = Usage(requests=1, input_tokens=900, output_tokens=120)
            return ModelResponse(output=[made], usage=usage, response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError("the demo does not stream")

    return ScriptedModel


def scripted_model(script: list[Callable[[], Any]], pause: float = STEP_S) -> Any:
    """A model of the Agents SDK that answers from `script` (tool_call, says), round and round,
    each after `pause` seconds (its class is made once the SDK is imported)."""
    return _scripted_model_class()(script, pause)


class State(TypedDict):
    """The LangGraph demo's state: what the nodes found, and how far the run is."""

    notes: Annotated[list, operator.add]
    stage: int


# -- CrewAI ----------------------------------------------------------------------------------------


def scripted_llm(script: list[str]) -> Any:
    """A CrewAI LLM that answers each call with the next of `script`, in CrewAI's own format
    ("Thought: ...\nAction: ...", or "...\nFinal Answer: ...")."""
    from crewai.llms.base_llm import BaseLLM

    class ScriptedLLM(BaseLLM):
        answers: list = []

        def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
            return self.answers.pop(0)

        def supports_function_calling(self) -> bool:
            return False

    llm = ScriptedLLM(model="scripted")
    llm.answers = list(script)
    return llm


# -- LangGraph ------------------------------------------------------------------------------------


def _langgraph(endpoint: str, stop: Stop, seed: int) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.config import get_stream_writer
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command

    from swarmscope.adapters.langgraph import watch

    rng = random.Random(seed)

    def search(state: State) -> dict:
        write = get_stream_writer()
        for k in range(1, 5):
            _pause(stop, STEP_S / 2)
            write({"progress": k / 4, "message": f"{k} of 4 sources"})
        if rng.random() < 0.25:
            raise TimeoutError("web_search did not answer in time")
        return {"notes": ["4 sources"]}

    research = StateGraph(State)
    research.add_node("search", search)
    research.add_edge(START, "search")
    research.add_edge("search", END)

    def triage(state: State) -> Command:
        _pause(stop)
        return Command(goto="researcher" if state["stage"] == 0 else "writer", update={"stage": 1})

    def writer(state: State) -> dict:
        _pause(stop)
        return {"notes": ["the report"]}

    graph = StateGraph(State)
    graph.add_node("triage", triage)
    graph.add_node("researcher", research.compile())
    graph.add_node("writer", writer)
    graph.add_edge(START, "triage")
    graph.add_edge("researcher", "triage")
    graph.add_edge("writer", END)
    modes = ["tasks", "updates", "checkpoints", "custom"]
    while not stop():
        app = graph.compile(checkpointer=InMemorySaver())  # a run's checkpoints, then let go
        config = {"configurable": {"thread_id": "demo"}}
        parts = app.stream(
            {"notes": [], "stage": 0}, config, stream_mode=modes, subgraphs=True, version="v2"
        )
        try:
            for _ in watch(parts, endpoint=endpoint):
                if stop():
                    break
        except TimeoutError:
            pass  # the researcher's search failed: the demo shows it, and runs again
        _pause(stop)
