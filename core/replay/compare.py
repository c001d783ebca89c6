"""Comparing two sessions: what differs in their metadata, which agents only one has, and where they
first diverge.

Runs of the same workflow interleave agents differently, so events are
aligned per agent by step (an agent's 1st event against its 1st, its 2nd
against its 2nd), not by position in the file. Heartbeats are timing, not
behaviour, so they are left out of the alignment by default, and so are
fields that differ on every run (pid, host).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from itertools import count
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.model.diff import diff_values
from swarmscope.core.replay.session import Session
from swarmscope.core.words import plain

SKIP_KINDS = frozenset({"heartbeat"})
IGNORE_FIELDS = {"hello": frozenset({"pid", "host"})}
META_FIELDS = ("name", "host", "tags", "run", "format")
SUMMARY_FIELDS = ("events", "errors", "checkpoints", "gaps", "restarts", "outcome", "runs")


def compare(a: Session, b: Session, skip_kinds: frozenset[str] = SKIP_KINDS) -> dict[str, Any]:
    """{"meta": {field: (a, b)}, "only_in_a": [...], "only_in_b": [...], "divergence": {...} |
    None}."""
    ma, mb = a.meta, b.meta
    sa, sb = ma["summary"], mb["summary"]
    meta = {f: (ma.get(f), mb.get(f)) for f in META_FIELDS if ma.get(f) != mb.get(f)}
    meta.update({f: (sa.get(f), sb.get(f)) for f in SUMMARY_FIELDS if sa.get(f) != sb.get(f)})
    agents_a, agents_b = set(sa["agents"]), set(sb["agents"])
    return {
        "a": {"id": a.id, "path": ma["path"]},
        "b": {"id": b.id, "path": mb["path"]},
        "meta": meta,
        "only_in_a": sorted(agents_a - agents_b),
        "only_in_b": sorted(agents_b - agents_a),
        "divergence": first_divergence(a, b, agents_a & agents_b, skip_kinds),
    }


def first_divergence(
    a: Session, b: Session, agents: set[str], skip_kinds: frozenset[str] = SKIP_KINDS
) -> dict[str, Any] | None:
    """The first per-agent step at which the two sessions differ, reading both in step; None if none
    does."""
    pending: dict[str, tuple[deque, deque]] = defaultdict(lambda: (deque(), deque()))
    steps: dict[str, int] = defaultdict(int)
    streams = (_steps(a, agents, skip_kinds), _steps(b, agents, skip_kinds))
    live = [True, True]
    while any(live):
        for side, stream in enumerate(streams):
            item = next(stream, None) if live[side] else None
            if item is None:
                live[side] = False
                continue
            queues = pending[item[1].agent]
            queues[side].append(item)
            if queues[0] and queues[1]:
                (ia, ea), (ib, eb) = queues[0].popleft(), queues[1].popleft()
                found = _event_difference(ea, eb)
                if found:
                    return _divergence(ea.agent, steps[ea.agent], ia, ib, *found)
                steps[ea.agent] += 1
    leftovers = [
        (q[side][0], side, agent) for agent, q in pending.items() for side in (0, 1) if q[side]
    ]
    if not leftovers:
        return None
    (index, event), side, agent = min(leftovers, key=lambda x: x[0][0])
    here, there = (index, None), (event.kind, None)
    if side == 1:
        here, there = here[::-1], there[::-1]
    return _divergence(agent, steps[agent], *here, "missing", *there)


def _steps(s: Session, agents: set[str], skip_kinds: frozenset[str]) -> Iterator[tuple[int, Event]]:
    for i, ev in zip(count(), s.iter_events()):
        if ev.agent in agents and ev.kind not in skip_kinds:
            yield i, ev


def _event_difference(ea: Event, eb: Event) -> tuple[str, Any, Any] | None:
    """(field, a, b) of the first difference between two aligned events, ignoring time and ids."""
    if ea.kind != eb.kind:
        return "kind", ea.kind, eb.kind
    ignore = IGNORE_FIELDS.get(ea.kind, frozenset())
    changed = {
        k: v for k, v in diff_values(ea.data, eb.data).items() if k.split(".", 1)[0] not in ignore
    }
    if not changed:
        return None
    field = min(changed)
    return f"data.{field}", *changed[field]


def _divergence(
    agent: str, step: int, index_a: int | None, index_b: int | None, field: str, va: Any, vb: Any
) -> dict[str, Any]:
    return {
        "agent": agent,
        "step": step,
        "index_a": index_a,
        "index_b": index_b,
        "field": field,
        "a": va,
        "b": vb,
    }


def divergence_text(
    d: dict[str, Any], names: tuple[str, str] = ("a", "b"), numbers: bool = True
) -> str:
    """A divergence in words, for the command line and the compare screen alike: values as people
    read them, event numbers as `--at` and `g` take them (from 1; left out with `numbers` False,
    for a screen that jumps there), and a side whose agent sent nothing more said to end there
    rather than shown as an event None."""
    a, b = names
    where = f"first divergence: agent {d['agent']}, its step {d['step'] + 1:,}"
    if d["field"] == "missing":
        return f"{where}: {_ended(d, names)}"
    if numbers:
        where += f" ({a}: event {d['index_a'] + 1:,}, {b}: event {d['index_b'] + 1:,})"
    return f"{where}, {d['field']}: {a} {plain(d['a'])} · {b} {plain(d['b'])}"


def _ended(d: dict[str, Any], names: tuple[str, str]) -> str:
    """One side's agent went on where the other's sent nothing more."""
    (a, b), side = names, 0 if d["index_b"] is None else 1
    more, ended = (a, b) if side == 0 else (b, a)
    index, kind = (d["index_a"], d["a"]) if side == 0 else (d["index_b"], d["b"])
    return (
        f"{more} has a {plain(kind)} (event {index + 1:,}), "
        f"{ended} ends here (no more events from {d['agent']})"
    )
