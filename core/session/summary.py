"""What a session amounts to, in a few fields a listing, a filter or a retention rule can use.

Derived from the final model (so a repair that replays the events gets the
same answer as the writer that saw them live).
"""

from __future__ import annotations

from typing import Any

from swarmscope.core.errors import SessionError
from swarmscope.core.model.swarm import SwarmModel

_INT, _TS = (int,), (int, type(None))
FIELDS = {
    "events": _INT,
    "first_ts": _TS,
    "last_ts": _TS,
    "agents": (dict,),
    "errors": _INT,
    "checkpoints": _INT,
    "gaps": _INT,
    "restarts": _INT,
    "runs": (list,),
    "outcome": (str,),
}
"""The summary's fields and the types each may hold: what a reader checks a file's summary
against."""
AGENT_FIELDS = {
    "role": (str, type(None)),
    "status": (str, type(None)),
    "health": (str,),
    "events": _INT,
    "errors": _INT,
    "tasks_ok": _INT,
    "tasks_failed": _INT,
}


def summarize(model: SwarmModel, first_ts: int | None) -> dict[str, Any]:
    """Counts, time range, agents, errors, checkpoints, runs and the outcome (ok or failed)."""
    agents = {
        a.id: {
            "role": a.role,
            "status": a.status,
            "health": a.health(model.now).value,
            "events": a.events,
            "errors": a.errors,
            "tasks_ok": a.tasks_ok,
            "tasks_failed": a.tasks_failed,
        }
        for a in model.agents.values()
    }
    failed = model.errors > 0 or any(a.status == "failed" for a in model.agents.values())
    return {
        "events": model.events,
        "first_ts": first_ts,
        "last_ts": model.now if model.events else None,
        "agents": agents,
        "errors": model.errors,
        "checkpoints": model.by_kind.get("checkpoint", 0),
        "gaps": model.gaps,
        "restarts": model.restarts,
        "runs": sorted(_runs(model)),
        "outcome": "failed" if failed else "ok",
    }


def _runs(model: SwarmModel) -> set[str]:
    """The run ids agents announced in their hello tags ({"run": ...})."""
    return {
        str(a.tags["run"])
        for a in model.agents.values()
        if isinstance(a.tags, dict) and "run" in a.tags
    }


def checked(summary: Any) -> dict[str, Any]:
    """A summary read from a file, once every field is of its type (SessionError otherwise):
    listings, reports and the catalog read it without a second look."""
    if not isinstance(summary, dict) or not _fits(summary, FIELDS):
        raise SessionError("damaged summary")
    agents = summary["agents"]
    if not all(
        type(k) is str and isinstance(a, dict) and _fits(a, AGENT_FIELDS) for k, a in agents.items()
    ):
        raise SessionError("damaged summary: an agent's fields")
    if not all(type(run) is str for run in summary["runs"]):
        raise SessionError("damaged summary: its runs")
    return summary


def _fits(row: dict, fields: dict[str, tuple[type, ...]]) -> bool:
    return all(type(row.get(name, ...)) in kinds for name, kinds in fields.items())
