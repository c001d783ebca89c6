"""`swarmscope hub`: run the hub in the foreground until a signal stops it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from swarmscope.core.errors import ConfigError
from swarmscope.core.hub.forward import Forwarder
from swarmscope.core.hub.hub import HOLD_S, Hub
from swarmscope.core.hub.latejoin import history_endpoint
from swarmscope.core.ops.hooks import check_webhook
from swarmscope.core.ops.watch import HubWatch
from swarmscope.core.ops.watcher import DEFAULT_RETENTION_S, WatchSettings
from swarmscope.core.wire.endpoints import is_loopback
from swarmscope.core.wire.format import MAX_MESSAGE_BYTES
from swarmscope.core.wire.keys import (
    CLIENTS,
    ENV_HUB_KEY,
    ENV_KEY,
    HUB_NAME,
    client_curve,
    keys_dir,
)
from swarmscope.core.words import counted
from swarmscope.tui.cli.args import (
    add_hub_endpoints,
    endpoint,
    host_port,
    non_negative,
    positive,
)
from swarmscope.tui.cli.keys import DIR_HELP
from swarmscope.tui.cli.record_args import add_record_args, make_recorder, report
from swarmscope.tui.cli.signals import stop_on_signals

DEFAULT_OTLP = "127.0.0.1:4318"
"""The OTLP/HTTP port every exporter sends to by default."""
DEFAULT_METRICS = "127.0.0.1:9464"
"""Prometheus's own list of exporters' default ports gives 9464 to OpenTelemetry's exporter, whose
place this takes."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hub",
        help="run a hub that agents publish to and viewers watch",
        description="Proxy events from agents (XSUB on --in) to viewers (XPUB on --out).",
    )
    add_hub_endpoints(p, "where agents publish", "where viewers subscribe")
    p.add_argument(
        "--max-message",
        type=positive(int),
        default=MAX_MESSAGE_BYTES,
        metavar="BYTES",
        help="larger frames are refused by ZeroMQ before decoding (default %(default)s)",
    )
    p.add_argument(
        "--stats-every",
        type=positive(float),
        default=10.0,
        metavar="SECONDS",
        help="print a counters line this often (default %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print counters as JSON lines")
    p.add_argument(
        "--hold",
        type=non_negative,
        default=HOLD_S,
        metavar="SECONDS",
        help="wait this long after binding before passing anything, so the viewers and recorders "
        "of a hub that restarted are back first (default %(default)s)",
    )
    p.add_argument(
        "--curve",
        action="store_true",
        help="encrypt the feed and let in only clients whose public key is in the keys' clients/ "
        "folder (make keys with: swarmscope keys create NAME)",
    )
    p.add_argument("--keys", metavar="DIR", help=f"the hub's keys with --curve; {DIR_HELP}")
    p.add_argument(
        "--record",
        action="store_true",
        help="record everything that passes into session files, viewer or not; viewers that "
        "join later are given the swarm as it stands",
    )
    p.add_argument(
        "--history",
        type=endpoint,
        metavar="ENDPOINT",
        help="with --record, where late joiners ask (default: next to --out, its tcp port + 1)",
    )
    p.add_argument(
        "--forward",
        type=endpoint,
        metavar="ENDPOINT",
        help="pass everything on to another hub's agent side (chaining: a hub per host, one "
        "central hub that viewers watch); CURVE keys as an agent's, from the environment",
    )
    p.add_argument(
        "--otlp",
        nargs="?",
        const=DEFAULT_OTLP,
        type=host_port,
        metavar="HOST:PORT",
        help="also take OpenTelemetry over OTLP/HTTP (/v1/traces, /v1/logs, /v1/metrics) as "
        f"agents' events (default {DEFAULT_OTLP}; needs: pip install 'swarmscope[otlp]')",
    )
    add_watch_args(p)
    add_record_args(p)
    p.set_defaults(run=run)


def add_watch_args(p: argparse.ArgumentParser) -> None:
    """Metrics and alerts: what an operator who is not watching a screen needs."""
    g = p.add_argument_group("metrics and alerts (docs/operations.md)")
    g.add_argument(
        "--metrics",
        nargs="?",
        const=DEFAULT_METRICS,
        type=host_port,
        metavar="HOST:PORT",
        help="serve Prometheus metrics on /metrics, and /healthz, /readyz "
        f"(default {DEFAULT_METRICS})",
    )
    g.add_argument(
        "--metrics-retention",
        type=non_negative,
        default=DEFAULT_RETENTION_S,
        metavar="SECONDS",
        help="an agent that said bye, or went silent for good, leaves the metrics this long after "
        "it was last heard (default %(default)s)",
    )
    g.add_argument(
        "--on-alert",
        metavar="CMD",
        help="run CMD through the shell with the alert as JSON on stdin when an agent fails, turns "
        "critical or raises an error",
    )
    g.add_argument(
        "--alert-webhook",
        metavar="URL",
        help="POST each alert as JSON there (its `text` field reads as is in a Slack or Mattermost "
        "incoming webhook)",
    )
    g.add_argument(
        "--alert-error-rate",
        type=positive(float),
        metavar="PER_SECOND",
        help="also alert when the swarm raises more errors per second than this (over a minute)",
    )


def watch_settings(args: argparse.Namespace, say: bool = True) -> WatchSettings:
    """What the hub's watch process is to do (nothing, if no flag asks for it); one line on a
    webhook it could not use, and a warning for metrics other hosts can reach."""
    if args.alert_webhook:
        check_webhook(args.alert_webhook)
    if args.metrics and not is_loopback(f"tcp://{args.metrics}"):
        print(
            f"swarmscope hub: warning: metrics on {args.metrics} are reachable from other hosts "
            "and name every agent; bind to 127.0.0.1 unless a firewall keeps them in",
            file=sys.stderr,
        )
    return WatchSettings(
        metrics=args.metrics,
        retention_s=args.metrics_retention,
        on_alert=args.on_alert,
        webhook=args.alert_webhook,
        error_rate=args.alert_error_rate,
        hub=args.in_endpoint,
        say=say,
    )


def run(args: argparse.Namespace) -> int:
    history = (args.history or history_endpoint(args.out_endpoint)) if args.record else None
    for ep in (args.in_endpoint, args.out_endpoint, *([history] if history else [])):
        if not is_loopback(ep) and not args.curve:
            print(
                f"swarmscope hub: warning: {ep} is reachable from other hosts and the feed is "
                "not authenticated; bind to 127.0.0.1, or add --curve",
                file=sys.stderr,
            )
    if args.forward and not is_loopback(args.forward) and client_curve() is None:
        print(
            f"swarmscope hub: warning: forwarding to {args.forward} unencrypted; "
            f"set {ENV_HUB_KEY} and {ENV_KEY} for a --curve hub there",
            file=sys.stderr,
        )
    keys = keys_dir(args.keys) if args.curve else None
    settings = watch_settings(args)
    watch: HubWatch | None = None
    otlp_class = _otlp_receiver() if args.otlp else None
    stop = stop_on_signals()
    recorder = make_recorder(args, source=f"hub {args.in_endpoint}") if args.record else None
    forwarder: Forwarder | None = None
    otlp = None
    hub = Hub(
        args.in_endpoint,
        args.out_endpoint,
        max_message=args.max_message,
        keys=keys,
        history=history,
        hold=args.hold,
    )
    if recorder:
        recorder.attach(hub)
    try:
        with hub:
            if args.forward:
                forwarder = Forwarder(hub.inproc_out, args.forward, hub.context).start()
                print(
                    f"swarmscope hub: forwarding everything to {args.forward}",
                    file=sys.stderr,
                    flush=True,
                )
            print(
                f"swarmscope hub: agents -> {args.in_endpoint}, viewers <- {args.out_endpoint}"
                f"{f', recording to {recorder.directory}' if recorder else ''} (ctrl+c to stop)",
                file=sys.stderr,
                flush=True,
            )
            if settings.wanted:
                watch = _start_watch(hub, settings)
            if otlp_class:
                otlp = _start_otlp(otlp_class, args.otlp, args.in_endpoint)
            if keys:
                print(
                    "swarmscope hub: CURVE on; "
                    f"clients give {ENV_HUB_KEY}={keys / (HUB_NAME + '.key')}; "
                    f"let one in by copying its public key into {keys / CLIENTS}",
                    file=sys.stderr,
                    flush=True,
                )
            while not stop.wait(args.stats_every):
                hub.count_passed()
                _report(hub, args.json, recording=recorder is not None, otlp=otlp)
    finally:
        if otlp:
            otlp.stop()
        if watch:
            watch.stop()
        if forwarder:
            forwarder.stop()
        if recorder:
            recorder.close(
                say=lambda note: print(f"swarmscope hub: {note}", file=sys.stderr, flush=True)
            )
    _report(hub, args.json, final=True, recording=recorder is not None, otlp=otlp)
    if recorder and not args.json:
        print(report(recorder), flush=True)
    return 0


def _otlp_receiver() -> type:
    """The receiver's class, or one line on what to install (its protobuf is an extra)."""
    try:
        from swarmscope.adapters.otlp import OtlpReceiver
    except ImportError:
        raise ConfigError(
            "--otlp needs OpenTelemetry's protobuf messages: pip install 'swarmscope[otlp]'"
        ) from None
    return OtlpReceiver


def _start_watch(hub: Hub, settings: WatchSettings) -> HubWatch:
    watch = HubWatch(hub, settings).start()
    hooks = [f"--on-alert {settings.on_alert!r}"] if settings.on_alert else []
    hooks += [f"--alert-webhook {settings.webhook}"] if settings.webhook else []
    said = [f"metrics on http://{watch.address}/metrics"] if watch.address else []
    said += [f"alerts to {' and '.join(hooks)}"] if hooks else ["alerts to stderr"]
    print(f"swarmscope hub: {'; '.join(said)}", file=sys.stderr, flush=True)
    return watch


def _start_otlp(receiver: type, address: str, endpoint: str) -> Any:
    try:
        otlp = receiver(address, endpoint).start()
    except OSError as exc:
        raise ConfigError(f"cannot listen for OTLP on {address}: {exc.strerror}") from None
    print(
        f"swarmscope hub: OTLP/HTTP on http://{otlp.address} (/v1/traces, /v1/logs, /v1/metrics)",
        file=sys.stderr,
        flush=True,
    )
    return otlp


def _otlp_counts(stats: dict) -> str:
    """What the OTLP receiver took, and refused (by reason, most first)."""
    refusals = {k[len("refused.") :]: n for k, n in stats.items() if k.startswith("refused.")}
    why = ", ".join(f"{n:,} {k}" for k, n in sorted(refusals.items(), key=lambda r: -r[1]))
    return (
        f"{counted(stats.get('requests', 0), 'request')}: "
        f"{counted(stats.get('spans', 0), 'span')}, "
        f"{counted(stats.get('log_records', 0), 'log record')}, "
        f"{counted(stats.get('points', 0), 'metric point')}; {sum(refusals.values()):,} refused"
        f"{f' ({why})' if why else ''}"
    )


def _report(
    hub: Hub, as_json: bool, final: bool = False, recording: bool = False, otlp: Any = None
) -> None:
    stats = hub.stats.to_dict()
    if otlp is not None:
        stats["otlp"] = dict(otlp.stats)
    if as_json:
        print(json.dumps({"final": final, **stats}), flush=True)
        return
    refused_by_curve = stats["refused_clients"]
    unrecorded = stats["unrecorded_at_stop"]
    print(
        f"{'stopped' if final else 'hub'}: {counted(stats['messages_in'], 'message')}, "
        f"{counted(stats['events_in'], 'event')} in"
        f"{_refused(stats)}{_dropped(stats, recording)}; {stats['gaps']:,} lost before the hub; "
        f"{counted(stats['publishers'], 'agent connection')}, {counted(stats['viewers'], 'viewer')}"
        f"{f', {refused_by_curve:,} refused by CURVE' if refused_by_curve else ''}"
        f"{f'; {unrecorded:,} messages left unrecorded at stop' if unrecorded else ''}"
        f"{_behind(stats['behind'], final)}{_failures(stats)}"
        f"{'; OTLP ' + _otlp_counts(stats['otlp']) if 'otlp' in stats else ''}",
        flush=True,
    )


def _failures(stats: dict) -> str:
    """A bug of ours that cost a message or a pass (the hub went on): said, so it gets reported."""
    return (
        f"; {stats['failures']:,} failures of swarmscope's own, the last: {stats['failure']}"
        if stats["failures"]
        else ""
    )


def _refused(stats: dict) -> str:
    """Refusals by field, most first, each with the last one's words (what it held, what was
    wanted)."""
    if not stats["refused"]:
        return ""
    said = stats["refusals"]
    parts = [
        f"{n:,} {said.get(field, field)}"
        for field, n in sorted(stats["refused"].items(), key=lambda r: -r[1])
    ]
    return f"; {sum(stats['refused'].values()):,} refused ({'; '.join(parts)})"


def _dropped(stats: dict, recording: bool) -> str:
    if not stats["dropped_messages"]:
        return ""
    who = "the recorder" if recording else "the counting"
    return (
        f"; {stats['dropped_messages']:,} messages ({stats['dropped_events']:,} events) dropped: "
        f"{who} fell behind{' (each loss written into the session)' if recording else ''}"
    )


def _behind(messages: int, final: bool) -> str:
    """What the tap has not taken yet of what the proxy passed."""
    return f"; the tap is {messages:,} messages behind" if messages and not final else ""
