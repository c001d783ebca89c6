"""Rewriting a session file's end: a repair, and a bookmark put on a closed file.

Repair gives a crashed or damaged file a proper end, keeping every event
before the damage: the file is checked block by block (CRC and decoding,
trailer ignored), cut after the last good block before the first bad one
(blocks after it are not trusted to follow on), and closed as the writer
would have closed it: an END block with the index and a summary computed by
replaying the events, then the trailer. A file that was already clean is
left alone.

A bookmark added in a replay goes into the file: a BOOKMARK block where
its END was, then the END again with the bookmark in its index. Only a
cleanly closed file is changed (a file without an END may still be being
written), under an exclusive lock, from the END read again under it, so two
replays bookmarking one file at once both keep theirs (and one that waited while a compaction
replaced the file writes into the new one, compact.locked). A crash in between
leaves a file that opens up to the bookmark and that a repair closes.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from swarmscope.core.errors import SessionError
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.compact import locked
from swarmscope.core.session.reader import SessionFile
from swarmscope.core.session.store import sessions_dir
from swarmscope.core.session.summary import summarize
from swarmscope.core.session.writer import being_recorded


def unclosed_note(meta: dict) -> str | None:
    """What to say of a file its recorder did not close (a crash, a damaged end), wherever it is
    shown: with the command that mends it, naming the file by its id only where an id finds it."""
    if meta["closed"]:
        return None
    if meta.get("recording"):
        return "still being recorded: its end is written when the recorder stops"
    path = Path(meta["path"])
    name = meta["id"][:8] if path.parent == sessions_dir() else shlex.quote(str(path))
    return (
        f"not closed cleanly ({meta['damage'] or 'no end block'}); "
        f"`swarmscope sessions repair {name}` gives it a proper end"
    )


@dataclass(frozen=True)
class RepairReport:
    path: Path
    was_clean: bool
    events: int
    """Events in the repaired file."""
    dropped_bytes: int


def repair(path: str | Path) -> RepairReport:
    """Cut `path` after its last good block and close it properly; SessionError while a recorder
    still writes it (its end is not missing, only not written yet)."""
    if being_recorded(path):
        raise SessionError(
            f"{Path(path).name} is still being recorded: its recorder writes its end when it "
            "stops; repair only a file whose recorder has died"
        )
    f = SessionFile(path, verify=True)
    try:
        if f.closed_cleanly and not f.dropped:
            return RepairReport(f.path, True, len(f), 0)
        index, model, first_ts, cut = _replay_good_blocks(f)
        size = f.size
    finally:
        f.close()
    with open(path, "r+b") as out:
        _end_at(out, cut, b"", index, summarize(model, first_ts))
    return RepairReport(Path(path), False, index.events, size - cut)


def write_bookmark(path: str | Path, entry: tuple[int, str, int]) -> None:
    """Put (event index, label, recorded clock) into the cleanly closed file at `path`;
    SessionError if it is not closed (being written, or crashed: repair it first)."""
    with locked(Path(path)) as out:  # released when the file closes
        f = SessionFile(path)
        try:
            if f.end_offset is None:  # set with the summary, from a cleanly closed file's END
                raise SessionError(
                    f"{Path(path).name} is not closed (still being written, or crashed: "
                    "`swarmscope sessions repair` closes it)"
                )
            index, summary, cut = f.index, f.summary, f.end_offset
        finally:
            f.close()
        index.bookmarks.append(entry)
        _end_at(out, cut, fmt.frame(fmt.BOOKMARK, fmt.pack(list(entry))), index, summary)


def _end_at(out: BinaryIO, cut: int, blocks: bytes, index: fmt.SessionIndex, summary: dict) -> None:
    """Cut the file at `cut`, then write `blocks`, an END block and the trailer, through to the
    disk."""
    out.truncate(cut)
    out.seek(cut)
    end = cut + len(blocks)
    out.write(blocks + fmt.frame(fmt.END, fmt.encode_end(index, summary)) + fmt.trailer(end))
    out.flush()
    os.fsync(out.fileno())


def _replay_good_blocks(f: SessionFile) -> tuple[fmt.SessionIndex, SwarmModel, int | None, int]:
    """The index cut at the first block that does not decode, the model and first time there, and
    where to cut."""
    try:
        model, _ = f.keyframe_model(0)  # where the session it continues left off, if it does
    except SessionError:  # that keyframe is damaged too: the counts come from the events alone
        model = SwarmModel()
    first_ts = None
    cut = f.scanned_to
    blocks = f.index.blocks
    for b, (offset, _) in enumerate(blocks):
        try:
            events = f.block_events(b)
        except SessionError:
            blocks, cut = blocks[:b], offset
            break
        first_ts = events[0].ts if first_ts is None else first_ts
        model.apply_many(events)
    n = blocks[-1][1].first + blocks[-1][1].count if blocks else 0
    index = fmt.SessionIndex(
        blocks,
        [(off, kf) for off, kf in f.index.keyframes if kf.at <= n and off < cut],
        [b for b in f.index.bookmarks if b[0] < n],
    )
    return index, model, first_ts, cut
