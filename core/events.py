"""The event: the one record every part of swarmscope passes around.

An event is `(ts_ns, agent, seq, kind, data, inc)`. DESIGN.md names the first
five; `inc` (the agent's incarnation id) is carried too, because a restarted
agent starts counting `seq` again and only the incarnation tells a restart
from a gap.
"""

from __future__ import annotations

import json
import time
from itertools import islice
from typing import Any, NamedTuple

from swarmscope.core.words import counted

KINDS = (
    "hello",
    "bye",
    "status",
    "progress",
    "task_start",
    "task_end",
    "heartbeat",
    "log",
    "message",
    "state",
    "patch",
    "checkpoint",
    "error",
    "metric",
    "lost",
)
"""The kinds every framework can map onto. Any other kind is kept and shown."""

STATUSES = ("idle", "starting", "running", "waiting", "blocked", "done", "failed")
"""The values a `status` event may carry; anything else is shown as given."""

FINAL_STATUSES = frozenset({"done", "failed"})
"""Statuses an agent ends on: the one it gave last is what its bye says."""

TASK_RESULTS = ("ok", "failed", "cancelled")

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

MAX_LABELS_CHARS = 200
"""Of a metric series' labels, as its name shows them."""
MAX_LABELS = 16
"""Labels of a metric series its name shows (past it, the rest are left out of the name)."""

URGENT_KINDS = frozenset({"error", "bye"})
"""Kinds the emitter sends at once instead of waiting for the next batch."""
LIFECYCLE_KINDS = frozenset({"hello", "bye"})
"""Kinds an emitter queues even when its queue is full: without them a viewer cannot tell who
ran."""


class Event(NamedTuple):
    """One thing that happened to one agent, as the wire and the files carry it."""

    ts: int
    """Wall-clock nanoseconds when the agent emitted it."""
    agent: str
    seq: int
    """Rises by one per event within one incarnation of an agent."""
    kind: str
    data: dict[str, Any]
    inc: int = 0
    """Incarnation id: random per Emitter, so a restart is not read as a gap."""


def series(name: str, labels: Any) -> str:
    """A metric's series, `tokens{model=large}`: series differing only by a label are kept apart."""
    if not isinstance(labels, dict) or not labels:
        return name[:MAX_LABELS_CHARS]
    shown = sorted(islice(labels.items(), MAX_LABELS), key=lambda kv: str(kv[0]))
    text = ",".join(f"{k}={str(v)[:MAX_LABELS_CHARS]}" for k, v in shown)
    return f"{name[:MAX_LABELS_CHARS]}{{{text[:MAX_LABELS_CHARS]}}}"


def split_text(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An event's fields, less those that are text of several lines (a traceback, a long log
    message), and those apart: shown as they were written, not squeezed onto one line."""
    text = {k: v for k, v in data.items() if isinstance(v, str) and "\n" in v.strip()}
    return {k: v for k, v in data.items() if k not in text}, text


def in_full(data: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """An event's fields as indented JSON, and its texts of several lines apart (see split_text):
    what a screen or a report shows when one event is opened."""
    fields, texts = split_text(data)
    return json.dumps(fields, indent=2, sort_keys=True, default=str), {
        k: v.rstrip() for k, v in texts.items()
    }


def utc_stamp(ts_ns: int) -> str:
    """`2026-11-24 17:14:55.123 UTC`: an event time as reports and screens write it in full."""
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts_ns / 1e9))
        + f".{ts_ns // 1_000_000 % 1000:03d} UTC"
    )


def summarize(ev: Event) -> str:
    """One line saying what an event was about, whatever its kind."""
    d = ev.data
    match ev.kind:
        case "status" | "bye":
            return str(d.get("status"))
        case "progress":
            frac = d.get("fraction")
            pct = f"{frac * 100:.0f}% " if isinstance(frac, (int, float)) else ""
            return f"{pct}{d.get('message') or ''}".strip()
        case "task_start":
            return f"{d.get('task')} {d.get('name') or ''}".strip()
        case "task_end":
            return f"{d.get('task')} {d.get('result')}"
        case "log":
            return str(d.get("message"))
        case "message":
            return f"→ {d.get('to')} [{d.get('topic') or '-'}] {d.get('summary') or ''}".strip()
        case "error":
            return f"{d.get('type')}: {d.get('message')}"
        case "checkpoint":
            return str(d.get("label"))
        case "lost":
            lost = d.get("events")
            return f"{counted(lost, 'event') if type(lost) is int else lost} lost: {d.get('why')}"
        case "metric":
            return f"{series(str(d.get('name')), d.get('labels'))} = {d.get('value')}"
        case "state" | "patch":
            body = d.get(ev.kind)
            return ", ".join(map(str, body)) if isinstance(body, dict) else ""
        case "hello":
            return (
                f"{d.get('role') or ''} on {d.get('host')} pid {d.get('pid')}, "
                f"beats every {d.get('heartbeat')}s"
            )
        case "heartbeat":
            return " ".join(f"{k}={v}" for k, v in d.items())
    return " ".join(f"{k}={v}" for k, v in list(d.items())[:6])
