"""Sequence accounting: telling a gap from a restart from a late or reordered event.

Shared by the hub (which counts gaps per agent as traffic passes) and the
model (which shows them), so both count the same way.
"""

from __future__ import annotations


def advance(known_inc: int | None, expected: int, inc: int, seq: int) -> tuple[int, int, bool, bool]:
    """Return (next expected seq, events lost, restarted, reordered) after seeing `seq`.

    A new incarnation is a restart, not a gap; the first event seen from an
    agent (known_inc None) is neither, whatever its seq (a viewer joining late).
    """
    if known_inc != inc:
        return seq + 1, 0, known_inc is not None, False
    if seq >= expected:
        return seq + 1, seq - expected, False, False
    return expected, 0, False, True


def is_run(agents: tuple, incs: tuple, seqs: tuple, agent: str, inc: int, expected: int) -> bool:
    """True when a batch's columns are all `agent`'s incarnation `inc`, numbered expected, expected+1, ...

    The common case for a batch from one emitter: `advance` per event would only
    move the expected seq on by len(seqs), with no gap, restart or reordering.
    The columns are checked in C, so a caller can skip the per-event loop.
    """
    n = len(seqs)
    return (
        n > 0 and seqs[0] == expected and seqs[-1] == expected + n - 1
        and agents.count(agent) == n and incs.count(inc) == n
        and seqs == tuple(range(expected, expected + n))
    )
