"""`swarmscope serve`: the live view, a replay or the demo in a browser, through textual-serve.

textual-serve is Textual's own web server: each browser tab that opens the page starts one view
process of its own, as a terminal would, and draws it with xterm.js. The process is this same
installation (`python -m swarmscope.tui.cli VIEW ARGS`), so a browser sees what `swarmscope VIEW
ARGS` shows in a terminal. The view's arguments are checked here, before anything is served: a
typo is one line now, not a blank page later.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import shlex
import signal
import socket
import sys
from typing import Any, NoReturn

import swarmscope.tui.cli.demo as demo
import swarmscope.tui.cli.replay as replay
import swarmscope.tui.cli.watch as watch
from swarmscope.core.errors import ConfigError
from swarmscope.core.session.store import resolve, sessions_dir
from swarmscope.core.wire.endpoints import is_loopback

VIEWS = {"watch": watch, "replay": replay, "demo": demo}
"""The commands that draw a screen, and so can be served."""
DEFAULT_PORT = 7780
"""Next to the hub's 7770 and 7771, away from the 8000 every development server takes."""
_WILDCARDS = ("", "0.0.0.0", "::")
_WHY = {
    errno.EADDRINUSE: "another server listens there; give another --port",
    errno.EADDRNOTAVAIL: "no network interface of this machine has that address; try 127.0.0.1",
    errno.EACCES: "ports below 1024 need privileges; give a --port above 1023",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="show the live view (or a replay, or the demo) in a browser",
        description="Serve a view over HTTP: each browser tab that opens the URL gets a view of "
        "its own. VIEW and its ARGS are what you would give `swarmscope` in a terminal "
        "(`swarmscope serve replay demo --at +30s`); `--` before VIEW is allowed. Binds to "
        "loopback: reach it from elsewhere with ssh -L. Needs: pip install 'swarmscope[serve]'.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default %(default)s; any other can be reached by anyone "
        "who can reach this machine, and they can press keys)",
    )
    p.add_argument(
        "--port", default=str(DEFAULT_PORT), help="the TCP port to listen on (default %(default)s)"
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when it is not http://HOST:PORT (a proxy in front, "
        "or ssh -L to another local port)",
    )
    p.add_argument(
        "view",
        nargs="?",
        choices=list(VIEWS),
        default="watch",
        metavar="VIEW",
        help=f"the view to serve: {', '.join(VIEWS)} (default %(default)s)",
    )
    p.add_argument(
        "view_args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="the view's own arguments (see swarmscope VIEW --help)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    server_class = _server_class()
    port = _port(args.port)
    view = [args.view, *args.view_args]
    _check_view(view)
    _check_free(args.host, port)
    if not is_loopback(f"tcp://{args.host}:{port}"):
        print(
            f"swarmscope serve: warning: {args.host}:{port} is reachable from other hosts, and "
            "whoever reaches it can watch and press keys; bind to 127.0.0.1 and use ssh -L",
            file=sys.stderr,
            flush=True,
        )
    server = server_class(
        shlex.join([sys.executable, "-m", "swarmscope.tui.cli", *view]),
        args.host,
        port,
        title=f"swarmscope {shlex.join(view)}",
        public_url=args.public_url or _url(args.host, port),
    )
    try:
        server.serve()
    except OSError as exc:  # taken between the check and the bind
        raise ConfigError(_cannot_listen(args.host, port, exc)) from None
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"--port {text}: a TCP port is a number from 1 to 65535, such as 7780")
    return int(text)


class _ViewParser(argparse.ArgumentParser):
    """argparse whose usage errors are ConfigErrors: one line, in serve's name and the view's."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _check_view(view: list[str]) -> None:
    """Parse the view's arguments as the view itself will, so a mistake shows here, once, as one
    line, and not as a page that closes in every browser that opens it."""
    parser = _ViewParser(prog="swarmscope")
    sub = parser.add_subparsers(parser_class=_ViewParser)
    for module in VIEWS.values():
        module.add_parser(sub)
    found, unknown = parser.parse_known_args(view)
    if unknown:
        raise ConfigError(
            f"`swarmscope {view[0]}` takes no {shlex.join(unknown)} (see swarmscope {view[0]} "
            "--help); serve's own options go before the view"
        )
    if view[0] == "replay":  # a session that is not there would end the view before it draws
        for ref in filter(None, (found.session, found.compare)):
            resolve(ref, sessions_dir(found.dir))


def _check_free(host: str, port: int) -> None:
    """Bind the address once and let it go: a taken port or a foreign address is one line before
    the server starts, instead of aiohttp's traceback after it has said where it serves."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host}: {exc.strerror}; give a name or address of this machine"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(_cannot_listen(host, port, exc)) from None


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    why = _WHY.get(exc.errno, exc.strerror or str(exc))
    return f"cannot listen on {host}:{port}: {why}"


def _url(host: str, port: int) -> str:
    """Where a browser finds the server: a wildcard address by this machine's name (the page
    tells the browser where to open its websocket, and 0.0.0.0 is no place to connect to)."""
    if host in _WILDCARDS:
        host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server_class() -> type:
    """The server, built on textual-serve, or one line on what to install (textual-serve is an
    extra, and only this command pays for importing it)."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ConfigError(
            "serving in a browser needs textual-serve: pip install 'swarmscope[serve]'"
        ) from None

    class ViewServer(Server):
        """textual-serve's server, saying one line where it would draw a logo, logging only what
        goes wrong (not every request), and stopping at once on SIGHUP as on ctrl+c and SIGTERM
        (a closed terminal must not leave a server behind), open pages or not."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.pages: set[asyncio.Task] = set()
            """The handler of each open page, which runs its view until the page goes."""

        async def handle_websocket(self, request: Any) -> Any:
            self.pages.add(page := asyncio.current_task())
            try:
                return await super().handle_websocket(request)
            finally:
                self.pages.discard(page)

        async def on_shutdown(self, app: object) -> None:
            """End every page's view (textual-serve tells it to quit when its handler is
            cancelled); aiohttp would wait a minute for the pages to close."""
            for page in self.pages:
                page.cancel()
            await asyncio.gather(*self.pages, return_exceptions=True)

        def initialize_logging(self) -> None:
            logging.basicConfig(level=logging.WARNING, format="swarmscope serve: %(message)s")

        async def on_startup(self, app: object) -> None:
            print(
                f"swarmscope serve: {self.public_url} shows `{self.title}` (ctrl+c to stop)",
                file=sys.stderr,
                flush=True,
            )

        def serve(self, debug: bool = False) -> None:
            loop = asyncio.new_event_loop()  # Server.serve runs the loop the thread has
            asyncio.set_event_loop(loop)
            loop.add_signal_handler(signal.SIGHUP, self.request_exit)
            super().serve(debug)

    return ViewServer
