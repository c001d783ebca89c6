"""CrewAI: a crew's events, as the events of its agents.

    from swarmscope.adapters.crewai import SwarmscopeListener
    listener = SwarmscopeListener()  # listens from here on, to every crew in the process

Each CrewAI agent is an agent, by its role. From CrewAI's event bus:

- an agent's execution of a task: the agent `running` and a task (the task's name or
  description), ended `ok` (the agent `idle`) or `failed` (the agent `failed`, with an `error`);
- a tool's use: a task of the agent using it, named after the tool, with its input summarised
  (secrets masked); an error ends it `failed`, with an `error`;
- an LLM call that completes: its tokens as `metric`s `tokens.input` and `tokens.output`;
- a crew that fails: an `error` of each agent still running.

CrewAI runs its handlers on a thread pool, so they may come in any order: each event is sent at
the time CrewAI stamped on it, one at a time. Heavy (CrewAI installs about 1 GB and pins its own
openai, pydantic and rich): its own extra, `swarmscope[crewai]`, and its tests run only where it
is installed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from crewai.events import BaseEventListener
from crewai.events.types.agent_events import (
    AgentExecutionCompletedEvent,
    AgentExecutionErrorEvent,
    AgentExecutionStartedEvent,
)
from crewai.events.types.crew_events import CrewKickoffFailedEvent
from crewai.events.types.llm_events import LLMCallCompletedEvent
from crewai.events.types.tool_usage_events import (
    ToolUsageErrorEvent,
    ToolUsageFinishedEvent,
    ToolUsageStartedEvent,
)

from swarmscope.adapters.pool import AgentPool, Guarded, StampedClock, summary
from swarmscope.core.words import plain


class SwarmscopeListener(BaseEventListener, Guarded):
    """Registers on CrewAI's event bus when made; `close()` (or exit) says bye for every agent."""

    def __init__(self, endpoint: str | None = None, *, pool: AgentPool | None = None) -> None:
        self._clock = StampedClock()
        self.pool = pool or AgentPool(endpoint, agent_type="crewai", clock=self._clock)
        self._lock = threading.Lock()
        self._running: dict[str, str] = {}
        """Task ids of agents' executions under way, by agent."""
        self._tools: dict[tuple[str, str], list[str]] = {}
        """Tool uses under way, newest last, by agent and tool."""
        self._uses = 0
        super().__init__()

    def close(self) -> None:
        self.pool.close()

    def setup_listeners(self, bus: Any) -> None:
        handlers = {
            AgentExecutionStartedEvent: self._started,
            AgentExecutionCompletedEvent: self._completed,
            AgentExecutionErrorEvent: self._failed,
            ToolUsageStartedEvent: self._tool_started,
            ToolUsageFinishedEvent: self._tool_finished,
            ToolUsageErrorEvent: self._tool_failed,
            LLMCallCompletedEvent: self._llm_completed,
            CrewKickoffFailedEvent: self._crew_failed,
        }
        for event_type, handler in handlers.items():
            bus.on(event_type)(self._handler(handler))

    def _handler(self, handler: Any) -> Any:
        def handle(source: Any, event: Any) -> None:
            with self._lock, self._clock.at(_ns(event)):
                self.guarded(handler, event)

        return handle

    # -- by event -------------------------------------------------------------------------

    def _started(self, event: AgentExecutionStartedEvent) -> None:
        agent, em = self._agent(event.agent)
        task = _task_id(event.task)
        self._running[agent] = task
        em.status("running")
        em.task_start(task, _task_name(event.task))

    def _completed(self, event: AgentExecutionCompletedEvent) -> None:
        agent, em = self._agent(event.agent)
        em.task_end(self._running.pop(agent, _task_id(event.task)), "ok")
        em.status("idle")

    def _failed(self, event: AgentExecutionErrorEvent) -> None:
        agent, em = self._agent(event.agent)
        em.error(plain(event.error, 1000), type="AgentExecutionError")
        em.task_end(self._running.pop(agent, _task_id(event.task)), "failed")
        em.status("failed")

    def _tool_started(self, event: ToolUsageStartedEvent) -> None:
        agent, em = self._agent(event.agent, event.agent_role)
        self._uses += 1
        use = f"{agent}-tool-{self._uses}"
        uses = self._tools.setdefault((agent, event.tool_name), [])
        if len(uses) < 64:  # a tool that never says it finished must not grow us
            uses.append(use)
        em.task_start(use, event.tool_name, input=summary(event.tool_args))

    def _tool_finished(self, event: ToolUsageFinishedEvent) -> None:
        agent, em = self._agent(event.agent, event.agent_role)
        use = self._tool_use(agent, event.tool_name)
        if use:
            em.task_end(use, "ok", output=summary(event.output))

    def _tool_failed(self, event: ToolUsageErrorEvent) -> None:
        agent, em = self._agent(event.agent, event.agent_role)
        em.error(plain(event.error, 1000), type="ToolError", tool=event.tool_name)
        use = self._tool_use(agent, event.tool_name)
        if use:
            em.task_end(use, "failed")

    def _tool_use(self, agent: str, tool: str) -> str | None:
        """The newest use of `tool` by `agent` still under way."""
        uses = self._tools.get((agent, tool))
        return uses.pop() if uses else None

    def _llm_completed(self, event: LLMCallCompletedEvent) -> None:
        usage = event.usage if isinstance(event.usage, dict) else {}
        agent = getattr(event, "from_agent", None) or getattr(event, "agent_role", None)
        if agent is None or not usage:
            return
        _, em = self._agent(agent)
        for direction, keys in (
            ("input", ("prompt_tokens", "input_tokens")),
            ("output", ("completion_tokens", "output_tokens")),
        ):
            used = next((usage[k] for k in keys if type(usage.get(k)) is int), None)
            if used is not None:
                em.metric(
                    f"tokens.{direction}", used, **({"model": event.model} if event.model else {})
                )

    def _crew_failed(self, event: CrewKickoffFailedEvent) -> None:
        for agent in list(self._running):
            em = self.pool.get(agent)
            if em is not None:
                em.error(plain(event.error, 1000), type="CrewKickoffFailed")

    # -- helpers ------------------------------------------------------------------------------

    def _agent(self, agent: Any, role: str | None = None) -> tuple[str, Any]:
        """An agent's name (its role) and Emitter; raises if there is none (guarded: counted)."""
        name = role or (agent if isinstance(agent, str) else getattr(agent, "role", None))
        em = self.pool.get(plain(name, 200)) if name else None
        if em is None:
            raise LookupError("an event of no agent, or past the pool's bound")
        return plain(name, 200), em


def _ns(event: Any) -> int:
    stamp = getattr(event, "timestamp", None)
    return int(stamp.timestamp() * 1e9) if stamp is not None else time.time_ns()


def _task_id(task: Any) -> str:
    return str(getattr(task, "id", None) or id(task))


def _task_name(task: Any) -> str:
    return plain(getattr(task, "name", None) or getattr(task, "description", None) or "task", 100)
