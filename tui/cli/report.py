"""`swarmscope report`: a health report of a recorded session or of a live hub, for cron and CI.

The report itself is core/ops/report.py's; this gets the model it reads. From
a session: the model at its end (or at `--at`), health on the recorded clock; a
file damaged on the way is reported up to the damage, and the report says so.
From a hub: joined late, as a viewer joins (a recording hub answers with the
swarm as it stands), health on this host's clock, as the live view judges it.

Exit status, so `swarmscope report || mail ...` works: 0 all well, ALARM (3)
when an agent is CRITICAL or FAILED (a `failed` status is FAILED), 1 when no
report could be made (no hub, no such session), 2 for a command line argparse
refuses.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from swarmscope.core.errors import ConfigError, SessionError
from swarmscope.core.hub.feed import VIEWER_QUEUE
from swarmscope.core.hub.latejoin import JoiningFeed
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.ops.report import (
    build_report,
    live_source,
    session_source,
    to_json,
    to_markdown,
)
from swarmscope.core.replay.session import Session, open_session
from swarmscope.core.session.repair import unclosed_note
from swarmscope.core.session.writer import being_recorded
from swarmscope.core.wire.endpoints import DEFAULT_OUT
from swarmscope.core.wire.keys import client_curve
from swarmscope.tui.cli.args import AT_HELP, endpoint, instant, positive

ALARM = 3
"""The exit status of a report that found an agent CRITICAL or FAILED."""
TIMEOUT_S = 3.0
_AGENT = itemgetter(1)
_names = itertools.count()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="a health report of a session or a live hub, as markdown or JSON (for cron and CI)",
        description="Health by agent, failures and their errors, lost events, the slowest tasks. "
        f"Exit status: 0 all well, {ALARM} if an agent is CRITICAL or FAILED, 1 if no report "
        f"could be made. With no SESSION, the live hub at {DEFAULT_OUT}.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "session",
        nargs="?",
        metavar="SESSION",
        help="a name (demo, demo~1), latest (latest~1), an id or its start, or a file",
    )
    where.add_argument(
        "--connect",
        type=endpoint,
        metavar="ENDPOINT",
        help=f"a live hub's viewer side (the default with no SESSION: {DEFAULT_OUT})",
    )
    p.add_argument(
        "--format",
        choices=("md", "json"),
        default="md",
        help="markdown (pure ASCII) for people, JSON for scripts (default %(default)s)",
    )
    p.add_argument("--at", metavar="WHERE", help=f"a session at this instant: {AT_HELP}")
    p.add_argument(
        "--timeout",
        type=positive(float),
        default=TIMEOUT_S,
        metavar="SECONDS",
        help="live: wait this long for the hub and its answer; a hub that records nothing is "
        "listened to for this long (default %(default)s)",
    )
    p.add_argument(
        "--history",
        type=endpoint,
        metavar="ENDPOINT",
        help="live: where a recording hub answers late joiners (default: next to --connect)",
    )
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="where sessions are (default $SWARMSCOPE_HOME/sessions, "
        "else the user data dir's swarmscope/sessions)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.session is not None:
        report = _from_session(args)
    elif args.at:
        raise ConfigError(
            "--at names an instant of a session: swarmscope report SESSION --at WHERE"
        )
    else:
        report = _from_hub(args.connect or DEFAULT_OUT, args.history, args.timeout)
    sys.stdout.write(to_json(report) if args.format == "json" else to_markdown(report))
    sys.stdout.flush()  # here, so a reader gone away (`| head`) is met while cli.main can say so
    return 0 if report["ok"] else ALARM


# -- a session --------------------------------------------------------------------------------


def _from_session(args: argparse.Namespace) -> dict[str, Any]:
    """The report of a session at its end or at --at, health on the recorded clock."""
    with open_session(args.session, args.dir) as s:
        stop = instant("--at", args.at, s) + 1 if args.at else len(s)
        model, folded, damage = _fold(s, stop)
        notes = _unclosed(s)
        if damage is not None:
            notes.append(f"{damage}: this report holds the {folded:,} events before it")
        source = session_source(
            s.id, s.file.header.get("name"), str(s.file.path), len(s), folded, s.file.closed_cleanly
        )
    return build_report(model, model.now, source=source, notes=notes)


def _unclosed(s: Session) -> list[str]:
    """What to say of a file its recorder did not close, as `sessions inspect` says it (read from
    the file's own state: its summary would fold the whole file again)."""
    f = s.file
    if f.closed_cleanly:
        return []
    state = {
        "closed": False,
        "recording": being_recorded(f.path),
        "path": str(f.path),
        "id": s.id,
        "damage": f.damage,
    }
    return [f"the file is {unclosed_note(state)}"]


def _fold(s: Session, stop: int) -> tuple[SwarmModel, int, str | None]:
    """The model after the first `stop` events, how many it holds, and the damage that stopped it
    short (None when none did). A damaged block is met only when read: then the events are folded
    again from the start, one by one, up to it."""
    try:
        return s.state_before(stop), stop, None
    except SessionError as exc:
        damage = str(exc)
    model, folded = s.state_before(0), 0
    try:
        for ev in s.iter_events(0, stop):
            model.apply(ev)
            folded += 1
    except SessionError:
        pass  # the damage said above, met again
    return model, folded, damage


# -- a live hub -------------------------------------------------------------------------------


@dataclass
class Heard:
    """What a late join to a hub gave."""

    model: SwarmModel
    answered: bool
    """A recording hub answered with the swarm as it stands."""
    history: str
    """Where it asked for that answer."""
    hub_session: Path | None
    listened_ns: int


def _from_hub(out: str, history: str | None, timeout: float) -> dict[str, Any]:
    """The report of a live hub, health judged now on this host's clock."""
    client_curve()  # credentials the environment names, checked before any socket
    heard = listen(out, history, timeout)
    notes = (
        []
        if heard.answered
        else [
            f"the hub at {out} gave no history within {heard.listened_ns / 1e9:.1f} s (a hub "
            "started with `swarmscope hub --record` does): this report holds what arrived meanwhile"
        ]
    )
    session = str(heard.hub_session) if heard.hub_session else None
    source = live_source(out, heard.history, heard.answered, session, heard.listened_ns)
    return build_report(heard.model, time.time_ns(), source=source, notes=notes)


def listen(
    out: str, history: str | None, timeout: float, clock: Callable[[], int] = time.time_ns
) -> Heard:
    """Join the hub at `out` late, as a viewer does, until a recording hub answers or `timeout`
    runs out; ConfigError if no hub let this in by then.

    As in the live view (LiveSource._heard), an agent heard meanwhile was last seen when its
    events arrived, on `clock`: an agent whose host's clock runs behind must not look FAILED."""
    started = time.monotonic()
    deadline = started + timeout
    model, heard, answered, linked, hub_session = SwarmModel(), {}, False, False, None
    with JoiningFeed(out, history, queue=VIEWER_QUEUE, monitor=f"report-{next(_names)}") as feed:
        while not answered and (left := deadline - time.monotonic()) > 0:
            events = feed.poll(max(1, min(50, int(left * 1000))))
            if feed.turned_away:
                raise ConfigError(feed.turned_away)
            linked = linked or feed.connected
            if events:
                model.apply_many(events)
                heard.update(dict.fromkeys(map(_AGENT, events), clock()))
            join = feed.answering
            if join is not None:
                answer = join.answer()
                hub_session = join.session or hub_session
                if answer is not None:
                    model, answered = answer, True
        where = feed.history
    if not linked:
        raise ConfigError(
            f"no hub answered at {out} within {timeout:g} s: start one (`swarmscope hub --record`),"
            " or name yours with --connect ENDPOINT"
        )
    _judge_here(model, heard)
    return Heard(model, answered, where, hub_session, int((time.monotonic() - started) * 1e9))


def _judge_here(model: SwarmModel, heard: dict[str, int]) -> None:
    """Each agent heard while listening was last seen when it was heard (the answer, folded on the
    hub, holds its own clock's times)."""
    for agent_id, at in heard.items():
        agent = model.agents.get(agent_id)
        if agent is not None:
            agent.last_seen = at
