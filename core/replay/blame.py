"""Blame: which event last changed one field of one agent, and whose message led to it.

Walks back one keyframe segment at a time: restore the segment's keyframe,
apply its events watching the field, and take the last event after which the
value differs. Only if the segment holds no change does it look further back,
so the usual answer costs one seek.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from swarmscope.core.events import Event
from swarmscope.core.model.swarm import SwarmModel

if TYPE_CHECKING:
    from swarmscope.core.replay.session import Session

CAUSE_WINDOW = 4096
"""How far back (in events) a message to the agent may be to count as the cause of a change."""
_ABSENT = object()


def field_value(model: SwarmModel, agent: str, field: str) -> Any:
    """`field` of `agent` in `model`: an AgentView field, `health`, or a dotted path into one
    (state.plan)."""
    view = model.agents.get(agent)
    if view is None:
        return _ABSENT
    top, *path = field.split(".")
    value = view.health(model.now).value if top == "health" else getattr(view, top, _ABSENT)
    for key in path:
        value = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
    return value


def blame(session: Session, agent: str, field: str, i: int) -> dict[str, Any] | None:
    """The event that gave `agent`'s `field` the value it has right after event i, or None if none
    did."""
    i = session.index_of(i)
    end = i + 1
    while end > 0:
        start = session.keyframe_at_or_before(end - 1)
        model = session.state_before(start)
        before = field_value(model, agent, field)
        change = None
        for k, ev in enumerate(session.iter_events(start, end), start):
            model.apply(ev)
            value = field_value(model, agent, field)
            if value != before:
                change = (k, ev, before, value)
            before = value
        if change is not None:
            return _answer(session, agent, field, i, *change)
        end = start
    return None


def _answer(
    session: Session, agent: str, field: str, i: int, k: int, ev: Event, before: Any, after: Any
) -> dict[str, Any]:
    return {
        "agent": agent,
        "field": field,
        "at": i,
        "index": k,
        "event": event_dict(ev),
        "before": None if before is _ABSENT else before,
        "value": after,
        "caused_by": _cause(session, agent, k),
    }


def _cause(session: Session, agent: str, k: int) -> dict[str, Any] | None:
    """The latest message to `agent` at or before event k (within CAUSE_WINDOW), if any."""
    if session[k].kind == "message":
        return None  # the agent's own message is its own doing
    last = None
    start = max(0, k - CAUSE_WINDOW)
    for n, ev in enumerate(session.iter_events(start, k), start):
        if ev.kind == "message" and ev.data.get("to") == agent:
            last = (n, ev)
    if last is None:
        return None
    n, ev = last
    return {
        "agent": ev.agent,
        "index": n,
        "topic": ev.data.get("topic"),
        "summary": ev.data.get("summary"),
    }


def event_dict(ev: Event) -> dict[str, Any]:
    return ev._asdict()
