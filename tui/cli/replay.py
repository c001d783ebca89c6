"""`swarmscope replay`: open a recorded session (or pick one), or compare two."""

from __future__ import annotations

import argparse

from swarmscope.core.errors import ConfigError
from swarmscope.core.replay.compare import compare
from swarmscope.core.replay.session import open_session
from swarmscope.core.session.store import sessions_dir
from swarmscope.tui.cli.args import AT_HELP, add_view_options, instant


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="scrub through a recorded session like a video",
        description="Open a session file or id (see `swarmscope sessions list`); with none, "
        "a browser of every session. --compare opens two side by side.",
    )
    p.add_argument(
        "session",
        nargs="?",
        help="a name (demo, demo~1), latest, an id or its start, or a file (default: browse)",
    )
    p.add_argument("--compare", metavar="OTHER", help="a second session to compare against")
    p.add_argument(
        "--at", metavar="WHERE", help=f"open there: {AT_HELP} (default: the first event)"
    )
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="where sessions are (default $SWARMSCOPE_HOME/sessions, "
        "else the user data dir's swarmscope/sessions)",
    )
    add_view_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.compare and not args.session:
        raise ConfigError("--compare needs a first session: swarmscope replay A --compare B")
    directory = sessions_dir(args.dir)
    # errors before any screen
    first = open_session(args.session, directory) if args.session else None
    other = open_session(args.compare, directory) if args.compare else None
    report = compare(first, other) if other is not None else None  # reads both: damage is said here
    from swarmscope.tui.app import SwarmscopeApp  # Textual is imported only when a screen is wanted
    from swarmscope.tui.config import alert_toasts, load_keymap
    from swarmscope.tui.screens.browser import BrowserScreen
    from swarmscope.tui.screens.compare import CompareScreen
    from swarmscope.tui.screens.replay import ReplayScreen

    if other is not None:
        start = lambda: CompareScreen(first, other, report)  # noqa: E731
    elif first is not None:
        at = instant("--at", args.at, first) if args.at else 0
        start = lambda: ReplayScreen(first, first.meta.get("name") or first.id[:8], start=at)  # noqa: E731
    else:
        start = lambda: BrowserScreen(directory)  # noqa: E731
    app = SwarmscopeApp(
        name="replay",
        refresh=args.refresh,
        theme=args.theme,
        readonly=args.readonly,
        findings=args.findings,
        keymap=load_keymap(),
        start=start,
        alert_toasts=alert_toasts(args.no_alert_toasts),
    )
    app.run(mouse=not args.no_mouse)
    return app.return_code or 0
