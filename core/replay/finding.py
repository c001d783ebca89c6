"""A finding: what a developer saw at one instant of a recorded run, written down to share.

Scrubbing a failed run ends with "here, at event 5,290, planner-20 had no owner left": the replay's
`x` key (or `swarmscope sessions export ID --at N`) writes that instant as markdown for a bug report
or a chat. It holds the session and the instant, the event there in full (a traceback as written),
every agent as it was then (health against the recorded clock), the chosen agent's own state, what
changed since a pinned instant, the events just before, and the session's bookmarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from swarmscope.core.events import Event, in_full, summarize, utc_stamp
from swarmscope.core.model.diff import behaviour
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.markdown import md_cell, md_row
from swarmscope.core.replay.session import Session
from swarmscope.core.words import plain

WINDOW = 20
"""Events listed up to and including the instant."""


@dataclass(frozen=True)
class Finding:
    """Where to look: an event index, and optionally an agent and an instant to compare with."""

    index: int
    agent: str | None = None
    pinned: int | None = None


def write_finding(session: Session, finding: Finding, directory: Path) -> Path:
    """Write the finding as `finding-<session>-<event>.md` in `directory` (made if need be);
    returns its path."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = Path(directory) / f"finding-{session.id[:8]}-{finding.index + 1}.md"
    path.write_text(finding_markdown(session, finding), encoding="utf-8")
    return path


def finding_markdown(session: Session, finding: Finding) -> str:
    i = finding.index
    model, ev = session.state_at(i), session[i]
    parts = [
        _heading(session, i, model, ev),
        _in_full(ev),
        _agents(model),
        _state(model, finding.agent),
    ]
    if finding.pinned is not None and finding.pinned != i:
        parts.append(_changes(session, finding.pinned, i))
    parts += [_window(session, i), _bookmarks(session)]
    return "\n".join(p for p in parts if p)


def _heading(session: Session, i: int, model: SwarmModel, ev: Event) -> str:
    meta, n = session.meta, len(session)
    into = (ev.ts - session[0].ts) / 1e9
    return (
        f"# Finding: {meta['name']} ({session.id[:8]}) at event {i + 1:,} of {n:,}\n\n"
        f"- recorded at {utc_stamp(model.now)}, {into:.3f} s into the run\n"
        f"- file: `{meta['path']}`\n"
        f"- the event: **{ev.kind}** from {ev.agent} (seq {ev.seq}): {md_cell(summarize(ev))}\n"
    )


def _in_full(ev: Event) -> str:
    """Every field of the event; a traceback (any text of several lines) as it was written."""
    fields, texts = in_full(ev.data)
    out = f"## The event in full\n\n```json\n{fields}\n```\n"
    return out + "".join(f"\n{name}:\n\n```text\n{text}\n```\n" for name, text in texts.items())


def _agents(model: SwarmModel) -> str:
    rows = [
        "## The swarm at this instant\n",
        "| agent | role | status | health | task | progress | errors | last error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for agent_id, a in sorted(model.agents.items()):
        progress = f"{a.progress:.0%}" if a.progress is not None else ""
        error = f"{a.last_error.get('type')}: {a.last_error.get('message')}" if a.last_error else ""
        rows.append(
            md_row(
                agent_id,
                a.role or "",
                a.status or "",
                a.health(model.now).value,
                a.task_name or a.task or "",
                progress,
                a.errors,
                error,
            )
        )
    return "\n".join(rows) + "\n"


def _state(model: SwarmModel, agent_id: str | None) -> str:
    agent = model.agents.get(agent_id or "")
    if agent is None:
        return ""
    state = json.dumps(agent.state, indent=2, sort_keys=True, default=str)
    return f"## {agent_id}'s own state\n\n```json\n{state}\n```\n"


def _changes(session: Session, pinned: int, i: int) -> str:
    diff = session.diff(pinned, i)
    comings = [
        f"- {label}: {', '.join(sorted(agents))}"
        for label, agents in (("appeared", diff["added"]), ("gone", diff["removed"]))
        if agents
    ]
    rows = [
        f"## What changed since event {pinned + 1:,}\n",
        *comings,
        *([""] if comings else []),
        "| agent | field | then | now |",
        "|---|---|---|---|",
    ]
    changed = [
        (a, f, then, now)
        for a, fields in sorted(diff["agents"].items())
        for f, (then, now) in sorted(behaviour(fields).items())
    ]
    rows += [md_row(a, f, _short(then), _short(now)) for a, f, then, now in changed]
    if not changed:
        rows.append("| (no agent changed) | | | |")
    return "\n".join(rows) + "\n"


def _window(session: Session, i: int) -> str:
    lo = max(0, i - WINDOW + 1)
    rows = [
        f"## Events {lo + 1:,} to {i + 1:,}\n",
        "| # | time | agent | kind | what |",
        "|---|---|---|---|---|",
    ]
    for k, ev in enumerate(session.events(lo, i + 1), start=lo + 1):
        rows.append(md_row(f"{k:,}", utc_stamp(ev.ts)[11:23], ev.agent, ev.kind, summarize(ev)))
    return "\n".join(rows) + "\n"


def _bookmarks(session: Session) -> str:
    marks = session.bookmarks
    if not marks:
        return ""
    return (
        "## Bookmarks\n\n"
        + "\n".join(f"- event {at + 1:,}: {md_cell(label)}" for at, label, *_ in marks)
        + "\n"
    )


def _short(value: object, limit: int = 80) -> str:
    return f"{value:.4g}" if isinstance(value, float) else plain(value, limit)
