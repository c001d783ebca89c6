"""`swarmscope bench`: print the project's performance figures, each against its floor."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import swarmscope.bench as bench
from swarmscope.bench.report import MISSED

CHOICES = (*bench.SECTIONS, *bench.LONG_SECTIONS)
"""And the trust sections, minutes each, run only by name."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure swarmscope's speed against floors measured in the same run",
        description="Each figure is printed next to a floor measured in the same run, "
        "because machines are noisy: compare the ratios.",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument(
        "--only",
        choices=CHOICES,
        action="append",
        help="run only this section (repeatable); hostile and soak run only when named",
    )
    p.add_argument("--quick", action="store_true", help="smaller runs: rougher figures, sooner")
    p.add_argument(
        "--check", action="store_true", help="exit 1 if any figure misses its target (for CI)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sections = args.only or bench.SECTIONS
    if len(sections) > 1:
        return _each_in_its_own_process(sections, args)
    name = sections[0]
    report = None if args.json else print
    result = bench.run_section(name, quick=args.quick, report=report)
    if args.json:
        print(json.dumps({name: result}, indent=2))
    if args.check and MISSED:
        print(f"swarmscope bench: not met: {'; '.join(MISSED)}", file=sys.stderr)
        return 1
    return 0


def _each_in_its_own_process(sections: list[str], args: argparse.Namespace) -> int:
    """One process per section: a section run after another inherited its heap (the sessions
    section leaves ~130 MiB), and every garbage collection in the UI sections walked it."""
    results, status = {}, 0
    for name in sections:
        cmd = [sys.executable, "-m", "swarmscope.tui.cli", "bench", "--only", name]
        cmd += ["--quick"] * args.quick + ["--json"] * args.json + ["--check"] * args.check
        done = subprocess.run(cmd, stdout=subprocess.PIPE if args.json else None, text=True)
        status = status or done.returncode
        if args.json:  # with --check, a section that missed a target still printed its figures
            try:
                results.update(json.loads(done.stdout))
            except ValueError:
                pass  # the section failed before it printed: its status says so
    if args.json:
        print(json.dumps(results, indent=2))
    return status
