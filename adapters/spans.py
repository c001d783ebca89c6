"""What a span says about agents, in swarmscope's terms: whose it is, what kind of work, its tool,
its tokens, its failure.

Two vocabularies are in use and both are read: the OpenTelemetry GenAI semantic conventions
(`gen_ai.operation.name`, `gen_ai.agent.name`, `gen_ai.tool.name`, `gen_ai.usage.*_tokens`,
`error.type`) and OpenInference's (`openinference.span.kind`, `agent.name`, `tool.name`,
`llm.token_count.*`). Plain functions over a span's attributes (a mapping of str to str, number,
bool or a sequence of them), so the in-process span processor (otel.py) and an OTLP receiver share
them, and what a span says as events (`started`, `ended`, `failure`) is written once here for
both. Nothing here trusts a value's type: an attribute of the wrong type reads as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AGENT = "agent"
TOOL = "tool"
MODEL = "model"
OTHER = "other"
"""What kind of work a span is: an agent's turn, a tool call, a model call, anything else."""

_OPERATIONS = {
    "invoke_agent": AGENT,
    "create_agent": AGENT,
    "execute_tool": TOOL,
    "chat": MODEL,
    "text_completion": MODEL,
    "generate_content": MODEL,
    "embeddings": MODEL,
}
_OPENINFERENCE = {"AGENT": AGENT, "TOOL": TOOL, "LLM": MODEL, "EMBEDDING": MODEL}
_TOKENS = {
    "gen_ai.usage.input_tokens": "input",
    "gen_ai.usage.output_tokens": "output",
    "llm.token_count.prompt": "input",
    "llm.token_count.completion": "output",
}
MAX_TEXT = 200
"""Characters of a name or a summary taken from an attribute."""


def text(attrs: Mapping[str, Any], *keys: str) -> str | None:
    """The first of `keys` whose value is non-empty text, cut to MAX_TEXT."""
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value[:MAX_TEXT]
    return None


def agent_of(attrs: Mapping[str, Any]) -> str | None:
    """The agent a span names as its own, if it names one."""
    return text(attrs, "gen_ai.agent.name", "agent.name")


def kind_of(attrs: Mapping[str, Any]) -> str:
    """AGENT, TOOL, MODEL or OTHER."""
    operation = text(attrs, "gen_ai.operation.name")
    if operation in _OPERATIONS:
        return _OPERATIONS[operation]
    return _OPENINFERENCE.get(text(attrs, "openinference.span.kind") or "", OTHER)


def tool_of(attrs: Mapping[str, Any]) -> str | None:
    return text(attrs, "gen_ai.tool.name", "tool.name")


def model_of(attrs: Mapping[str, Any]) -> str | None:
    return text(attrs, "gen_ai.request.model", "gen_ai.response.model", "llm.model_name")


def tokens_of(attrs: Mapping[str, Any]) -> dict[str, int]:
    """Tokens the span used, by direction (`input`, `output`), from either vocabulary."""
    used: dict[str, int] = {}
    for key, direction in _TOKENS.items():
        value = attrs.get(key)
        if type(value) is int and value >= 0 and direction not in used:
            used[direction] = value
    return used


def work_name(name: str, attrs: Mapping[str, Any]) -> str:
    """What a task of this span is called: the tool, the model, else the span's own name."""
    kind = kind_of(attrs)
    if kind == TOOL:
        return tool_of(attrs) or name[:MAX_TEXT]
    if kind == MODEL:
        model = model_of(attrs)
        return f"model {model}" if model else name[:MAX_TEXT]
    return name[:MAX_TEXT]


def error_type(attrs: Mapping[str, Any], fallback: str = "Error") -> str:
    return text(attrs, "error.type", "exception.type") or fallback


Said = tuple[str, dict[str, Any]]
"""An event as (kind, data), for an Emitter to send (pool.send)."""


def started(name: str, attrs: Mapping[str, Any], task: str) -> list[Said]:
    """What a span says as it starts: an agent's turn is the agent running; work is a task."""
    kind = kind_of(attrs)
    said: list[Said] = [("status", {"status": "running"})] if kind == AGENT else []
    if kind != OTHER:
        said.append(("task_start", {"task": task, "name": work_name(name, attrs), "span": name}))
    return said


def ended(
    attrs: Mapping[str, Any], task: str, failed: dict[str, Any] | None, seconds: float | None
) -> list[Said]:
    """What a span says as it ends: its failure (`failure`'s), its tokens, its task's end, and an
    agent's turn over (idle, or failed)."""
    kind, model = kind_of(attrs), model_of(attrs)
    said: list[Said] = [("error", failed)] if failed is not None else []
    for direction, used in tokens_of(attrs).items():
        labels = {"model": model} if model else {}
        said.append(("metric", {"name": f"tokens.{direction}", "value": used, "labels": labels}))
    if kind != OTHER:
        result = "failed" if failed is not None else "ok"
        said.append(("task_end", {"task": task, "result": result, "duration_s": seconds}))
    if kind == AGENT:
        said.append(("status", {"status": "failed" if failed is not None else "idle"}))
    return said


def failure(
    name: str, attrs: Mapping[str, Any], exception: Mapping[str, Any] | None, status: str
) -> dict[str, Any]:
    """An `error`'s data for a span that failed: the exception it recorded (its `exception`
    event's attributes), else its status's description."""
    if exception is None:
        return {"type": error_type(attrs), "message": status or f"{name} failed", "span": name}
    trace = exception.get("exception.stacktrace")
    return {
        "type": text(exception, "exception.type") or error_type(attrs),
        "message": text(exception, "exception.message") or status or "",
        "traceback": trace if isinstance(trace, str) else None,
        "span": name,
    }
