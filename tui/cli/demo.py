"""`swarmscope demo`: a hub, a simulated swarm and a viewer in one command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.latejoin import history_endpoint
from swarmscope.core.live.demo import Demo
from swarmscope.core.live.sim import SimConfig
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session.recorder import Recorder
from swarmscope.core.session.store import sessions_dir
from swarmscope.core.wire.keys import ENV_HUB_KEY, ENV_KEY
from swarmscope.core.words import counted
from swarmscope.tui.cli.args import add_hub_endpoints, add_view_options, positive
from swarmscope.tui.cli.hub import add_watch_args, watch_settings
from swarmscope.tui.cli.record_args import report
from swarmscope.tui.cli.signals import stop_on_signals


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run a hub, a simulated swarm and the live view in one go",
        description="The embedded default: hub, seeded simulated swarm and live UI.",
    )
    p.add_argument(
        "--agents", type=positive(int), default=12, help="how many agents (default %(default)s)"
    )
    p.add_argument(
        "--rate",
        type=positive(float),
        default=60.0,
        metavar="EVENTS_PER_S",
        help="approximate events per second across the swarm (default %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=7,
        help="the same seed gives the same swarm (default %(default)s)",
    )
    p.add_argument(
        "--duration",
        type=positive(float),
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: until quit)",
    )
    add_hub_endpoints(p, "the embedded hub's agent side", "the embedded hub's viewer side")
    p.add_argument(
        "--headless",
        action="store_true",
        help="no UI: print a status line every second (for servers, CI and benchmarks)",
    )
    p.add_argument("--no-record", action="store_true", help="do not record the demo as a session")
    p.add_argument(
        "--name",
        metavar="N",
        help="the session's name: `swarmscope replay N` opens the newest (default demo, or "
        "demo-FRAMEWORK with --framework)",
    )
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="where the demo's session goes (default $SWARMSCOPE_HOME/sessions, "
        "else the user data dir's swarmscope/sessions)",
    )
    p.add_argument(
        "--framework",
        choices=("openai-agents", "langgraph", "otel"),
        help="instead of the simulated swarm, a scripted multi-agent workflow of this framework "
        "(offline, no API key) through its adapter; needs: pip install 'swarmscope[FRAMEWORK]'",
    )
    add_view_options(p)
    add_watch_args(p)
    p.set_defaults(run=run)


def _config(args: argparse.Namespace) -> SimConfig:
    return SimConfig(agents=args.agents, rate=args.rate, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    # the demo's own hub is on loopback, without CURVE: no client may use it
    for name in (ENV_HUB_KEY, ENV_KEY):
        os.environ.pop(name, None)
    # a recording hub answers late joiners
    history = None if args.no_record else history_endpoint(args.out_endpoint)
    demo = Demo(
        _config(args),
        args.in_endpoint,
        args.out_endpoint,
        duration=args.duration,
        history=history,
        drive=_framework(args),
        watch=watch_settings(args, say=args.headless),
    )
    recorder = None
    if not args.no_record:  # inside the hub: every event from the first, viewer or not
        recorder = Recorder(
            sessions_dir(args.dir),
            name=args.name or (f"demo-{args.framework}" if args.framework else "demo"),
            tags=["demo", f"seed{args.seed}"],
            source="demo",
        )
        recorder.attach(demo.hub)
    try:
        if not args.headless:
            # Textual is imported only when a screen is wanted
            from swarmscope.tui.live import run_demo_ui

            return run_demo_ui(args, demo, recorder)
        return run_headless(args, demo)
    finally:
        if demo.failure:
            print(f"swarmscope demo: the workflow stopped: {demo.failure}", file=sys.stderr)
        if recorder is not None:
            recorder.close()
            print(f"swarmscope demo: {report(recorder)}", file=sys.stderr, flush=True)


def _framework(args: argparse.Namespace) -> Callable[[str, Callable[[], bool]], None] | None:
    """The framework's scripted workflow, for --framework (ConfigError if it is not installed)."""
    if not args.framework:
        return None
    from swarmscope.adapters.demos import driver

    workflow = driver(args.framework)
    return lambda endpoint, stop: workflow(endpoint, stop, args.seed)


def run_headless(args: argparse.Namespace, demo: Demo) -> int:
    """Print what a viewer sees once a second: events, rate, agents by health, refused, gaps."""
    stop = stop_on_signals()
    model = SwarmModel()
    feed = Feed(args.out_endpoint, monitor="headless")
    demo.before_swarm = lambda: feed.wait_connected(10)  # count every agent from its hello
    with feed, demo:
        next_line = time.monotonic() + 1.0
        while not stop.is_set() and not demo.finished.is_set():
            model.apply_many(feed.poll(100))
            if time.monotonic() >= next_line:
                next_line += 1.0
                print(status_line(model, time.time_ns(), feed.stats.bad), flush=True)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # take in the goodbyes before saying ours
            model.apply_many(feed.poll(50))
    print("final: " + status_line(model, time.time_ns(), feed.stats.bad), flush=True)
    return 0


def status_line(model: SwarmModel, now_ns: int, refused: int) -> str:
    counts = model.health_counts(now_ns)
    health = " ".join(f"{h.glyph}{counts.get(h, 0)}" for h in Health)
    return (
        f"{counted(model.events, 'event')} ({model.events_per_second(now_ns):.0f}/s), "
        f"{counted(len(model.agents), 'agent')} [{health}], {counted(model.errors, 'error')}, "
        f"{model.gaps} lost, "
        f"{refused} refused"
    )
