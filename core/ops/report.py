"""A health report of a swarm, for cron and CI: a plain dict, and that dict as markdown or JSON.

`build_report(model, now_ns)` reads a SwarmModel at one instant (a session's
end or chosen event, or a live hub as it stands) and says how every agent is
doing, what failed and with which error, what was lost and which tasks took
longest. It is pure: the caller picks the model and the clock health is judged
against (the recorded clock in a session, the viewer's clock live), so a test
can hold both still. The dict holds only JSON types, every number as the model
holds it (times and durations in integer nanoseconds); `to_markdown` reads
nothing but that dict and writes pure ASCII, so a mail or a CI log of any
encoding shows it whole. docs/report.md lists every key.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import Any

from swarmscope.core.model.health import SILENT_AFTER, Health
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.model.views import AgentView, TaskView
from swarmscope.core.replay.markdown import md_row

REPORT_VERSION = 1
"""The JSON shape's version: a key removed or changing meaning raises it; keys are only added."""
TOP_TASKS = 10
"""Slowest tasks listed."""
MD_AGENTS = 50
"""Per-agent lines in markdown, worst first (the JSON lists every agent)."""
MD_ERRORS = 10
"""Recent errors in markdown, newest first (the JSON lists all the model keeps)."""
BAR = 20
"""Width of a bar of agents per health level."""
SILENCE_BAR = 10
"""Width of an agent's silence bar: full at SILENT_AFTER intervals, where silence is FAILED."""
ALARMING = (Health.CRITICAL, Health.FAILED)
"""Health levels that make a report not ok (and `swarmscope report` exit 3)."""
NOT_OK = ("failed", "cancelled", "abandoned")
"""Task results listed as failures."""


def build_report(
    model: SwarmModel,
    now_ns: int,
    *,
    source: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    top: int = TOP_TASKS,
) -> dict[str, Any]:
    """The report of `model` with health judged at `now_ns`. `source` says where the model came
    from (session_source, live_source; None: nowhere said), `notes` what the reader must know of it
    (damage, no history)."""
    agents = sorted(
        (_agent(a, now_ns) for a in model.agents.values()),
        key=lambda row: (Health(row["health"]).rank, -row["silence"], row["id"]),
    )
    counts = Counter(row["health"] for row in agents)
    alarming = [row["id"] for row in agents if Health(row["health"]) in ALARMING]
    return {
        "version": REPORT_VERSION,
        "ok": not alarming,
        "source": source or {"kind": "model", "title": "a swarm model"},
        "now_ns": now_ns,
        "notes": list(notes or []),
        "summary": _summary(model),
        "health": {h.value: counts.get(h.value, 0) for h in Health},
        "agents": agents,
        "failures": {
            "alarming": alarming,
            "tasks": _failed_tasks(model),
            "recent_errors": [_error(e) for e in reversed(model.recent_errors)],
        },
        "lost": {
            "total": model.gaps,
            "by_agent": dict(
                sorted(((a.id, a.gaps) for a in model.agents.values() if a.gaps), key=_most)
            ),
        },
        "slowest_tasks": _slowest(model, top),
    }


def session_source(
    session_id: str, name: str | None, path: str, events: int, at_event: int, closed: bool
) -> dict[str, Any]:
    """Where a session's report comes from: the file, and how many of its events it folds."""
    return {
        "kind": "session",
        "title": f"session {name or '?'} ({session_id[:8]})",
        "id": session_id,
        "name": name,
        "path": path,
        "events": events,
        "at_event": at_event,
        "closed": closed,
    }


def live_source(
    endpoint: str, history: str, answered: bool, hub_session: str | None, listened_ns: int
) -> dict[str, Any]:
    """Where a live report comes from: the hub, and whether it answered with its history."""
    return {
        "kind": "live",
        "title": f"live hub {endpoint}",
        "endpoint": endpoint,
        "history": history,
        "answered": answered,
        "hub_session": hub_session,
        "listened_ns": listened_ns,
    }


def _summary(model: SwarmModel) -> dict[str, Any]:
    """The counts of the one-line summary; the span runs from the first agent's first event to the
    newest event, on the events' own clock."""
    first = min((a.first_seen for a in model.agents.values()), default=None)
    return {
        "agents": len(model.agents),
        "events": model.events,
        "errors": model.errors,
        "lost": model.gaps,
        "restarts": model.restarts,
        "first_ns": first,
        "last_ns": model.now if model.events else None,
        "span_ns": model.now - first if first is not None and model.events else 0,
    }


def _agent(a: AgentView, now_ns: int) -> dict[str, Any]:
    """One agent as the report lists it: its health, and the silence that health is judged on."""
    return {
        "id": a.id,
        "role": a.role,
        "status": a.status,
        "health": a.health(now_ns).value,
        "silence": a.beat_ratio(now_ns),
        "interval_s": a.interval,
        "last_seen_ns": a.last_seen,
        "said_bye": a.said_bye,
        "task": a.task_name,
        "failed_task": a.failed_task,
        "events": a.events,
        "errors": a.errors,
        "lost": a.gaps,
        "restarts": a.restarts,
        "tasks_ok": a.tasks_ok,
        "tasks_failed": a.tasks_failed,
        "last_error": _error({"agent": a.id, **a.last_error}) if a.last_error else None,
    }


def _error(e: dict[str, Any]) -> dict[str, Any]:
    """An error as the model keeps it, its time named as every other time here. Read with .get: a
    model restored from a hub's answer or a keyframe is not checked inside its dicts."""
    return {
        "agent": e.get("agent"),
        "ts_ns": e.get("ts"),
        "type": e.get("type"),
        "message": e.get("message"),
        "task": e.get("task"),
    }


def _most(item: tuple[str, int]) -> tuple[int, str]:
    """Largest count first, then by name."""
    return -item[1], item[0]


def _task(t: TaskView, until_ns: int) -> dict[str, Any]:
    """A task and how long it took (a running one: so far)."""
    return {
        "task": t.id,
        "name": t.name,
        "agent": t.agent,
        "result": t.result or "running",
        "started_ns": t.started,
        "ended_ns": t.ended,
        "duration_ns": (t.ended if t.ended is not None else until_ns) - t.started,
    }


def _failed_tasks(model: SwarmModel) -> list[dict[str, Any]]:
    """Tasks that ended other than ok, newest first, each with the error its agent raised in it
    (the last one the model still keeps), if any."""
    errors = {(e.get("agent"), e.get("task")): e for e in model.recent_errors}
    failed = [t for t in model.tasks.values() if t.result in NOT_OK]
    failed.sort(key=lambda t: (-(t.ended or 0), t.id))
    return [
        {**_task(t, model.now), "error": _error(e) if (e := errors.get((t.agent, t.id))) else None}
        for t in failed
    ]


def _slowest(model: SwarmModel, top: int) -> list[dict[str, Any]]:
    """The `top` longest tasks, running ones measured up to the newest event (the events' own clock,
    as their start is), longest first."""
    rows = [_task(t, model.now) for t in model.tasks.values()]
    rows.sort(key=lambda r: (-r["duration_ns"], r["started_ns"], r["task"]))
    return rows[:top]


# -- JSON --------------------------------------------------------------------------------------


def to_json(report: dict[str, Any]) -> str:
    """The report as JSON, keys in the documented order, every character outside ASCII escaped."""
    return json.dumps(report, indent=2) + "\n"


# -- markdown ----------------------------------------------------------------------------------


def to_markdown(report: dict[str, Any]) -> str:
    """The report for people: a verdict, a summary line, health bars, failures, losses, slowest
    tasks. Pure ASCII: whatever an agent put in a name or an error is escaped."""
    parts = [
        f"# swarmscope report: {ascii_text(report['source']['title'])}",
        _verdict(report),
        _summary_line(report["summary"]),
        _source_lines(report),
        _health_section(report),
        _failures_section(report),
        _lost_section(report["lost"]),
        _slowest_section(report["slowest_tasks"]),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _verdict(report: dict[str, Any]) -> str:
    alarming = report["failures"]["alarming"]
    if not alarming:
        return "**OK**: no agent is CRITICAL or FAILED."
    names = ", ".join(ascii_text(a) for a in alarming[:10])
    more = f" and {len(alarming) - 10:,} more" if len(alarming) > 10 else ""
    of = f"{len(alarming):,} of {len(report['agents']):,}"
    return f"**ALARM**: {of} agents CRITICAL or FAILED: {names}{more}."


def _summary_line(s: dict[str, Any]) -> str:
    span = (
        f", over {duration(s['span_ns'])} ({utc(s['first_ns'])} to {utc(s['last_ns'])} UTC)"
        if s["last_ns"] is not None
        else ""
    )
    return (
        f"{_n(s['agents'], 'agent')}, {_n(s['events'], 'event')}, {_n(s['errors'], 'error')}, "
        f"{s['lost']:,} lost, {_n(s['restarts'], 'restart')}{span}."
    )


def _source_lines(report: dict[str, Any]) -> str:
    """Where the model came from and which clock health is judged on, then the notes."""
    src, at = report["source"], f"{utc(report['now_ns'])} UTC"
    if src["kind"] == "session":
        line = (
            f"From `{_cell(src['path'], 200)}`, event {src['at_event']:,} of {src['events']:,}; "
            f"health judged on the recorded clock, at {at}."
        )
    elif src["kind"] == "live":
        held = "the swarm as the hub recorded it" if src["answered"] else "no history"
        line = f"Live ({held}); health judged on this host's clock, at {at}."
    else:
        line = f"Health judged at {at}."
    return "\n".join([line, *(f"- {ascii_text(note)}" for note in report["notes"])])


def _health_section(report: dict[str, Any]) -> str:
    total = max(1, len(report["agents"]))
    levels = [
        f"{level.upper():<9} {bar(n, total, BAR)} {n:>6,}" for level, n in report["health"].items()
    ]
    agents = report["agents"]
    lines = [_agent_line(a) for a in agents[:MD_AGENTS]]
    if len(agents) > MD_AGENTS:
        lines.append(f"... and {len(agents) - MD_AGENTS:,} more (--format json lists every one)")
    return (
        "## Health\n\n```text\n" + "\n".join(levels) + "\n```\n\n"
        f"Per agent, worst first; the bar is its silence, full at {SILENT_AFTER:g} heartbeat "
        "intervals (FAILED):\n\n```text\n" + "\n".join(lines or ["(no agents)"]) + "\n```"
    )


def _agent_line(a: dict[str, Any]) -> str:
    silence = (
        "[" + " " * SILENCE_BAR + "]  bye"
        if a["health"] == Health.STOPPED.value
        else f"{bar(a['silence'], SILENT_AFTER, SILENCE_BAR, '[]')} {a['silence']:3.1f}x"
    )
    doing = a["task"] or (f"failed on {a['failed_task']}" if a["failed_task"] else "")
    return (
        f"{a['health'].upper():<8} {_cell(a['id'], 20):<20} {silence} "
        f"{_cell(a['status'] or '-', 8):<8} {_cell(a['role'] or '-', 10):<10} "
        f"{a['events']:>7,} ev {a['errors']:>3,} err {a['lost']:>3,} lost  {_cell(doing, 24)}"
    ).rstrip()


def _failures_section(report: dict[str, Any]) -> str:
    f, agents = report["failures"], {a["id"]: a for a in report["agents"]}
    out = ["## Failures"]
    if not (f["alarming"] or f["tasks"] or f["recent_errors"]):
        return "## Failures\n\nNo agent failing, no task failed, no error raised."
    if f["alarming"]:
        out.append("| agent | health | status | why | last error |\n|---|---|---|---|---|")
        out[-1] += "".join("\n" + _alarm_row(agents[a]) for a in f["alarming"][:MD_AGENTS])
    if f["tasks"]:
        out.append(
            f"{_n(len(f['tasks']), 'task')} ended other than ok, newest first:\n\n"
            "| task | agent | result | ended (UTC) | took | error |\n|---|---|---|---|---|---|"
        )
        out[-1] += "".join("\n" + _failed_task_row(t) for t in f["tasks"][:MD_ERRORS])
    if f["recent_errors"]:
        shown = f["recent_errors"][:MD_ERRORS]
        out.append(
            f"Errors, the newest {len(shown):,} of the {len(f['recent_errors']):,} the model "
            "keeps:\n\n| at (UTC) | agent | task | error |\n|---|---|---|---|"
        )
        out[-1] += "".join(
            "\n" + _row(utc(e["ts_ns"]), e["agent"], e["task"] or "-", _said(e)) for e in shown
        )
    return "\n\n".join(out)


def _alarm_row(a: dict[str, Any]) -> str:
    why = (
        "says failed"
        if a["status"] == "failed"
        else f"silent {a['silence']:.1f}x its {a['interval_s']:g} s heartbeat interval"
    )
    last = _said(a["last_error"]) if a["last_error"] else "-"
    return _row(a["id"], a["health"].upper(), a["status"] or "-", why, last)


def _failed_task_row(t: dict[str, Any]) -> str:
    error = _said(t["error"]) if t["error"] else "-"
    return _row(
        t["name"], t["agent"], t["result"], utc(t["ended_ns"]), duration(t["duration_ns"]), error
    )


def _lost_section(lost: dict[str, Any]) -> str:
    if not lost["total"]:
        return "## Lost events\n\nNone: every agent's events arrived without a gap."
    by_agent = ", ".join(f"{ascii_text(a)} {n:,}" for a, n in lost["by_agent"].items())
    return f"## Lost events\n\n{lost['total']:,} lost: {by_agent}."


def _slowest_section(tasks: list[dict[str, Any]]) -> str:
    if not tasks:
        return "## Slowest tasks\n\nNo task in view."
    rows = "".join(
        "\n"
        + _row(
            k, t["name"], t["agent"], t["result"], duration(t["duration_ns"]), utc(t["started_ns"])
        )
        for k, t in enumerate(tasks, 1)
    )
    return (
        "## Slowest tasks\n\nOf the tasks the model keeps (every running one, the newest 100 ended "
        "ok and 100 not); a running one so far:\n\n"
        "| # | task | agent | result | took | started (UTC) |\n|---|---|---|---|---|---|" + rows
    )


# -- ASCII pieces -------------------------------------------------------------------------------


def bar(value: float, full: float, width: int, ends: str = "") -> str:
    """`#` for `value` out of `full`, `.` for the rest; anything above zero shows at least one `#`,
    so one failed agent among a thousand is seen."""
    filled = min(width, math.ceil(width * value / full)) if full > 0 and value > 0 else 0
    inner = "#" * filled + "." * (width - filled)
    return f"{ends[0]}{inner}{ends[1]}" if ends else inner


def ascii_text(text: str) -> str:
    """`text` on one line in ASCII: other characters as Python escapes, control characters as
    spaces (an agent's id or error must not break a line, a table or a terminal)."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    return escaped.translate(_CONTROLS)


_CONTROLS = {**{c: " " for c in range(32)}, 0x7F: " "}


def utc(ns: int | None) -> str:
    """A time on the report's clock, to the millisecond, in UTC: a cron mail is read anywhere."""
    if ns is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ns // 1_000_000_000)) + (
        f".{ns // 1_000_000 % 1000:03d}"
    )


def duration(ns: int) -> str:
    """1.25 s, 3m 05s, 2h 07m: as precise as a person reads it (the JSON has the nanoseconds)."""
    s = ns / 1e9
    if s < 60:
        return f"{s:.2f} s"
    if s < 3600:
        return f"{int(s // 60)}m {int(s % 60):02d}s"
    return f"{int(s // 3600)}h {int(s % 3600 // 60):02d}m"


def _said(e: dict[str, Any]) -> str:
    return f"{e['type']}: {e['message']}" if e["message"] else str(e["type"])


def _cell(text: str, limit: int) -> str:
    """Text for a fixed-width column: ASCII, no backtick (a fence must not close early), cut with
    `...` past `limit`."""
    text = ascii_text(text).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _row(*cells: object) -> str:
    return md_row(*(c if type(c) is int else ascii_text(str(c)) for c in cells))


def _n(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
