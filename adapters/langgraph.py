"""LangGraph: a graph's stream, passed through unchanged, as the events of its nodes.

    from swarmscope.adapters.langgraph import watch
    modes = ["tasks", "updates", "checkpoints", "custom"]
    stream = graph.stream(inputs, config, stream_mode=modes, subgraphs=True, version="v2")
    for part in watch(stream):
        ...

Each node of the graph is an agent; a subgraph is the agent of the node that runs it, and the
subgraph's own nodes are that agent's tasks. From each kind of part:

- tasks: a task starts (the agent `running`) and ends (`idle`, or `failed` with an `error`);
  control passing from one node to the next (an edge, or a `Command(goto=...)`) is a `message`
  from the node that ended to the one that starts, topic `handoff`;
- updates: what a node wrote to the state, as a `patch` of its agent's state (top-level nodes);
- checkpoints: a `checkpoint` of the agents that just ran, labelled `step N`, with LangGraph's
  checkpoint id;
- custom (what a node's stream writer sends): `{"progress": f}` a progress, `{"metric": name,
  "value": v}` a metric, anything else a `log` (its `message`, or the value itself).

A subgraph's tasks still open when its node ends (a handoff that escaped it) are ended
`cancelled`, and at the stream's end (or its failure) every task still open is, and every agent
says bye. Other stream modes pass through untouched.

For `invoke()`, which streams nothing, `SwarmscopeCallbackHandler` reads LangChain's callbacks
instead: each node's run is a task of its agent (running, then idle or failed, with its error),
and a node that returns `Command(goto=...)` sends a handoff `message` to each node it names.

    handler = SwarmscopeCallbackHandler()
    graph.invoke(inputs, {"callbacks": [handler]})
    handler.close()  # every agent says bye (else at exit)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.types import Command, Send

from swarmscope.adapters.pool import AgentPool, Guarded
from swarmscope.core.words import plain

HANDOFF = "branch:to:"
"""The trigger of a node that control was passed to."""


def watch(parts: Iterable[Any], *, endpoint: str | None = None) -> Iterator[Any]:
    """Each part of a LangGraph v2 stream, unchanged, told to swarmscope on its way."""
    watcher = GraphWatcher(AgentPool(endpoint, agent_type="langgraph"))
    try:
        for part in parts:
            watcher.take(part)
            yield part
    finally:
        watcher.close()


class GraphWatcher(Guarded):
    """What one stream's parts say, as events (see the module's docstring). Never raises: a part
    it cannot read is counted in `failed`."""

    def __init__(self, pool: AgentPool) -> None:
        self.pool = pool
        self._open: dict[str, tuple[str, tuple[str, ...]]] = {}
        """Tasks started and not ended: their agent and namespace, by task id."""
        self._ended: list[str] = []
        """Agents whose top-level tasks ended since the last one started: who handed off."""
        self._fresh = False
        """A top-level task started since the last one ended."""

    def take(self, part: Any) -> None:
        self.guarded(self._take, part)

    def _take(self, part: Any) -> None:
        kind, ns, data = part["type"], tuple(part["ns"]), part["data"]
        getattr(self, f"_{kind}", _ignored)(ns, data)

    def close(self) -> None:
        """End every task still open (cancelled), and every agent says bye."""
        for task in list(self._open):
            self._end(task, "cancelled")
        self.pool.close()

    # -- by kind of part ---------------------------------------------------------------------

    def _tasks(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        task, name = str(data["id"]), str(data["name"])
        agent = _agent(ns, name)
        em = self.pool.get(agent)
        if em is None:
            return
        if "input" in data:  # a start
            self._open[task] = (agent, ns)
            if not ns:
                self._handed_to(agent, data.get("triggers") or ())
            em.status("running")
            em.task_start(task, name)
            return
        error = data.get("error")
        if error:
            em.error(plain(error, 1000), type="NodeError", node=name)
        self._end(task, "failed" if error else "ok")
        if not ns:
            self._close_inside(agent, task)
            em.status("failed" if error else "idle")
            self._ended = [] if self._fresh else self._ended
            self._fresh = False
            self._ended.append(agent)

    def _handed_to(self, agent: str, triggers: Iterable[str]) -> None:
        """Control came to `agent`: a message from each node that ended before it."""
        if any(str(t).startswith(HANDOFF) for t in triggers):
            for sender in dict.fromkeys(self._ended):
                em = self.pool.get(sender) if sender != agent else None
                if em is not None:
                    em.message(agent, topic="handoff", summary=f"{sender} → {agent}")
        self._fresh = True

    def _updates(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        if ns:
            return  # a subgraph's writes reach its node's update too
        for node, update in data.items():
            if node.startswith("__") or not isinstance(update, dict):
                continue
            em = self.pool.get(node)
            if em is not None:
                em.patch(update)

    def _checkpoints(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        config = (data.get("config") or {}).get("configurable") or {}
        step = (data.get("metadata") or {}).get("step")
        agents = [_agent(ns, "")] if ns else list(dict.fromkeys(self._ended))
        for agent in agents:
            em = self.pool.get(agent)
            if em is not None:
                em.checkpoint(f"step {step}", id=config.get("checkpoint_id"), step=step)

    def _custom(self, ns: tuple[str, ...], data: Any) -> None:
        running = {a for a, n in self._open.values() if not n}
        agent = _agent(ns, "") if ns else (running.pop() if len(running) == 1 else None)
        em = self.pool.get(agent) if agent else None
        if em is None:
            return
        if isinstance(data, dict) and isinstance(data.get("progress"), int | float):
            em.progress(float(data["progress"]), message=plain(data.get("message"), 200) or None)
        elif isinstance(data, dict) and isinstance(data.get("metric"), str):
            em.metric(data["metric"], data.get("value", 0))
        elif isinstance(data, dict) and "message" in data:
            em.log(str(data.get("level", "info")), plain(data["message"], 1000))
        else:
            em.log("info", plain(data, 1000))

    # -- tasks ---------------------------------------------------------------------------------

    def _end(self, task: str, result: str) -> None:
        agent, _ = self._open.pop(task, (None, ()))
        em = self.pool.get(agent) if agent else None
        if em is not None:
            em.task_end(task, result)

    def _close_inside(self, agent: str, task: str) -> None:
        """A node ended: its subgraph's tasks still open end `cancelled`."""
        inside = f"{agent}:{task}"
        for other, (_, ns) in list(self._open.items()):
            if ns and ns[0] == inside:
                self._end(other, "cancelled")


MAX_RUNS = 100_000
"""Node runs remembered between their start and end (the oldest forgotten past it)."""


class SwarmscopeCallbackHandler(BaseCallbackHandler, Guarded):
    """LangChain callbacks of a graph's `invoke()`, as its nodes' events (see the module's
    docstring). LangChain calls it on the graph's threads: it only queues, and never raises."""

    def __init__(self, endpoint: str | None = None, *, pool: AgentPool | None = None) -> None:
        self.pool = pool or AgentPool(endpoint, agent_type="langgraph")
        self._runs: OrderedDict[UUID, tuple[str, str]] = OrderedDict()
        """(agent, node) of each node run started and not ended."""

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.guarded(self._started, run_id, kwargs.get("name"), metadata or {})

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.guarded(self._ended, run_id, outputs, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.guarded(self._ended, run_id, None, error)

    def close(self) -> None:
        """Runs still open end `cancelled`; every agent says bye."""
        for run in list(self._runs):
            self._ended(run, None, None, "cancelled")
        self.pool.close()

    def _started(self, run: UUID, name: Any, metadata: dict[str, Any]) -> None:
        node = metadata.get("langgraph_node")
        if not isinstance(node, str) or name != node:
            return  # not a node's own run (the graph's, or a runnable inside a node)
        ns = str(metadata.get("langgraph_checkpoint_ns") or "")
        agent = ns.split("|", 1)[0].split(":", 1)[0] or node
        em = self.pool.get(agent)
        if em is None:
            return
        self._runs[run] = (agent, node)
        while len(self._runs) > MAX_RUNS:
            self._runs.popitem(last=False)
        if agent == node:
            em.status("running")
        em.task_start(str(run), node)

    def _ended(
        self, run: UUID, outputs: Any, error: BaseException | None, result: str = ""
    ) -> None:
        agent, node = self._runs.pop(run, (None, None))
        em = self.pool.get(agent) if agent else None
        if em is None:
            return
        if error is not None:
            em.error(error, node=node)
        em.task_end(str(run), result or ("failed" if error is not None else "ok"))
        if agent != node:
            return
        em.status("failed" if error is not None else "idle")
        for target in _goto(outputs):
            if target != agent:
                em.message(target, topic="handoff", summary=f"{agent} → {target}")


def _goto(outputs: Any) -> list[str]:
    """The nodes a node's `Command(goto=...)` names."""
    if not isinstance(outputs, Command):
        return []
    goto = outputs.goto if isinstance(outputs.goto, list | tuple) else [outputs.goto]
    return [g.node if isinstance(g, Send) else g for g in goto if isinstance(g, str | Send)]


def _agent(ns: tuple[str, ...], name: str) -> str:
    """A part's agent: the top-level node whose subgraph it is in, else the node itself."""
    return ns[0].split(":", 1)[0] if ns else name


def _ignored(ns: tuple[str, ...], data: Any) -> None:
    """A stream mode that says nothing of agents here (values, messages, debug)."""
