"""`swarmscope sessions`: list, inspect, compare, export, stats, cleanup, repair and compact
recorded sessions.

Readable in a terminal, `--json` where a script would want it. A bad id, an
unreadable or damaged file is one line on stderr and a non-zero exit
(SessionError through cli.main), and nothing is deleted on the way.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from swarmscope.core.errors import ConfigError, SessionError
from swarmscope.core.replay.compare import compare, divergence_text
from swarmscope.core.replay.export import FORMATS, export
from swarmscope.core.replay.finding import Finding, finding_markdown
from swarmscope.core.replay.profiling import profile_between, profile_json, profile_markdown
from swarmscope.core.replay.session import Session, open_session
from swarmscope.core.session.catalog import Catalog
from swarmscope.core.session.compact import compact
from swarmscope.core.session.repair import repair, unclosed_note
from swarmscope.core.session.retention import Retention, plan_cleanup
from swarmscope.core.session.store import resolve, sessions_dir
from swarmscope.core.words import counted, plain
from swarmscope.tui.cli.args import AT_HELP, instant, positive

SORTS = {
    "started": "started",
    "size": "bytes",
    "events": "events",
    "name": "name",
    "errors": "errors",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list, inspect, compare, export and clean up recorded sessions",
        description="Recorded sessions: SESSION is a path, a session id (or its first "
        "characters) or part of a file name.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p), required=True)
    for name, help_text, build, run in _VERBS:
        v = verbs.add_parser(name, help=help_text, description=help_text)
        v.add_argument(
            "--dir",
            metavar="DIR",
            help="the sessions directory (default $SWARMSCOPE_HOME/sessions, "
            "else the user data dir's swarmscope/sessions)",
        )
        build(v)
        v.set_defaults(run=run)


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# -- list --------------------------------------------------------------------------------


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="names containing this")
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        help="sessions with this tag (repeatable: all of them)",
    )
    p.add_argument("--status", choices=("ok", "failed"), help="by outcome")
    p.add_argument(
        "--since",
        type=when,
        metavar="WHEN",
        help="started at or after (2026-01-31, 2026-01-31T12:00, 7d, 12h)",
    )
    p.add_argument("--until", type=when, metavar="WHEN", help="started before")
    p.add_argument(
        "--sort", choices=tuple(SORTS), default="started", help="newest, largest, ... first"
    )
    p.add_argument("--limit", type=positive(int), help="at most this many")
    p.add_argument(
        "--rebuild", action="store_true", help="rebuild the catalog from the files first"
    )
    _json_flag(p)


def _flag(e: dict) -> str:
    """What a listing says of a file without a proper end: being recorded now is no damage."""
    if e["closed"]:
        return ""
    if e["outcome"] == "unreadable":
        return "  (damaged)"
    return "  (recording)" if e["recording"] else "  (not closed)"


def run_list(args: argparse.Namespace) -> int:
    with Catalog(sessions_dir(args.dir)) as cat:
        entries = cat.rebuild() if args.rebuild else cat.sync()
    keep = [e for e in entries if _matches(e, args)]
    key = SORTS[args.sort]
    keep.sort(key=lambda e: (e[key] is not None, e[key] or 0), reverse=args.sort != "name")
    keep = keep[: args.limit] if args.limit else keep
    if args.json:
        _emit(keep)
        return 0
    if not keep:
        print(f"no sessions in {sessions_dir(args.dir)}" + (" match" if entries else ""))
        return 0
    print(
        f"{'ID':<8}  {'STARTED':<19}  {'NAME':<20} {'EVENTS':>9} {'AGENTS':>6} {'ERRORS':>6}  "
        f"{'OUTCOME':<10} {'SIZE':>8}"
    )
    for e in keep:
        flag = _flag(e)
        print(
            f"{(e['id'] or '?')[:8]:<8}  {_stamp(e['started'])}  {(e['name'] or '')[:20]:<20} "
            f"{e['events'] or 0:>9,} {e['agents'] or 0:>6} {e['errors'] or 0:>6}  "
            f"{e['outcome']:<10} {_size(e['bytes'])}{flag}"
        )
    return 0


def _matches(e: dict[str, Any], args: argparse.Namespace) -> bool:
    return (
        (not args.name or args.name in (e["name"] or ""))
        and set(args.tag) <= set(e["tags"])
        and (not args.status or e["outcome"] == args.status)
        and (args.since is None or (e["started"] or 0) >= args.since)
        and (args.until is None or (e["started"] or 0) < args.until)
    )


def when(text: str) -> int:
    """A date, a date and time, or an age (7d, 12h, 30m) ago, as nanoseconds since the epoch."""
    age = re.fullmatch(r"(\d+(?:\.\d+)?)([dhm])", text)
    if age:
        seconds = float(age.group(1)) * {"d": 86400, "h": 3600, "m": 60}[age.group(2)]
        return int((time.time() - seconds) * 1e9)
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1e9)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (2026-01-31), date and time "
            "(2026-01-31T12:00) or age (7d, 12h, 30m)"
        ) from None


def _stamp(ns: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9)) if ns else "?" * 19


def _size(n: int | None) -> str:
    n = n or 0
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# -- inspect --------------------------------------------------------------------------------


def _session_arg(p: argparse.ArgumentParser, name: str = "session") -> None:
    p.add_argument(
        name,
        metavar=name.upper(),
        help="a name (demo, demo~1), latest (latest~1), an id or its start, or a file",
    )


def _inspect_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p)
    _json_flag(p)


def _open(args: argparse.Namespace, ref: str) -> Session:
    return open_session(ref, args.dir)


def run_inspect(args: argparse.Namespace) -> int:
    with _open(args, args.session) as s:
        meta = s.meta
    if args.json:
        _emit(meta)
        return 0
    summary = meta["summary"]
    span = ((summary["last_ts"] or 0) - (summary["first_ts"] or 0)) / 1e9
    print(f"session   {meta['id']}  {meta['name']}  (format {meta['format']})")
    print(
        f"file      {meta['path']}  {_size(meta['bytes'])}, "
        f"{counted(meta['blocks'], 'block')}, {counted(meta['keyframes'], 'keyframe')}"
    )
    print(
        f"started   {_stamp(meta['started'])} on {meta.get('host')}; "
        f"tags: {', '.join(meta['tags']) or '-'}"
    )
    print(
        f"events    {summary['events']:,} over {span:,.1f} s; "
        f"{counted(summary['errors'], 'error')}, "
        f"{counted(summary['checkpoints'], 'checkpoint')}, {summary['gaps']} lost, "
        f"{counted(summary['restarts'], 'restart')}"
    )
    print(f"outcome   {summary['outcome']}; runs: {', '.join(summary['runs']) or '-'}")
    if meta.get("continues"):
        print(
            f"continues {meta['continues'][:8]} (part {meta.get('part')}): "
            "starts with the swarm as that session ended; counts are this session's own"
        )
    if not meta["closed"]:
        print(f"state     {unclosed_note(meta)}")
    print("agents")
    for agent_id, a in sorted(summary["agents"].items()):
        print(
            f"  {agent_id:<20} {a['role'] or '':<12} {a['status'] or '':<9} {a['health']:<9} "
            f"{counted(a['events'], 'event'):>14} {counted(a['errors'], 'error'):>10}"
        )
    return 0


# -- compare -----------------------------------------------------------------------------------


def _compare_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p, "a")
    _session_arg(p, "b")
    _json_flag(p)


def run_compare(args: argparse.Namespace) -> int:
    with _open(args, args.a) as a, _open(args, args.b) as b:
        result = compare(a, b)
    if args.json:
        _emit(result)
        return 0
    print(
        f"a: {result['a']['id'][:8]} {result['a']['path']}\n"
        f"b: {result['b']['id'][:8]} {result['b']['path']}"
    )
    for field, (va, vb) in result["meta"].items():
        print(f"  {field:<12} a: {plain(va, counts=True)}   b: {plain(vb, counts=True)}")
    for side in ("a", "b"):
        if result[f"only_in_{side}"]:
            print(f"only in {side}: {', '.join(result[f'only_in_{side}'])}")
    d = result["divergence"]
    if d is None:
        print("no divergence: every agent did the same things in the same order")
    else:
        print(divergence_text(d))
    return 0


# -- export -------------------------------------------------------------------------------------


def _export_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p)
    p.add_argument(
        "--format", choices=FORMATS, help="jsonl (default), csv, md (health report), dot (graph)"
    )
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    finding = p.add_argument_group(
        "a finding: one instant, as markdown (what the replay's x key writes)"
    )
    finding.add_argument("--at", metavar="WHERE", help=f"the instant: {AT_HELP}")
    finding.add_argument("--agent", metavar="ID", help="show this agent's own state too")
    finding.add_argument("--since", metavar="WHERE", help="list what changed since then (as --at)")


def run_export(args: argparse.Namespace) -> int:
    with _open(args, args.session) as s:
        write = (
            _finding_writer(s, args)
            if args.at
            else lambda out: export(s, args.format or "jsonl", out)
        )
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                write(out)
        else:
            write(sys.stdout)
            # here, so a reader gone away (`| head`) is met while cli.main can say so quietly
            sys.stdout.flush()
    return 0


def _finding_writer(s: Session, args: argparse.Namespace) -> Callable[[TextIO], object]:
    """What `--at` writes, once its arguments are known to fit the session."""
    if args.format not in (None, "md"):
        raise ConfigError(f"--at writes markdown: drop --format {args.format}")
    at = instant("--at", args.at, s)
    since = instant("--since", args.since, s) if args.since else None
    if args.agent and args.agent not in s.state_at(at).agents:
        raise ConfigError(
            f"--agent {args.agent}: no such agent at event {at + 1:,} (the finding lists them all)"
        )
    finding = Finding(at, args.agent, since)
    return lambda out: out.write(finding_markdown(s, finding))


# -- profile ---------------------------------------------------------------------------------------


def _profile_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p)
    p.add_argument("--from", dest="start", metavar="WHERE", help=f"from this instant: {AT_HELP}")
    p.add_argument("--to", metavar="WHERE", help="up to this instant, included (as --from)")
    _json_flag(p)


def run_profile(args: argparse.Namespace) -> int:
    with _open(args, args.session) as s:
        start = instant("--from", args.start, s) if args.start else 0
        stop = instant("--to", args.to, s) + 1 if args.to else len(s)
        if stop <= start:
            raise ConfigError(f"--to {args.to}: before --from {args.start}; swap them")
        profile = profile_between(s, start, stop)
    if args.json:
        print(json.dumps({"from": start + 1, "to": stop, **profile_json(profile)}))
    else:
        print(f"Events {start + 1:,} to {stop:,} of {len(s):,}.\n")
        print(profile_markdown(profile), end="")
    return 0


# -- stats -----------------------------------------------------------------------------------------


def _stats_args(p: argparse.ArgumentParser) -> None:
    _json_flag(p)


def run_stats(args: argparse.Namespace) -> int:
    with Catalog(sessions_dir(args.dir)) as cat:
        entries = cat.sync()
    by_name: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in entries:
        row = by_name[e["name"] or "?"]
        row["sessions"] += 1
        row[e["outcome"]] += 1
        row["bytes"] += e["bytes"] or 0
        row["events"] += e["events"] or 0
    totals = {
        "sessions": len(entries),
        "bytes": sum(e["bytes"] or 0 for e in entries),
        "events": sum(e["events"] or 0 for e in entries),
        "ok": sum(e["outcome"] == "ok" for e in entries),
        "failed": sum(e["outcome"] == "failed" for e in entries),
        "unreadable": sum(e["outcome"] == "unreadable" for e in entries),
        "by_workflow": {k: dict(v) for k, v in sorted(by_name.items())},
    }
    if args.json:
        _emit(totals)
        return 0
    print(
        f"{counted(totals['sessions'], 'session')}, {_size(totals['bytes'])}, "
        f"{totals['events']:,} events: {totals['ok']} ok, {totals['failed']} failed, "
        f"{totals['unreadable']} unreadable"
    )
    for name, row in totals["by_workflow"].items():
        print(
            f"  {name:<24} {counted(row['sessions'], 'session'):>14}  "
            f"{row.get('ok', 0):>4} ok  {row.get('failed', 0):>4} failed"
            f"  {_size(row['bytes']):>10}"
        )
    return 0


# -- cleanup
# ----------------------------------------------------------------------------------------


def _cleanup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-age", type=positive(float), metavar="DAYS", help="remove sessions older than this"
    )
    p.add_argument("--max-count", type=positive(int), metavar="N", help="keep at most the newest N")
    p.add_argument(
        "--max-size", type=byte_size, metavar="SIZE", help="keep the total under this (500M, 2G)"
    )
    p.add_argument("--keep-failed", action="store_true", help="never remove failed sessions")
    p.add_argument(
        "--keep-tag",
        action="append",
        default=[],
        metavar="T",
        help="never remove sessions tagged T",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would go, remove nothing")
    _json_flag(p)


def byte_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", text.strip().lower())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (such as 500M or 2G)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def run_cleanup(args: argparse.Namespace, now_ns: Callable[[], int] = time.time_ns) -> int:
    if not (args.max_age or args.max_count or args.max_size):
        raise SessionError(
            "say what to remove: --max-age DAYS, --max-count N and/or --max-size SIZE"
        )
    rules = Retention(
        args.max_age * 86400 if args.max_age else None,
        args.max_count,
        args.max_size,
        args.keep_failed,
        tuple(args.keep_tag),
    )
    with Catalog(sessions_dir(args.dir)) as cat:
        doomed = plan_cleanup(cat.sync(), rules, now_ns())
        if not args.dry_run:
            for e in doomed:
                Path(e["path"]).unlink(missing_ok=True)
                cat.forget(Path(e["path"]))
    if args.json:
        _emit({"dry_run": args.dry_run, "removed": doomed})
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for e in doomed:
        print(
            f"{verb} {(e['id'] or '?')[:8]}  {_stamp(e['started'])}  {e['name']}  "
            f"{_size(e['bytes'])}  {e['outcome']}"
        )
    print(
        f"{verb} {counted(len(doomed), 'session')}, {_size(sum(e['bytes'] or 0 for e in doomed))}"
    )
    return 0


# -- repair
# -----------------------------------------------------------------------------------------


def _repair_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p)


def run_repair(args: argparse.Namespace) -> int:
    report = repair(resolve(args.session, sessions_dir(args.dir)))
    if report.was_clean:
        print(f"{report.path}: already closed cleanly, {report.events:,} events; nothing to do")
    else:
        print(
            f"{report.path}: repaired; {report.events:,} events kept, "
            f"{report.dropped_bytes} damaged bytes cut"
        )
    return 0


# -- compact
# -----------------------------------------------------------------------------------------


def _compact_args(p: argparse.ArgumentParser) -> None:
    _session_arg(p)


def run_compact(args: argparse.Namespace) -> int:
    path = resolve(args.session, sessions_dir(args.dir))
    done = compact(path)
    if done is None:
        print(f"{path}: already in big blocks; nothing to do")
    else:
        print(
            f"{path}: {done.events:,} events, {_size(done.before)} -> {_size(done.after)} "
            f"({done.after / max(1, done.events):.1f} bytes/event)"
        )
    return 0


_VERBS = (
    ("list", "list sessions (newest first), filtered and sorted", _list_args, run_list),
    ("inspect", "show one session's header, summary and agents", _inspect_args, run_inspect),
    (
        "compare",
        "compare two sessions: metadata, agents, first divergence",
        _compare_args,
        run_compare,
    ),
    ("export", "write a session as jsonl, csv, md or dot", _export_args, run_export),
    (
        "profile",
        "where the time went: tasks by name and role, agents, the critical path",
        _profile_args,
        run_profile,
    ),
    ("stats", "count sessions, sizes, failed vs ok, per workflow", _stats_args, run_stats),
    (
        "cleanup",
        "remove old sessions by age, count and size (--dry-run shows what would go)",
        _cleanup_args,
        run_cleanup,
    ),
    (
        "repair",
        "give a crashed session file a proper end, keeping every event before its first damage",
        _repair_args,
        run_repair,
    ),
    (
        "compact",
        "rewrite a closed session in big blocks (recorders do it at close; for older files)",
        _compact_args,
        run_compact,
    ),
)
