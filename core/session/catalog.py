"""The catalog: a SQLite cache of every session's header and summary, for fast listing.

The files are the truth. `sync()` brings the catalog up to date by looking
at each file's size and mtime and re-reading only those that changed (new,
growing, repaired); rows of vanished files go. Deleting the database loses
nothing: the next sync rebuilds it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from swarmscope.core.errors import SessionError
from swarmscope.core.replay.session import Session
from swarmscope.core.session.store import session_files
from swarmscope.core.session.writer import being_recorded

DB_NAME = "catalog.sqlite"
_COLUMNS = (
    "path",
    "id",
    "name",
    "started",
    "first_ts",
    "last_ts",
    "events",
    "bytes",
    "agents",
    "errors",
    "outcome",
    "tags",
    "runs",
    "closed",
    "dropped",
    "damage",
    "mtime_ns",
    "host",
)
_SCHEMA = f"CREATE TABLE IF NOT EXISTS sessions ({', '.join(_COLUMNS)}, PRIMARY KEY (path))"


class Catalog:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(directory / DB_NAME)
        self.db.execute(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync(self) -> list[dict[str, Any]]:
        """Re-read changed files, forget vanished ones; returns every entry, newest first."""
        known = {
            row[0]: (row[1], row[2])
            for row in self.db.execute("SELECT path, mtime_ns, bytes FROM sessions")
        }
        files = session_files(self.directory)
        for path in files:
            st = path.stat()
            if known.get(str(path)) != (st.st_mtime_ns, st.st_size):
                self._store(_entry(path, st.st_mtime_ns, st.st_size))
        gone = set(known) - {str(p) for p in files}
        self.db.executemany("DELETE FROM sessions WHERE path = ?", [(p,) for p in gone])
        self.db.commit()
        return self.entries()

    def rebuild(self) -> list[dict[str, Any]]:
        self.db.execute("DELETE FROM sessions")
        return self.sync()

    def forget(self, path: Path) -> None:
        self.db.execute("DELETE FROM sessions WHERE path = ?", (str(path),))
        self.db.commit()

    def entries(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions ORDER BY started DESC, path DESC"
        )
        return [_decode(dict(zip(_COLUMNS, row))) for row in rows]

    def _store(self, entry: dict[str, Any]) -> None:
        row = {**entry, "tags": json.dumps(entry["tags"]), "runs": json.dumps(entry["runs"])}
        self.db.execute(
            f"INSERT OR REPLACE INTO sessions VALUES ({', '.join('?' * len(_COLUMNS))})",
            [row[c] for c in _COLUMNS],
        )


def _entry(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """A catalog row for one file; a file that cannot be read gets a row that says why."""
    entry = dict.fromkeys(_COLUMNS)
    entry.update(
        path=str(path),
        mtime_ns=mtime_ns,
        bytes=size,
        tags=[],
        runs=[],
        name=path.stem,
        started=mtime_ns,
        closed=0,
        outcome="unreadable",
    )
    try:
        with Session(path) as s:
            meta, summary = s.meta, s.summary()
    except SessionError as exc:
        entry["damage"] = str(exc)
        return entry
    entry.update(
        id=meta["id"],
        name=meta.get("name"),
        started=meta.get("started"),
        host=meta.get("host"),
        tags=list(meta.get("tags") or []),
        first_ts=summary["first_ts"],
        last_ts=summary["last_ts"],
        events=summary["events"],
        agents=len(summary["agents"]),
        errors=summary["errors"],
        outcome=summary["outcome"],
        runs=summary["runs"],
        closed=int(meta["closed"]),
        dropped=meta["dropped_bytes"],
        damage=meta["damage"],
    )
    return entry


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """A row as stored, plus whether a writer is at it now: asked of the file at each listing,
    never cached (a recorder that dies leaves the file, its size and mtime as they were)."""
    row["tags"], row["runs"], row["closed"] = (
        json.loads(row["tags"]),
        json.loads(row["runs"]),
        bool(row["closed"]),
    )
    row["recording"] = not row["closed"] and being_recorded(row["path"])
    return row
