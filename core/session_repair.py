"""Repair: give a crashed or damaged session file a proper end, keeping every event that is intact.

The file is checked block by block (CRC and decoding, trailer ignored), cut
after the last good block, and closed as the writer would have closed it:
an END block with the index and a summary computed by replaying the events,
then the trailer. A file that was already clean is left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import session_format as fmt
from .errors import SessionError
from .model import SwarmModel
from .session_reader import SessionFile
from .session_summary import summarize


@dataclass(frozen=True)
class RepairReport:
    path: Path
    was_clean: bool
    events: int
    """Events in the repaired file."""
    dropped_bytes: int


def repair(path: str | Path) -> RepairReport:
    """Cut `path` after its last good block and close it properly (stop its recorder first)."""
    f = SessionFile(path, verify=True)
    try:
        if f.closed_cleanly and not f.dropped:
            return RepairReport(f.path, True, len(f), 0)
        index, model, first_ts, cut = _replay_good_blocks(f)
        size = f.size
    finally:
        f.close()
    end = fmt.encode_end(index, summarize(model, first_ts))
    with open(path, "r+b") as out:
        out.truncate(cut)
        out.seek(cut)
        out.write(fmt.frame(fmt.END, end) + fmt.trailer(cut))
        out.flush()
        os.fsync(out.fileno())
    return RepairReport(Path(path), False, index.events, size - cut)


def _replay_good_blocks(f: SessionFile) -> tuple[fmt.SessionIndex, SwarmModel, int | None, int]:
    """The index cut at the first block that does not decode, the model and first time there, and where to cut."""
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
