"""Where a recorded session lost events: gaps per block, for the replay timeline to mark.

The block index says where errors and checkpoints are without reading a
single event, but not where events are missing: that takes following every
agent's sequence numbers through the whole file. It is done once, on its
own Session (a Session is one thread's), off the screen's thread.
"""

from __future__ import annotations

from pathlib import Path

from .replay import Session
from .sequence import advance


def gaps_per_block(path: str | Path) -> list[tuple[int, int]]:
    """(index of the first event after a hole, events lost in its block) for every block that lost any."""
    seqs: dict[str, tuple[int, int]] = {}
    out = []
    with Session(path) as session:
        f = session.file
        for b in range(len(f.index.blocks)):
            lost, where = 0, None
            for k, ev in enumerate(f.block_events(b), f.block_info(b).first):
                inc, expected = seqs.get(ev.agent, (None, 0))
                nxt, missing, _, _ = advance(inc, expected, ev.inc, ev.seq)
                seqs[ev.agent] = (ev.inc, nxt)
                if missing and where is None:
                    where = k
                lost += missing
            if lost:
                out.append((where, lost))
    return out
