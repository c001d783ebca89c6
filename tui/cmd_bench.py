"""`swarmscope bench`: print the project's performance figures, each against its floor."""

from __future__ import annotations

import argparse
import json

from swarmscope.core import bench

SECTIONS = (*bench.SECTIONS, "ui", "replay")
"""The core's sections, and the UI's (kept in tui/: core never imports Textual)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure swarmscope's speed against floors measured in the same run",
                       description="Each figure is printed next to a floor measured in the same run, "
                                   "because machines are noisy: compare the ratios.")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--only", choices=SECTIONS, action="append",
                   help="run only this section (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller runs: rougher figures, sooner")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    results = {}
    report = None if args.json else print
    for name in args.only or SECTIONS:
        if name == "ui":
            from .bench_ui import bench_ui
            results[name] = bench_ui(quick=args.quick, report=report)
        elif name == "replay":
            from .bench_replay import bench_replay
            results[name] = bench_replay(quick=args.quick, report=report)
        else:
            results[name] = bench.run_section(name, quick=args.quick, report=report)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0
