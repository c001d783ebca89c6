"""Exporting a session: jsonl and csv for tools, md for people (a health report and the run's
profile), dot for a graph.

jsonl and csv stream event by event, so a session of any size exports in
constant memory. md samples the session at evenly spaced instants to draw
each agent's health over time as a bar of glyphs.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from swarmscope.core.model.health import Health
from swarmscope.core.replay.markdown import md_row
from swarmscope.core.replay.profiling import profile_between, profile_markdown
from swarmscope.core.replay.session import Session

FORMATS = ("jsonl", "csv", "md", "dot")
BAR_WIDTH = 40


def export(session: Session, fmt: str, out: TextIO) -> None:
    _EXPORTERS[fmt](session, out)


def _jsonl(s: Session, out: TextIO) -> None:
    for i, ev in enumerate(s.iter_events()):
        out.write(json.dumps({"i": i, **ev._asdict()}, default=str) + "\n")


def _csv(s: Session, out: TextIO) -> None:
    w = csv.writer(out)
    w.writerow(["i", "ts_ns", "agent", "seq", "inc", "kind", "data"])
    for i, ev in enumerate(s.iter_events()):
        w.writerow([i, ev.ts, ev.agent, ev.seq, ev.inc, ev.kind, json.dumps(ev.data, default=str)])


def health_timeline(s: Session, width: int = BAR_WIDTH) -> dict[str, list[Health | None]]:
    """Each agent's health at `width` evenly spaced recorded instants (None before it appeared)."""
    n = len(s)
    if not n:
        return {}
    points = sorted({min(n - 1, (k + 1) * n // width) for k in range(width)})
    cursor, lines = s.cursor(), {}
    for k, p in enumerate(points):
        cursor.seek(p)
        agents = cursor.model.agents
        for agent_id in agents:
            lines.setdefault(agent_id, [None] * len(points))
        for agent_id, line in lines.items():
            line[k] = agents[agent_id].health(cursor.clock) if agent_id in agents else None
    return lines


def _md(s: Session, out: TextIO) -> None:
    meta, summary = s.meta, s.summary()
    out.write(f"# Session {meta['name']} ({s.id[:8]})\n\n")
    out.write(
        f"- events: {summary['events']:,}, agents: {len(summary['agents']):,}, "
        f"errors: {summary['errors']:,}, checkpoints: {summary['checkpoints']:,}, "
        f"outcome: **{summary['outcome']}**\n"
    )
    out.write(
        f"- file: `{meta['path']}` ({meta['bytes']:,} bytes, "
        f"{'closed' if meta['closed'] else 'not closed'})\n\n"
    )
    legend = "  ".join(f"{h.glyph} {h.value}" for h in Health)
    out.write(f"## Health over time\n\n{legend}, `·` not yet seen\n\n```\n")
    timeline = health_timeline(s)
    pad = max((len(a) for a in timeline), default=0)
    for agent_id, line in sorted(timeline.items()):
        bar = "".join(h.glyph if h else "·" for h in line)
        share = Counter(line)[Health.HEALTHY] / max(1, sum(1 for h in line if h))
        out.write(f"{agent_id:<{pad}}  {bar}  {share:4.0%} healthy\n")
    out.write(
        "```\n\n## Agents at the end\n\n"
        "| agent | role | status | health | events | errors | tasks ok | tasks failed |\n"
    )
    out.write("|---|---|---|---|---|---|---|---|\n")
    for agent_id, a in sorted(summary["agents"].items()):
        out.write(
            md_row(
                agent_id,
                a["role"] or "",
                a["status"] or "",
                a["health"],
                a["events"],
                a["errors"],
                a["tasks_ok"],
                a["tasks_failed"],
            )
            + "\n"
        )
    out.write("\n" + profile_markdown(profile_between(s)))


def _dot(s: Session, out: TextIO) -> None:
    model = s.state_at(len(s) - 1) if len(s) else None
    out.write(f'digraph "{s.id[:8]}" {{\n  rankdir=LR;\n  node [shape=box];\n')
    for agent_id, a in sorted(model.agents.items()) if model else ():
        out.write(
            f'  {_q(agent_id)} [label="{_esc(agent_id)}\\n'
            f'{_esc(a.role or "")} ({_esc(a.status or "")})"];\n'
        )
    for (src, dst), link in sorted(model.links.items()) if model else ():
        out.write(f'  {_q(src)} -> {_q(dst)} [label="{link.count}"];\n')
    out.write("}\n")


def _q(text: str) -> str:
    return f'"{_esc(text)}"'


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_EXPORTERS: dict[str, Callable[[Session, TextIO], None]] = {
    "jsonl": _jsonl,
    "csv": _csv,
    "md": _md,
    "dot": _dot,
}
