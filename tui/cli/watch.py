"""`swarmscope watch`: the live view of a hub that is already running."""

from __future__ import annotations

import argparse

from swarmscope.core.wire.endpoints import DEFAULT_OUT
from swarmscope.core.wire.keys import client_curve
from swarmscope.tui.cli.args import add_view_options, endpoint
from swarmscope.tui.cli.record_args import recording


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="watch a running hub live",
        description="Attach to a hub's viewer side. If the hub is not there yet, or goes "
        "away, the header says so and the view keeps retrying.",
    )
    p.add_argument(
        "--connect",
        type=endpoint,
        default=DEFAULT_OUT,
        metavar="ENDPOINT",
        help=f"the hub's viewer side (default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--history",
        type=endpoint,
        metavar="ENDPOINT",
        help="where a recording hub tells late joiners the swarm as it stands (default: next to "
        "--connect, its tcp port + 1; the hub's --history)",
    )
    p.add_argument(
        "--record",
        action="store_true",
        help="record what you watch as a session (then r rewinds into it)",
    )
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="where --record puts the session (default $SWARMSCOPE_HOME/"
        "sessions, else the user data dir's swarmscope/sessions)",
    )
    add_view_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # credentials the environment names, checked here: the feed reads them in a child process
    client_curve()
    from swarmscope.tui.live import run_watch  # Textual is imported only when a screen is wanted

    with recording(
        args.connect if args.record else None, args.dir, "watch", ["watch"], "watch", args.history
    ) as recorder:
        return run_watch(args, recorder)
