"""Where sessions live, and how a name on the command line becomes a file.

The directory is `--dir` if given, else `$SWARMSCOPE_HOME/sessions`, else
platformdirs' user data dir for "swarmscope" plus `sessions`. A session is
named on the command line by its path, its file name, its name (`demo`: the newest session of
that name; `demo~1` the one before it), `latest` (`latest~1`, ...), or its id (or an unambiguous
prefix of it). Names come from file names, so naming a session reads no header.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from swarmscope.core.errors import SessionError
from swarmscope.core.paths import home_dir
from swarmscope.core.session.format import SUFFIX
from swarmscope.core.session.reader import SessionFile


def sessions_dir(override: str | Path | None = None) -> Path:
    return home_dir("sessions", override)


def session_files(directory: Path) -> list[Path]:
    """Every session file in `directory`, oldest name first (names start with the start time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == SUFFIX and p.is_file())


def new_session_path(
    directory: Path, name: str, session_id: str, started_ns: int | None = None
) -> Path:
    """`20260101-120000-NAME-ID8.swarm`: sorts by time, reads at a glance, never collides."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime((started_ns or time.time_ns()) / 1e9))
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "session"
    return directory / f"{stamp}-{safe}-{session_id[:8]}{SUFFIX}"


LATEST = "latest"
_FILE_NAME = re.compile(r"\d{8}-\d{6}-(?P<name>.+)-[0-9a-f]{8}")
_BACK = re.compile(r"(?P<name>.+?)~(?P<back>\d+)")


def session_name(path: Path) -> str | None:
    """The name a session file was given (`demo` in `20260101-120000-demo-3f2a9c1e.swarm`), or
    None for a file named some other way."""
    m = _FILE_NAME.fullmatch(path.stem)
    return m["name"] if m else None


def resolve(ref: str, directory: Path) -> Path:
    """The file `ref` names: a path, a file name in `directory`, a session name or `latest` (each
    with `~N` for the Nth before), or a session id or id prefix.

    File names hold the name and the first 8 characters of the id, so a short reference is
    matched by file name; only failing that are headers read.
    """
    for path in (Path(ref).expanduser(), directory / ref):
        if path.is_file():
            return path
    if os.sep in ref or ref.endswith(SUFFIX):
        raise SessionError(f"no session file {ref}")
    files = session_files(directory)
    named = _by_name(ref, files, directory)
    if named is not None:
        return named
    matches = [p for p in files if ref in p.name] or [
        p for p in files if _header_id(p).startswith(ref)
    ]
    if not matches:
        raise SessionError(f"no session {ref!r} in {directory} (see: swarmscope sessions list)")
    if len(matches) > 1:
        ids = {_header_id(p) for p in matches}
        if len(ids) == 1:  # copies of one session: more of the id cannot tell them apart
            raise SessionError(
                f"{ref!r}: {len(matches)} files hold session {ids.pop()[:8]} in {directory} "
                f"({', '.join(p.name for p in matches)}); name one by its file"
            )
        raise SessionError(
            f"{ref!r} matches {len(matches)} sessions in {directory}; give more of the id"
        )
    return matches[0]


def _by_name(ref: str, files: list[Path], directory: Path) -> Path | None:
    """The session `ref` names as `NAME` or `NAME~N` (newest first; `latest` names them all), or
    None when no session has that name (`ref` may then be an id)."""
    back = _BACK.fullmatch(ref)
    name, steps = (back["name"], int(back["back"])) if back else (ref, 0)
    if name == LATEST:  # by the start time in their names (a file from --out has none)
        named = [p for p in files if session_name(p) is not None]
    else:
        named = [p for p in files if session_name(p) == name]
        if not named:
            return None
    if steps >= len(named):
        what = "sessions" if name == LATEST else f"sessions named {name!r}"
        raise SessionError(
            f"{ref!r} is {steps} back, but {directory} holds {len(named)} {what} "
            f"(see: swarmscope sessions list)"
        )
    return named[-1 - steps]


def _header_id(path: Path) -> str:
    try:
        f = SessionFile(path)
    except SessionError:
        return ""
    f.close()
    return f.header["id"]
