"""Default endpoints and the check that keeps a typo from becoming a hang."""

from __future__ import annotations

import errno
import os
import re
import socket

import zmq

from swarmscope.core.errors import ConfigError

DEFAULT_IN = "tcp://127.0.0.1:7770"
"""Where agents publish and the hub's XSUB binds."""
DEFAULT_OUT = "tcp://127.0.0.1:7771"
"""Where the hub's XPUB binds and viewers subscribe."""
ENV_ENDPOINT = "SWARMSCOPE_ENDPOINT"

_ENDPOINT = re.compile(r"^(tcp://[^\s:]+:(\d+|\*)|ipc://\S+|inproc://\S+)$")
_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


def check_endpoint(endpoint: str, what: str = "endpoint") -> str:
    """Return `endpoint` if ZeroMQ can use it, else raise a one-line ConfigError."""
    m = _ENDPOINT.match(endpoint or "")
    if not m:
        raise ConfigError(
            f"{what} {endpoint!r} is not a ZeroMQ address; "
            "use tcp://HOST:PORT (e.g. tcp://127.0.0.1:7770) or ipc:///path/to/socket"
        )
    if m[2] not in (None, "*") and not 0 < int(m[2]) < 65536:
        raise ConfigError(f"{what} {endpoint!r}: a TCP port is 1 to 65535, not {m[2]}")
    return endpoint


def agent_endpoint(endpoint: str | None) -> str:
    """The endpoint an agent publishes to: the argument, else $SWARMSCOPE_ENDPOINT, else the
    default."""
    return check_endpoint(endpoint or os.environ.get(ENV_ENDPOINT) or DEFAULT_IN)


def is_loopback(endpoint: str) -> bool:
    """True when a bind address cannot be reached from another host."""
    if not endpoint.startswith("tcp://"):
        return True
    host = endpoint[len("tcp://") :].rsplit(":", 1)[0]
    return host.startswith(_LOOPBACK)


def ipc_in_use(endpoint: str) -> bool:
    """True when something listens on an ipc endpoint's socket file. ZeroMQ binds over
    such a file without a word (it unlinks it and makes its own), so a second hub on
    the same path would silently take every new agent and viewer from the first. The probe
    is a plain connection: the hub there counts it as one dropped before its handshake."""
    if not endpoint.startswith("ipc://"):
        return False
    path = endpoint[len("ipc://") :]
    if path.startswith("@"):  # Linux's abstract namespace: ZeroMQ's own bind refuses a taken name
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:  # no file, a stale file, or not a socket: free to bind
            return False
    return True


_WHY = {
    errno.EADDRINUSE: "is another hub running?",
    errno.EADDRNOTAVAIL: "no network interface of this machine has that address",
    errno.ENODEV: "no network interface of this machine has that name",
    errno.EACCES: "ports below 1024 need privileges",
}


def bind(sock: zmq.Socket, endpoint: str) -> str | None:
    """Bind `sock`, or say why it cannot be, and what is likely behind it (an ipc path another
    process listens on, a taken port, an address this machine does not have)."""
    if ipc_in_use(endpoint):
        return "another process is listening there (is another hub running?)"
    try:
        sock.bind(endpoint)
    except zmq.ZMQError as exc:
        said, hint = zmq.strerror(exc.errno), _WHY.get(exc.errno)  # pyzmq's own repeats the address
        return f"{said} ({hint})" if hint else said
    return None
