"""Where sessions live, and how a name on the command line becomes a file.

The directory is `--dir` if given, else `$SWARMSCOPE_HOME/sessions`, else
platformdirs' user data dir for "swarmscope" plus `sessions`. A session is
named on the command line by its path, its id (or an unambiguous prefix of
it), or its file name.
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


def resolve(ref: str, directory: Path) -> Path:
    """The file `ref` names: a path, a session id or id prefix, or a file name in `directory`.

    File names hold the first 8 characters of the id, so a short reference
    is matched by name; only failing that are headers read.
    """
    for path in (Path(ref).expanduser(), directory / ref):
        if path.is_file():
            return path
    if os.sep in ref or ref.endswith(SUFFIX):
        raise SessionError(f"no session file {ref}")
    files = session_files(directory)
    matches = [p for p in files if ref in p.name] or [
        p for p in files if _header_id(p).startswith(ref)
    ]
    if not matches:
        raise SessionError(f"no session {ref!r} in {directory} (see: swarmscope sessions list)")
    if len(matches) > 1:
        raise SessionError(
            f"{ref!r} matches {len(matches)} sessions in {directory}; give more of the id"
        )
    return matches[0]


def _header_id(path: Path) -> str:
    try:
        f = SessionFile(path)
    except SessionError:
        return ""
    f.close()
    return f.header["id"]
