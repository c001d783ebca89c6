"""What the model knows about each agent, task and pair of agents: plain slotted records.

Kept apart from the reducer (model.py) and the per-kind rules (reducers.py)
because screens, the child-process source and keyframes all pass them around.
"""

from __future__ import annotations

import itertools
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

from swarmscope.core.model.health import SILENT_AFTER, Health, beat_ratio, health_of

DEFAULT_INTERVAL_S = 5.0


@dataclass(slots=True)
class AgentView:
    """Everything the model knows about one agent."""

    id: str
    role: str | None = None
    type: str | None = None
    host: str | None = None
    pid: int | None = None
    tags: Any = None
    interval: float = DEFAULT_INTERVAL_S
    status: str | None = None
    said_bye: bool = False
    task: str | None = None
    task_name: str | None = None
    failed_task: str | None = None
    """The name of the task it last failed, until it starts another: where an agent that failed
    stopped, once its own task is no longer running."""
    progress: float | None = None
    progress_msg: str | None = None
    blockers: list = field(default_factory=list)
    first_seen: int = 0
    last_seen: int = 0
    cpu: float | None = None
    rss: int | None = None
    handles: int | None = None
    last_error: dict | None = None
    errors: int = 0
    tasks_ok: int = 0
    tasks_failed: int = 0
    msgs_in: int = 0
    msgs_out: int = 0
    checkpoint: str | None = None
    state: dict = field(default_factory=dict)
    state_items: int = 0
    """What its state weighs (patch.weight): a model keeps a bounded total
    (reducers.MAX_STATE_TOTAL)."""
    metrics: dict = field(default_factory=dict)
    events: int = 0
    inc: int | None = None
    next_seq: int = 0
    gaps: int = 0
    restarts: int = 0
    running: list = field(default_factory=list)
    """Ids of the tasks it started and has not ended, oldest first; replaced on change, never
    changed in place (copies of the model share it). Its hello or bye abandons them."""

    def health(self, now_ns: int) -> Health:
        return health_of(self.last_seen, self.interval, now_ns, self.status, self.said_bye)

    def beat_ratio(self, now_ns: int) -> float:
        return beat_ratio(self.last_seen, self.interval, now_ns)

    def at_failure(self) -> bool:
        """Whether its task and progress are where it failed rather than in flight (it says it
        failed, or its last task failed and it started none since): a screen must not show them
        as if it were still working."""
        return self.status == "failed" or (self.task_name is None and self.failed_task is not None)

    def reporting(self, now_ns: int) -> bool:
        """Whether its last heartbeat's cpu and rss still say how it is now: not once it said bye
        or done (they are what it used before it finished), nor once silent for long enough to
        count as failed."""
        return (
            not self.said_bye and self.status != "done" and self.beat_ratio(now_ns) <= SILENT_AFTER
        )


@dataclass(slots=True)
class TaskView:
    id: str
    agent: str
    name: str
    started: int
    ended: int | None = None
    result: str | None = None
    """None while running; ok, failed or cancelled after."""
    progress: float | None = None
    message: str | None = None
    blockers: list = field(default_factory=list)
    tokens: int | None = None


@dataclass(slots=True)
class LinkView:
    """Messages from one agent to another."""

    count: int = 0
    bytes: int = 0
    topic: str | None = None
    last: int = 0


def check_rows(cls: type, rows: Iterable[Sequence], ids: int = 0) -> None:
    """Raise ValueError unless each value of these rows (in cls's field order, after `ids` agent
    ids, as a link's row begins) is of a type cls declares.

    Restored models come from files and from hubs: a keyframe or an answer that unpacks
    but holds, say, a progress that is a string would crash a screen later, far from the
    cause. Checked a column at a time in C: ~0.1 ms on a keyframe of 12 agents and 200 tasks."""
    columns = zip(*rows)
    for column in itertools.islice(columns, ids):
        if not set(map(type, column)) <= _ID:
            raise ValueError(f"a {cls.__name__} between agents whose ids are not strings")
    for name, allowed, column in zip(*_FIELD_TYPES[cls], columns):
        if allowed is not None and not set(map(type, column)) <= allowed:
            raise ValueError(f"{cls.__name__}.{name} holds a value of the wrong type")


def build(cls: type, names: frozenset[str], data: dict[str, Any]) -> Any:
    """cls from a plain dict; keys it does not know (a newer writer's) are left out."""
    if names.issuperset(data):
        return cls(**data)
    return cls(**{k: v for k, v in data.items() if k in names})


def from_rows(cls: type, ours: tuple[str, ...], theirs: Any, rows: list) -> list:
    """cls from rows in the field order `theirs` (a keyframe's): positional when it is ours.
    ValueError for a value of the wrong type (see check_rows)."""
    if tuple(theirs) == ours:
        check_rows(cls, rows)
        return [cls(*row) for row in rows]
    views = [build(cls, frozenset(ours), dict(zip(theirs, row))) for row in rows]
    check_rows(cls, map(attrgetter(*ours), views))
    return views


def _allowed(hint: Any) -> frozenset[type] | None:
    """The exact types a value of this annotation may have once unpacked (None: any)."""
    if hint is Any:
        return None
    if isinstance(hint, types.UnionType):
        return frozenset().union(*map(_allowed, typing.get_args(hint)))
    if hint is float:
        return frozenset({float, int})
    return frozenset({hint})


def _field_types(cls: type) -> tuple[tuple[str, ...], tuple[frozenset[type] | None, ...]]:
    hints = typing.get_type_hints(cls)
    names = tuple(f.name for f in fields(cls))
    return names, tuple(_allowed(hints[name]) for name in names)


_FIELD_TYPES = {cls: _field_types(cls) for cls in (AgentView, TaskView, LinkView)}
_ID = frozenset({str})
