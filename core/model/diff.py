"""Structured differences between two plain-data values, as a UI wants them: path -> (before,
after).

Maps are walked key by key and named by dotted paths (`state.plan`), so a
change deep inside an agent's state shows as that one field, not as "state
changed". Lists and scalars compare whole.
"""

from __future__ import annotations

from typing import Any

MISSING = None
"""What a side that lacks a path shows (JSON-friendly)."""
BOOKKEEPING = frozenset(
    {
        "events",
        "last_seen",
        "next_seq",
        "inc",
        "first_seen",
        "cpu",
        "rss",
        "handles",
        "running",
        "state_items",
    }
)
"""Agent fields that change with every event or beat, and the running tasks' ids (what `task` says,
less readably): left out where a diff is read for behaviour."""


def behaviour(changes: dict[str, Any]) -> dict[str, Any]:
    """An agent's changes less its BOOKKEEPING fields."""
    return {
        path: change for path, change in changes.items() if path.split(".")[0] not in BOOKKEEPING
    }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: leaf} for nested maps; an empty map is a leaf of its own."""
    if not isinstance(value, dict) or not value:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, sub in value.items():
        out.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
    return out


def diff_values(before: Any, after: Any) -> dict[str, tuple[Any, Any]]:
    """Every leaf path whose value differs, with (before, after).

    A map that was empty on one side and has fields on the other shows as those
    fields (`state.plan: None -> 'x'`), not also as the empty map leaving
    (`state: {} -> None`), which reads as if the map itself had gone."""
    a, b = flatten(before), flatten(after)
    return {
        path: (a.get(path, MISSING), b.get(path, MISSING))
        for path in {**a, **b}
        if a.get(path, MISSING) != b.get(path, MISSING) and not _filled_or_emptied(path, a, b)
    }


def _filled_or_emptied(path: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True for an empty map's leaf on one side whose other side has fields under it."""
    if a.get(path) == {} and path not in b:
        other = b
    elif b.get(path) == {} and path not in a:
        other = a
    else:
        return False
    inside = path + "." if path else ""
    return any(p.startswith(inside) for p in other)


def diff_states(
    before: dict[str, Any], after: dict[str, Any], ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """What changed between two `SwarmModel.to_dict()` results, per agent and per field.

    {"agents": {id: {field: (before, after)}}, "added": [ids], "removed": [ids],
     "counters": {name: (before, after)}}; fields in `ignore` are left out.
    """
    a_agents, b_agents = before["agents"], after["agents"]
    agents = {}
    for agent_id in sorted(a_agents.keys() & b_agents.keys()):
        changed = {
            k: v
            for k, v in diff_values(a_agents[agent_id], b_agents[agent_id]).items()
            if k.split(".", 1)[0] not in ignore
        }
        if changed:
            agents[agent_id] = changed
    return {
        "agents": agents,
        "added": sorted(b_agents.keys() - a_agents.keys()),
        "removed": sorted(a_agents.keys() - b_agents.keys()),
        "counters": diff_values(before["counters"], after["counters"]),
    }
