"""What a session amounts to, in a few fields a listing, a filter or a retention rule can use.

Derived from the final model (so a repair that replays the events gets the
same answer as the writer that saw them live).
"""

from __future__ import annotations

from typing import Any

from .model import SwarmModel


def summarize(model: SwarmModel, first_ts: int | None) -> dict[str, Any]:
    """Counts, time range, agents, errors, checkpoints, runs and the outcome (ok or failed)."""
    agents = {
        a.id: {"role": a.role, "status": a.status, "health": a.health(model.now).value, "events": a.events,
               "errors": a.errors, "tasks_ok": a.tasks_ok, "tasks_failed": a.tasks_failed}
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
    return {str(a.tags["run"]) for a in model.agents.values() if isinstance(a.tags, dict) and "run" in a.tags}
