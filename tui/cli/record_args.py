"""Recording options shared by `swarmscope record` and `swarmscope hub --record`."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from swarmscope.core.session.recorder import KEEP, Recorder, RecordPolicy
from swarmscope.core.session.store import sessions_dir
from swarmscope.core.words import counted
from swarmscope.tui.cli.args import positive


def fraction(text: str) -> float:
    value = positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(
            f"{text} is above 1 (a fraction of sessions: 0.1 keeps one in ten)"
        )
    return value


def add_record_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("recording")
    g.add_argument(
        "--dir",
        metavar="DIR",
        help="where sessions go (default $SWARMSCOPE_HOME/sessions, "
        "else the user data dir's swarmscope/sessions)",
    )
    g.add_argument(
        "--tag", action="append", default=[], metavar="T", help="tag the session (repeatable)"
    )
    g.add_argument(
        "--name", metavar="N", help="the session's name (default: the run id, else 'session')"
    )
    g.add_argument(
        "--keep", choices=KEEP, default="all", help="keep every session, or only failed ones"
    )
    g.add_argument(
        "--sample", type=fraction, default=1.0, metavar="F", help="record this fraction of sessions"
    )
    g.add_argument(
        "--rotate-size",
        type=positive(int),
        metavar="BYTES",
        help="start a new session past this size",
    )
    g.add_argument(
        "--rotate-every",
        type=positive(float),
        metavar="SECONDS",
        help="start a new session after this much recorded time",
    )
    g.add_argument(
        "--split-by-run", action="store_true", help="one session per run id the agents announce"
    )
    g.add_argument(
        "--no-compact",
        dest="compact",
        action="store_false",
        help="leave each session in the small blocks it was written in, instead of compacting it "
        "once closed (`swarmscope sessions compact` does it later)",
    )


def make_recorder(args: argparse.Namespace, source: str, out: str | None = None) -> Recorder:
    policy = RecordPolicy(
        keep=args.keep,
        sample=args.sample,
        rotate_bytes=args.rotate_size,
        rotate_seconds=args.rotate_every,
        split_by_run=args.split_by_run,
        compact=args.compact,
    )
    return Recorder(
        None if out else sessions_dir(args.dir),
        out=Path(out) if out else None,
        name=args.name,
        tags=args.tag,
        policy=policy,
        source=source,
    )


def report(recorder: Recorder) -> str:
    kept = ", ".join(str(p) for p in recorder.kept) or "none"
    extra = f"; {recorder.discarded:,} not kept (outcome ok)" if recorder.discarded else ""
    extra += f"; {recorder.skipped:,} events left out by --sample" if recorder.skipped else ""
    if recorder.feed is not None and recorder.feed.bad:
        extra += f"; messages refused: {recorder.feed.why()}"
    if recorder.intake is not None and recorder.intake.dropped_messages:
        dropped = recorder.intake
        extra += (
            f"; {dropped.dropped_messages:,} messages "
            f"({sum(dropped.dropped_events.values()):,} events) "
            f"dropped as it fell behind, each loss written into the session"
        )
    if recorder.intake is not None and recorder.intake.given_up:
        extra += (
            f"; {recorder.intake.given_up:,} messages not written in time at the stop, "
            "each written into the session as lost"
        )
    if recorder.failures:
        extra += (
            f"; {recorder.failures:,} failures of swarmscope's own, the last: {recorder.failure}"
        )
    return f"recorded {counted(recorder.events, 'event')}; sessions kept: {kept}{extra}"


@contextmanager
def recording(
    endpoint: str | None,
    directory: str | None,
    name: str,
    tags: list[str],
    source: str,
    history: str | None = None,
) -> Iterator[Recorder | None]:
    """Record what a hub's viewer side delivers, on a thread of its own, while the body runs.

    With no endpoint, records nothing (yields None). The demo and `watch --record` use it, so a
    live view has a session to rewind into."""
    if endpoint is None:
        yield None
        return
    recorder = Recorder(sessions_dir(directory), name=name, tags=tags, source=source)
    done = threading.Event()
    thread = threading.Thread(
        target=recorder.run_feed,
        args=(endpoint, done.is_set, None, history),
        name=f"swarmscope-{source}-recorder",
        daemon=True,
    )
    thread.start()
    try:
        yield recorder
    finally:
        done.set()
        thread.join(5)
        recorder.close()
        print(f"swarmscope {source}: {report(recorder)}", file=sys.stderr, flush=True)
