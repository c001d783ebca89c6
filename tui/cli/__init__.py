"""The `swarmscope` command: one parser, one subcommand per module.

Every error the user can cause ends as one line on stderr and a non-zero
exit, never a traceback: argparse errors are folded to one line, and
SwarmscopeError is printed as its message. A reader that stops reading
(`swarmscope sessions list | head`) ends the command quietly, as it would
end any Unix tool.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import NoReturn

from swarmscope.core.errors import SwarmscopeError
from swarmscope.tui.cli import (
    bench,
    demo,
    hub,
    keys,
    record,
    replay,
    report,
    serve,
    sessions,
    watch,
)

COMMANDS = (hub, demo, watch, record, sessions, replay, report, keys, bench, serve)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that says how to get help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="swarmscope",
        description="Watch AI agent swarms live, and scrub through recorded runs like a video.",
    )
    parser.add_argument(
        "--version", action="version", version=f"swarmscope {version('swarmscope')}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except SwarmscopeError as exc:
        print(f"swarmscope {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point stdout at nothing
        # first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except OSError as exc:
        if exc.filename is None:
            raise  # not a file the user named: a bug, and its traceback is worth having
        print(
            f"swarmscope {args.command}: cannot use {exc.filename}: {exc.strerror}", file=sys.stderr
        )
        return 1
