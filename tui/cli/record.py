"""`swarmscope record`: subscribe to a hub and write what it delivers to session files."""

from __future__ import annotations

import argparse
import sys

from swarmscope.core.errors import ConfigError
from swarmscope.core.wire.endpoints import DEFAULT_OUT
from swarmscope.tui.cli.args import endpoint
from swarmscope.tui.cli.record_args import add_record_args, make_recorder, report
from swarmscope.tui.cli.signals import stop_on_signals


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record what a hub delivers into session files",
        description="Subscribe to a hub's viewer side and write sessions until a signal stops it.",
    )
    p.add_argument(
        "--connect",
        type=endpoint,
        default=DEFAULT_OUT,
        metavar="ENDPOINT",
        help=f"the hub's viewer side (default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--out", metavar="FILE", help="write exactly this file (instead of a new one under --dir)"
    )
    p.add_argument(
        "--history",
        type=endpoint,
        metavar="ENDPOINT",
        help="where a recording hub says how the swarm stands, so a session begun late starts "
        "from it (default: next to --connect, its tcp port + 1)",
    )
    add_record_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out and args.dir:
        raise ConfigError("give --out FILE or --dir DIR, not both")
    stop = stop_on_signals()
    recorder = make_recorder(args, source=f"record {args.connect}", out=args.out)
    where = args.out or recorder.directory

    def say(note: str) -> None:
        print(f"swarmscope record: {note}", file=sys.stderr, flush=True)

    def link(connected: bool) -> None:
        if connected:
            say(f"the hub at {args.connect} is there: recording")
        else:
            say(f"the hub at {args.connect} went away: waiting for it to come back")

    try:
        recorder.run_feed(
            args.connect,
            stop.is_set,
            on_ready=lambda: say(
                f"{args.connect} -> {where}; waiting for a hub there (ctrl+c to stop)"
            ),
            history=args.history,
            on_link=link,
        )
    finally:
        recorder.close(say=say)
    print(report(recorder), flush=True)
    return 0
