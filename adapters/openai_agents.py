"""The OpenAI Agents SDK: its traces, as the events of the agents they are about, live.

    import agents
    from swarmscope.adapters.openai_agents import SwarmscopeTracingProcessor
    agents.add_trace_processor(SwarmscopeTracingProcessor())

What each span of the SDK becomes:

- agent: the agent (hello on first sight), status `running` and a task for its turn; at its end
  the task ends and the status is `done` (`failed`, with an error, if the span failed);
- function: a task of the span's agent, named after the tool, with its input and output
  summarised (secrets masked);
- handoff: a `message` from one agent to the other (topic `handoff`);
- generation, response (a model call): its tokens, as `metric`s `tokens.input`, `tokens.output`;
- a guardrail that tripped: a `log` at level `warning`;
- any span with an error: an `error` of its agent, and its task fails.

A span that is not an agent's belongs to the agent of its nearest ancestor span. The SDK calls
processors on the agent's own thread, inside its event loop: everything here only queues, and
a bug of ours is counted (`failed`), never raised.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor

from swarmscope.adapters.pool import AgentPool, Guarded, summary
from swarmscope.core.words import plain

MAX_REMEMBERED = 100_000
"""Spans whose agent is remembered for the spans under them (the oldest forgotten past it)."""
MODEL_CALLS = ("generation", "response")
"""Spans of one model call: where tokens are counted (a turn's and a run's spans sum them
again)."""


class SwarmscopeTracingProcessor(TracingProcessor, Guarded):
    """Sends the OpenAI Agents SDK's spans to a swarmscope hub as its agents' events."""

    def __init__(
        self, endpoint: str | None = None, *, agent: str = "runner", pool: AgentPool | None = None
    ) -> None:
        """`endpoint` as Emitter takes it; `agent`: whose a span is that no agent span is above
        (a tool called outside any agent); `pool`: share another adapter's agents."""
        self.pool = pool or AgentPool(endpoint, agent_type="openai-agents")
        self.agent = agent
        self._agent_of: OrderedDict[str, str] = OrderedDict()

    # -- the SDK's interface ---------------------------------------------------------------

    def on_trace_start(self, trace: Trace) -> None:
        """A run began: its agents say so as their spans start."""

    def on_trace_end(self, trace: Trace) -> None:
        """A run ended: its agents said so as their spans ended."""

    def on_span_start(self, span: Span[Any]) -> None:
        self.guarded(self._started, span)

    def on_span_end(self, span: Span[Any]) -> None:
        self.guarded(self._ended, span)

    def shutdown(self) -> None:
        self.pool.close()

    def force_flush(self) -> None:
        """The publisher sends as it goes."""

    # -- mapping ------------------------------------------------------------------------

    def _started(self, span: Span[Any]) -> None:
        data = span.span_data
        kind = data.type
        agent = data.name if kind == "agent" else self._whose(span)
        self._remember(span.span_id, agent)
        if kind not in ("agent", "function"):
            return  # nothing to say yet: an agent is made only when it has something to say
        em = self.pool.get(agent)
        if em is None:
            return
        if kind == "agent":
            em.status("running")
            em.task_start(span.span_id, f"{agent} turn", tools=data.tools or [])
        else:
            em.task_start(span.span_id, data.name, input=summary(data.input))

    def _ended(self, span: Span[Any]) -> None:
        data = span.span_data
        kind = data.type
        agent = self._agent_of.get(span.span_id) or self._whose(span)
        error = span.error
        if kind == "handoff" and data.from_agent and data.to_agent:
            agent = data.from_agent
        says = error or kind in ("agent", "function", "handoff", *MODEL_CALLS)
        says = says or (kind == "guardrail" and data.triggered)
        em = self.pool.get(agent) if says else None
        if em is None:
            return
        if error:
            em.error(plain(error.get("message"), 1000), type=_error_type(error), span=kind)
        if kind in ("agent", "function"):
            extra = {}
            if kind == "function":  # the SDK fills a tool's input in as it runs, not at its start
                extra = {"input": summary(data.input), "output": summary(data.output)}
            em.task_end(span.span_id, "failed" if error else "ok", **extra)
        if kind == "agent":
            em.status("failed" if error else "done")
        elif kind == "handoff" and data.from_agent and data.to_agent:
            said = f"{data.from_agent} → {data.to_agent}"
            em.message(data.to_agent, topic="handoff", summary=said)
        elif kind == "guardrail" and data.triggered:
            em.log("warning", f"guardrail {data.name} tripped", guardrail=data.name)
        elif kind in MODEL_CALLS:
            model = getattr(data, "model", None)
            for direction, used in _tokens(data.usage).items():
                em.metric(f"tokens.{direction}", used, **({"model": model} if model else {}))

    def _whose(self, span: Span[Any]) -> str:
        """The agent of the nearest agent span above, else the processor's own."""
        return self._agent_of.get(span.parent_id or "", self.agent)

    def _remember(self, span_id: str, agent: str) -> None:
        self._agent_of[span_id] = agent
        while len(self._agent_of) > MAX_REMEMBERED:
            self._agent_of.popitem(last=False)


def _tokens(usage: Any) -> dict[str, int]:
    """Input and output tokens from a span's usage, in the names the SDK's models use."""
    if not isinstance(usage, dict):
        return {}
    found = {}
    names = (
        ("input", ("input_tokens", "prompt_tokens")),
        ("output", ("output_tokens", "completion_tokens")),
    )
    for direction, keys in names:
        for key in keys:
            if type(usage.get(key)) is int:
                found[direction] = usage[key]
                break
    return found


def _error_type(error: dict[str, Any]) -> str:
    data = error.get("data")
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"][:100]
    return "Error"
