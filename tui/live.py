"""Entry points that put a live source behind the app: the demo, and watching a running hub."""

from __future__ import annotations

import argparse

from swarmscope.core.live.demo import Demo
from swarmscope.core.live.process import ProcessSource
from swarmscope.core.session.recorder import Recorder
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.config import alert_toasts, load_keymap


def _run(source: ProcessSource, args: argparse.Namespace, name: str, cleanups: tuple = ()) -> int:
    app = SwarmscopeApp(
        source,
        name=name,
        refresh=args.refresh,
        theme=args.theme,
        readonly=args.readonly,
        findings=args.findings,
        keymap=load_keymap(),
        alert_toasts=alert_toasts(args.no_alert_toasts),
    )
    app.on_hang_up.extend([*cleanups, source.stop])
    try:
        app.run(mouse=not args.no_mouse)
    finally:
        source.stop()
    return app.return_code or 0


def _source(endpoint: str, recorder: Recorder | None, history: str | None = None) -> ProcessSource:
    source = ProcessSource(endpoint, history=history)
    if recorder is not None:  # what `r` rewinds into
        source.recording = True
        source.session_path = lambda: next(iter(recorder.current), None)
    return source


def run_demo_ui(args: argparse.Namespace, demo: Demo, recorder: Recorder | None) -> int:
    source = _source(args.out_endpoint, recorder).start()
    demo.before_swarm = lambda: source.wait_connected(10)  # see every agent's hello
    with demo:
        cleanups = (recorder.close, demo.stop) if recorder else (demo.stop,)
        title = f"demo · {args.framework}" if args.framework else f"demo · seed {demo.cfg.seed}"
        return _run(source, args, title, cleanups)


def run_watch(args: argparse.Namespace, recorder: Recorder | None) -> int:
    cleanups = (recorder.close,) if recorder else ()
    return _run(_source(args.connect, recorder, args.history).start(), args, args.connect, cleanups)
