"""A recorded run's profile, between any two instants, and the profile as people read it.

`profile_between` folds a stretch of a session into a Profile (core/model/profile.py), seeded with
the swarm as it stood where the stretch begins. `profile_markdown` writes the profile for the
markdown export and `sessions profile`: tables, and each task's durations as a histogram in ASCII
(a mail or a CI log of any encoding shows it whole).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.model.profile import Profile, S, Step
from swarmscope.core.replay.markdown import md_row
from swarmscope.core.replay.session import Session

HISTOGRAM = " .:-=+*#"
"""An ASCII ramp, emptiest first: a bin's count against the fullest bin's."""
TOP = 15
CHUNK = 4_096
"""Events folded at a time: a few ms, so a worker can be told to stop between two."""


def profile_between(session: Session, start: int = 0, stop: int | None = None) -> Profile:
    """The profile of events start..stop-1 (the whole session by default)."""
    profile = seeded(session, start)
    for chunk in chunks(session.iter_events(start, stop)):
        profile.apply_many(chunk)
    return profile


def seeded(session: Session, begin: int) -> Profile:
    """A profile to fold events from `begin` into, seeded with the swarm as it stood just before
    (the statuses then, and the tasks then running) at the time of the event before."""
    profile = Profile()
    if begin > 0 and len(session):
        before = min(begin, len(session))
        profile.seed(session.state_before(before), session[before - 1].ts)
    return profile


def chunks(events: Iterator[Event], size: int = CHUNK) -> Iterator[list[Event]]:
    """`events` in lists of `size`: a Profile folds a list at a time, counting in C (and a
    caller may look up between two)."""
    while chunk := list(islice(events, size)):
        yield chunk


def profile_json(profile: Profile) -> dict[str, Any]:
    """`sessions profile --json`: every table, the swarm over time and the critical path."""
    return {
        "events": profile.events,
        "tasks": profile.tasks(),
        "roles": profile.roles(),
        "agents": profile.agent_rows(),
        "over_time": profile.over_time(),
        "critical_path": [_step_json(s) for s in profile.critical_path()],
    }


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "agent": step.agent,
        "name": step.name,
        "start_ns": step.start,
        "end_ns": step.end,
    }


def profile_markdown(profile: Profile, top: int = TOP) -> str:
    """The profile as markdown: slowest tasks with histograms, roles, agents, the critical path."""
    lines = ["## Profile", ""]
    tasks = profile.tasks()
    if not tasks:
        return "\n".join([*lines, "No task ended in this stretch.", ""])
    lines += [
        f"Tasks by total time ({min(top, len(tasks))} of {len(tasks)} names); the histogram "
        "spreads each name's durations from its shortest to its longest.",
        "",
        "| task | count | ok | failed | p50 | p95 | p99 | max | total | histogram |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in tasks[:top]:
        times = (_s(r[k]) for k in ("p50_s", "p95_s", "p99_s", "max_s", "total_s"))
        shape = f"`{histogram_line(profile.histogram(r['name']))}`"
        lines.append(md_row(_ascii(r["name"]), r["count"], r["ok"], r["failed"], *times, shape))
    lines += ["", "| role | tasks | failed | p50 | p95 | total |", "|---|---:|---:|---:|---:|---:|"]
    for r in profile.roles()[:top]:
        times = (_s(r[k]) for k in ("p50_s", "p95_s", "total_s"))
        lines.append(md_row(_ascii(r["name"]), r["count"], r["failed"], *times))
    lines += _agent_lines(profile, top) + _path_lines(profile)
    return "\n".join(lines) + "\n"


def _agent_lines(profile: Profile, top: int) -> list[str]:
    lines = [
        "",
        "Agents by time blocked or waiting:",
        "",
        "| agent | running | waiting | blocked | idle | tasks | failed | errors | in | out |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in profile.agent_rows(top=top):
        times = (_s(r[k]) for k in ("running_s", "waiting_s", "blocked_s", "idle_s"))
        counts = (r[k] for k in ("tasks", "failed", "errors", "msgs_in", "msgs_out"))
        lines.append(md_row(_ascii(r["agent"]), *times, *counts))
    return lines


def _path_lines(profile: Profile) -> list[str]:
    path = profile.critical_path()
    if not path:
        return []
    first = path[0].start
    steps = [
        f"{s.agent}: {s.name} ({_s((s.end - s.start) / S)})"
        if s.kind == "task"
        else f"message {s.agent} -> {s.name} at +{_s((s.start - first) / S)}"
        for s in path
    ]
    return ["", "Critical path (what set the end):", "", *(f"1. {_ascii(s)}" for s in steps)]


def histogram_line(counts: list[int]) -> str:
    """Counts as a row of ASCII marks, the fullest bin `#`, an empty one a space."""
    most, top = max(counts, default=0) or 1, len(HISTOGRAM) - 1
    return "".join(HISTOGRAM[-(-n * top // most)] for n in counts)  # ceil(n / most * top)


def _s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _ascii(text: str) -> str:
    """A name as ASCII (a mail or a CI log of any encoding shows it whole)."""
    return text.encode("ascii", "backslashreplace").decode()
