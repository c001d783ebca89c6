"""CURVE keys: an encrypted feed that only known agents and viewers may join.

A hub that other hosts can reach should neither take events from anyone nor
show them to anyone. With `swarmscope hub --curve` its two sockets are CURVE
servers: the traffic is encrypted, and ZeroMQ's authenticator lets a client
in only if the client's public key is a file in the hub's `clients/` folder.

Keys are files in ZeroMQ's own certificate format (zmq.auth): `NAME.key`, the
public half, safe to copy around, and `NAME.key_secret`, which stays where it
was made. A client (an Emitter, a viewer, a recorder) takes its credentials
from the environment, so every process it starts inherits them:

    SWARMSCOPE_HUB_KEY  the hub's public key file (hub.key)
    SWARMSCOPE_KEY      this client's secret key file (NAME.key_secret)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

from swarmscope.core.errors import ConfigError
from swarmscope.core.paths import home_dir

ENV_HUB_KEY = "SWARMSCOPE_HUB_KEY"
ENV_KEY = "SWARMSCOPE_KEY"
HUB_NAME = "hub"
CLIENTS = "clients"
"""The folder, inside the hub's keys folder, of the public keys it lets in."""


def keys_dir(override: str | Path | None = None) -> Path:
    return home_dir("keys", override)


@dataclass(frozen=True)
class Curve:
    """One socket's CURVE credentials. `server` is the hub's public key; None makes the socket the
    server."""

    public: bytes
    secret: bytes
    server: bytes | None = None

    def apply(self, sock: zmq.Socket) -> None:
        """Set on a socket before it binds or connects."""
        sock.curve_publickey = self.public
        sock.curve_secretkey = self.secret
        if self.server is None:
            sock.curve_server = True
        else:
            sock.curve_serverkey = self.server


def create_keys(directory: Path, name: str) -> tuple[Path, Path]:
    """A new key pair `name` in `directory`: (public file, secret file, readable by its owner
    only)."""
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(
            f"{name!r} is not a key name: use letters, digits, - and _ (e.g. agent-host-1)"
        )
    if (directory / f"{name}.key_secret").exists():
        raise ConfigError(
            f"a key named {name} already exists in {directory}: "
            "choose another name, or delete it first"
        )
    with _writing(directory):
        directory.mkdir(parents=True, exist_ok=True)
        public, secret = zmq.auth.create_certificates(directory, name)
        os.chmod(secret, 0o600)
    return Path(public), Path(secret)


@contextmanager
def _writing(directory: Path) -> Iterator[None]:
    """A folder keys cannot be written to, as one line that says which."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(
            f"cannot write keys in {directory}: {exc.strerror}; choose another folder "
            "(--dir, --keys or $SWARMSCOPE_HOME)"
        ) from exc


def key_files(directory: Path) -> list[tuple[str, str, bool]]:
    """(name, start of the public key, has its secret) for each key in `directory`, by name."""
    out = []
    for public in sorted(directory.glob("*.key")) if directory.is_dir() else []:
        key, _ = _load(public, "a key file")
        out.append((public.stem, key.decode()[:12], public.with_suffix(".key_secret").exists()))
    return out


def hub_curve(directory: Path) -> Curve:
    """The hub's credentials from `directory`, made on first use; its clients/ folder is made
    too."""
    secret = directory / f"{HUB_NAME}.key_secret"
    if not secret.exists():
        create_keys(directory, HUB_NAME)
    with _writing(directory):
        (directory / CLIENTS).mkdir(exist_ok=True)
    public, secret_key = _load(secret, "the hub's key")
    return Curve(public, _need_secret(secret_key, secret, "the hub's key"))


def client_curve() -> Curve | None:
    """This process's credentials as a client, from the environment; None when neither variable is
    set."""
    hub_file, own_file = os.environ.get(ENV_HUB_KEY), os.environ.get(ENV_KEY)
    if not hub_file and not own_file:
        return None
    if not (hub_file and own_file):
        raise ConfigError(
            f"set both {ENV_HUB_KEY} (the hub's public key file) and {ENV_KEY} "
            "(this client's secret key file), or neither"
        )
    server, _ = _load(Path(hub_file), ENV_HUB_KEY)
    public, secret = _load(Path(own_file), ENV_KEY)
    return Curve(public, _need_secret(secret, Path(own_file), ENV_KEY), server)


def _load(path: Path, what: str) -> tuple[bytes, bytes | None]:
    try:
        return zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{what}: cannot read a key from {path} ({exc}); "
            "make one with: swarmscope keys create NAME"
        ) from exc


def _need_secret(secret: bytes | None, path: Path, what: str) -> bytes:
    if secret is None:
        raise ConfigError(f"{what}: {path} holds only a public key; give the NAME.key_secret file")
    return secret
