"""The swarm model's fields, each named once, with what every path that moves a model does with it.

A model leaves itself five ways: snapshot() (plain maps: format 1.0 keyframes and to_dict()),
compact() (the rows keyframes and late joiners' answers hold), copy(), a continued session's
carry-over (session/keyframes.carried_over) and the live process's pushes (live/process.py). All
five are derived from the tables below, once, at import: a new field is a row here (and its rule in
reducers.py), not five edits of which a missed one is a silent bug in keyframes or in the live
view. tests/test_model_fields.py holds the tables to the classes (a field the classes have and the
tables do not name fails it, by name) and sends a model with every field set through every path.
docs/sessions.md explains the keys on disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from swarmscope.core.model.kinds import (
    Derived,
    Kind,
    Local,
    Pairs,
    Records,
    Simple,
    ViewFields,
)
from swarmscope.core.model.views import AgentView, LinkView, TaskView


class Push(Enum):
    """What the live process sends of a field to the screen, ten times a second."""

    WHOLE = "all of it"
    CHANGED = "the records whose event count moved since the last push"
    IN_VIEW = "what a screen shows of it: tasks in flight and the newest that did not end ok"
    NEWEST = (
        "its most recent entries that changed since the last push (the screen keeps the newest)"
    )
    NOT = "nothing: no screen reads it"


COMPACT_SINCE = (1, 1)
"""The session format whose keyframes began to hold compact() rows."""


@dataclass(frozen=True)
class ModelField:
    """One SwarmModel attribute, and how each path treats it."""

    name: str
    kind: Kind
    key: str | None
    """Its key in compact() rows, which keyframes hold (None: not stored). Fields that share a key
    are stored together, as a list in the table's order (the counters, "c")."""
    snap: str | None
    """Its key in snapshot() (None: not in a snapshot). Fields that share one are a map by name."""
    counted: bool = False
    """What a session counts for itself: a session that continues another starts it afresh."""
    push: Push = Push.WHOLE
    since: tuple[int, int] = COMPACT_SINCE
    """The session format whose keyframes first hold its key: an older keyframe lacks it."""


# -- the tables ------------------------------------------------------------------------------

AGENT = ViewFields(
    AgentView,
    shared=(
        "id",
        "role",
        "type",
        "host",
        "pid",
        "tags",
        "interval",
        "status",
        "said_bye",
        "task",
        "task_name",
        "failed_task",
        "progress",
        "progress_msg",
        "blockers",
        "first_seen",
        "last_seen",
        "cpu",
        "rss",
        "handles",
        "last_error",
        "msgs_in",
        "msgs_out",
        "checkpoint",
        "state",
        "state_items",
        "inc",
        "next_seq",
        "running",
    ),
    owned=("metrics",),
    counted=("events", "errors", "tasks_ok", "tasks_failed", "gaps", "restarts"),
)
TASK = ViewFields(
    TaskView,
    shared=(
        "id",
        "agent",
        "name",
        "started",
        "ended",
        "result",
        "progress",
        "message",
        "blockers",
        "tokens",
    ),
)
LINK = ViewFields(LinkView, shared=("count", "bytes", "topic", "last"))
VIEW_FIELDS = (AGENT, TASK, LINK)


def _itself(value: Any) -> Any:
    return value


def _same(fresh: Any, value: Any) -> Any:
    return value


def _extend(fresh: Any, values: Iterable) -> Any:
    fresh.extend(values)
    return fresh


def _extend_copies(fresh: Any, buckets: Iterable) -> Any:
    """Rate buckets are counted up in place: a copy holds its own."""
    fresh.extend(map(list, buckets))
    return fresh


def _update(fresh: Any, counts: Any) -> Any:
    fresh.update(counts)
    return fresh


def _copies(buckets: Iterable) -> list[list]:
    return list(map(list, buckets))


def _is_int(value: Any) -> bool:
    return type(value) is int


def _maps(values: list) -> bool:
    return {dict}.issuperset(map(type, values))


def _buckets(values: list) -> bool:
    """[second, events] pairs of ints, what rate_series() computes with."""
    return all(len(b) == 2 and {int}.issuperset(map(type, b)) for b in values)


def _state_items(model: Any) -> int:
    """What all agents' states weigh together: theirs summed, so never stored apart."""
    return sum(a.state_items for a in model.agents.values())


COUNT = Simple(_itself, _same, _is_int)
IDS = Simple(list, _extend)
ERRORS = Simple(list, _extend, _maps)
TALLY = Simple(dict, _update)
RATE = Simple(_copies, _extend_copies, _buckets)

MODEL_FIELDS = (
    ModelField(
        "agents",
        Records(AGENT, "af", snapshot_by_id=True, shared=False),
        "a",
        "agents",
        push=Push.CHANGED,
    ),
    ModelField(
        "tasks",
        Records(TASK, "tf", snapshot_by_id=False, shared=True),
        "t",
        "tasks",
        push=Push.IN_VIEW,
    ),
    ModelField("links", Pairs(LINK), "l", "links", push=Push.NEWEST),
    ModelField("recent_errors", ERRORS, "e", "recent_errors", counted=True),
    ModelField("by_kind", TALLY, "k", "by_kind", counted=True),
    ModelField("events", COUNT, "c", "counters", counted=True),
    ModelField("gaps", COUNT, "c", "counters", counted=True),
    ModelField("reordered", COUNT, "c", "counters", counted=True),
    ModelField("restarts", COUNT, "c", "counters", counted=True),
    ModelField("refused", COUNT, "c", "counters", counted=True),
    ModelField("now", COUNT, "c", "counters"),
    ModelField("rate", RATE, "r", "rate", counted=True),
    ModelField("_done", IDS, "d", None, push=Push.NOT),
    ModelField("_failed", IDS, "f", None, push=Push.NOT, since=(1, 2)),
    ModelField("state_items", Derived(_state_items), None, None, push=Push.NOT),
    ModelField("_shared", Local(), None, None, push=Push.NOT),
)
"""Each SwarmModel attribute once, in the order compact() and snapshot() keep their keys in (the
keyframes on disk have that order: their bytes must not change)."""
PUSHED = tuple(f for f in MODEL_FIELDS if f.push is not Push.NOT)


# -- the paths, derived ----------------------------------------------------------------------


class _One:
    """A field stored under a key of its own."""

    def __init__(self, f: ModelField, key: str) -> None:
        self.name, self.kind, self.key = f.name, f.kind, key
        self.optional = f.since > COMPACT_SINCE

    def rows(self, model: Any) -> Any:
        return self.kind.rows(getattr(model, self.name))

    def plain(self, model: Any) -> Any:
        return self.kind.plain(getattr(model, self.name))

    def from_rows(self, model: Any, rows: dict) -> None:
        if self.optional and self.key not in rows:
            return  # a keyframe older than the field: the model says what that means
        header = rows[self.kind.header] if self.kind.header else None
        stored = _checked(self.name, self.kind, rows[self.key])
        setattr(model, self.name, self.kind.from_rows(getattr(model, self.name), stored, header))

    def from_plain(self, model: Any, snap: dict) -> None:
        stored = _checked(self.name, self.kind, snap[self.key])
        setattr(model, self.name, self.kind.from_plain(getattr(model, self.name), stored))


class _Together:
    """Fields stored under one key (the counters): a list in the table's order in compact rows,
    a map by name in a snapshot."""

    def __init__(self, fields: tuple[ModelField, ...], key: str) -> None:
        self.fields, self.key = fields, key

    def rows(self, model: Any) -> list:
        return [f.kind.rows(getattr(model, f.name)) for f in self.fields]

    def plain(self, model: Any) -> dict[str, Any]:
        return {f.name: f.kind.plain(getattr(model, f.name)) for f in self.fields}

    def from_rows(self, model: Any, rows: dict) -> None:
        for f, stored in zip(self.fields, rows[self.key], strict=True):
            stored = _checked(f.name, f.kind, stored)
            setattr(model, f.name, f.kind.from_rows(getattr(model, f.name), stored, None))

    def from_plain(self, model: Any, snap: dict) -> None:
        group = snap[self.key]
        for f in self.fields:
            stored = _checked(f.name, f.kind, group[f.name])
            setattr(model, f.name, f.kind.from_plain(getattr(model, f.name), stored))


class _Header:
    """The names of a view's fields, in the order of its rows, ahead of them (agents "af", tasks
    "tf"): read by the rows' own slot."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def rows(self, model: Any) -> tuple[str, ...]:
        return self.names

    def from_rows(self, model: Any, rows: dict) -> None:
        """Read with the rows it names."""


def _checked(name: str, kind: Kind, stored: Any) -> Any:
    """`stored` if its kind takes it; ValueError otherwise (a damaged file, a hostile answer)."""
    if not kind.fits(stored):
        raise ValueError(f"{name} holds a value of the wrong type")
    return stored


def _slots(key_of: str) -> tuple[tuple[str, _One | _Together | _Header], ...]:
    """Each stored key in the table's order, with what writes and reads it (a records' header
    first)."""
    groups: dict[str, list[ModelField]] = {}
    for f in MODEL_FIELDS:
        key = getattr(f, key_of)
        if key is not None:
            groups.setdefault(key, []).append(f)
    slots: list[tuple[str, _One | _Together | _Header]] = []
    for key, (first, *more) in groups.items():
        if more:
            slots.append((key, _Together((first, *more), key)))
            continue
        if key_of == "key" and first.kind.header is not None:
            slots.append((first.kind.header, _Header(first.kind.fields.names)))
        slots.append((key, _One(first, key)))
    return tuple(slots)


_COMPACT = _slots("key")
_SNAPSHOT = _slots("snap")
_DERIVED = tuple(f for f in MODEL_FIELDS if isinstance(f.kind, Derived))


def compact_of(model: Any) -> dict[str, Any]:
    """The model as compact() rows (see SwarmModel.compact)."""
    return {key: slot.rows(model) for key, slot in _COMPACT}


def fill_from_compact(model: Any, rows: dict[str, Any]) -> None:
    """A fresh `model` made what compact() `rows` say; ValueError for a value of the wrong type."""
    for _, slot in _COMPACT:
        slot.from_rows(model, rows)
    _derive(model)


def snapshot_of(model: Any) -> dict[str, Any]:
    """The model as snapshot() maps (see SwarmModel.snapshot)."""
    return {key: slot.plain(model) for key, slot in _SNAPSHOT}


def fill_from_snapshot(model: Any, snap: dict[str, Any]) -> None:
    """A fresh `model` made what a snapshot() says (its finished-task queues are the model's to
    file: a snapshot does not hold them)."""
    for _, slot in _SNAPSHOT:
        slot.from_plain(model, snap)
    _derive(model)


def fill_copy(model: Any, source: Any) -> None:
    """A fresh `model` made equal to `source`, each field copied as its kind says."""
    for f in MODEL_FIELDS:
        setattr(model, f.name, f.kind.copy(getattr(model, f.name), getattr(source, f.name)))


def restart_counts(model: Any) -> None:
    """Put back at zero what a session counts for itself (ModelField.counted, ViewFields.counted),
    in a model that is a copy: what the swarm is stays."""
    fresh = type(model)()
    for f in MODEL_FIELDS:
        if f.counted:
            setattr(model, f.name, getattr(fresh, f.name))
        else:
            f.kind.restart(getattr(model, f.name))


def _derive(model: Any) -> None:
    for f in _DERIVED:
        setattr(model, f.name, f.kind.derive(model))
