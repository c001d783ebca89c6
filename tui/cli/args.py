"""argparse types shared by the subcommands, each with a message that says how to mend the value."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from swarmscope.core.errors import ConfigError
from swarmscope.core.replay.position import position_of
from swarmscope.core.replay.session import Session
from swarmscope.core.wire.endpoints import DEFAULT_IN, DEFAULT_OUT, check_endpoint


def positive(kind: type = float) -> Callable[[str], float]:
    """Numbers that must be above zero."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'whole ' if kind is int else ''}number"
            ) from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be above zero")
        return value

    parse.__name__ = kind.__name__
    return parse


def non_negative(text: str) -> float:
    """A number of seconds that may be zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be zero or more")
    return value


def host_port(text: str) -> str:
    """HOST:PORT to listen on for HTTP (--otlp, --metrics): a port to 65535, 0 for any free one
    (the command says which it got)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"{text!r}: HOST:PORT with a port up to 65535 (0: any free one), e.g. 127.0.0.1:9464"
        )
    return text


AT_HELP = (
    "an event number (1-based), hh:mm:ss[.fff] on the recorded clock, or +N / +Ns from the start"
)


def instant(flag: str, text: str, session: Session) -> int:
    """The event index a flag's value names (as the replay's g takes it), or one line saying what is
    wrong."""
    try:
        i = position_of(text, session)
    except ValueError as exc:
        raise ConfigError(f"{flag} {exc}") from None
    if i < 0:
        raise ConfigError(f"{flag} {text}: before the first event (events are numbered from 1)")
    if i >= len(session):
        raise ConfigError(f"{flag} {text}: the session has {len(session):,} events")
    return i


def endpoint(text: str) -> str:
    """A ZeroMQ address such as tcp://127.0.0.1:7770 or ipc:///tmp/hub.in."""
    try:
        return check_endpoint(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_hub_endpoints(p: argparse.ArgumentParser, agents: str, viewers: str) -> None:
    """--in and --out of a hub (the hub's own, or the demo's embedded one)."""
    for flag, dest, default, what in (
        ("--in", "in_endpoint", DEFAULT_IN, agents),
        ("--out", "out_endpoint", DEFAULT_OUT, viewers),
    ):
        p.add_argument(
            flag,
            dest=dest,
            type=endpoint,
            default=default,
            metavar="ENDPOINT",
            help=f"{what} (default {default})",
        )


def add_view_options(p: argparse.ArgumentParser) -> None:
    """The flags every live view takes."""
    from swarmscope.themes import THEMES

    p.add_argument(
        "--refresh",
        type=positive(float),
        default=0.1,
        metavar="SECONDS",
        help="redraw this often, whatever the event rate (default %(default)s)",
    )
    p.add_argument(
        "--theme",
        choices=list(THEMES),
        default="dark",
        help="colours (default %(default)s; t cycles)",
    )
    p.add_argument(
        "--no-mouse", action="store_true", help="leave the mouse to the terminal (select and copy)"
    )
    p.add_argument(
        "--no-alert-toasts",
        action="store_true",
        help="no pop-up when an agent fails: the header and the Alerts tab still say it "
        "(or alert_toasts = false under [view] in settings.toml)",
    )
    p.add_argument(
        "--readonly", action="store_true", help="refuse every action that writes (replay bookmarks)"
    )
    p.add_argument(
        "--findings",
        metavar="DIR",
        default=".",
        help="where `x` in a replay writes its findings (default: the working directory)",
    )
