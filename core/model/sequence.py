"""Sequence accounting: telling a gap from a restart from a late or reordered event.

Shared by the hub (which counts gaps per agent as traffic passes), the model
(which shows them) and a session's scan (which draws them), so all three
count the same way.

An event of kind `lost` is a loss said outright (intake.py, and any publisher
that knows what it dropped): its seq is the last seq lost and its data's
`first` the first, and it counts every seq from where the agent was up to
its own as lost, the way the next event after a silent loss would. One
whose data also says `late` names seqs before the first event a reader had
of that agent, learned only after later ones (hub/ledger.py): it counts
them on their own and moves nothing, since every count above has already
passed them.
"""

from __future__ import annotations

from typing import Any

LOST = "lost"
MAX_GAP = 1 << 32
"""A jump in seqs past this is not believed as lost events (an agent losing 4 billion events at
once is a sender numbering wrong, or lying): it is counted as a restart instead."""


def advance(
    known_inc: int | None, expected: int, inc: int, seq: int, kind: str = "", data: Any = None
) -> tuple[int, int, bool, bool]:
    """Return (next expected seq, events lost, restarted, reordered) after seeing `seq`.

    A new incarnation is a restart, not a gap; the first event seen from an
    agent (known_inc None) is neither, whatever its seq (a viewer joining late).
    """
    if kind == LOST:
        return _advance_lost(known_inc, expected, inc, seq, data)
    if known_inc != inc:
        return seq + 1, 0, known_inc is not None, False
    if seq >= expected:
        if seq - expected > MAX_GAP:
            return seq + 1, 0, True, False
        return seq + 1, seq - expected, False, False
    return expected, 0, False, True


def _advance_lost(
    known_inc: int | None, expected: int, inc: int, last: int, data: Any
) -> tuple[int, int, bool, bool]:
    first = data.get("first") if isinstance(data, dict) else None
    if type(first) is not int or not 0 <= first <= last:
        first = last
    if known_inc == inc and isinstance(data, dict) and data.get("late") is True:
        lost = last - first + 1
        return expected, lost if lost <= MAX_GAP else 0, False, False
    if known_inc != inc:
        lost = last - first + 1
        return last + 1, lost if lost <= MAX_GAP else 0, known_inc is not None, False
    if last < expected:
        return expected, 0, False, False  # seqs already counted lost when a later one came
    lost = last + 1 - expected
    if lost > MAX_GAP:
        return last + 1, 0, True, False
    return last + 1, lost, False, False


def is_run(agents: tuple, incs: tuple, seqs: tuple, agent: str, inc: int, expected: int) -> bool:
    """True when a batch's columns are all `agent`'s incarnation `inc`, numbered expected,
    expected+1, ...

    The common case for a batch from one emitter: `advance` per event would only
    move the expected seq on by len(seqs), with no gap, restart or reordering.
    The columns are checked in C, so a caller can skip the per-event loop.
    (A batch holding a `lost` event is never a run: the caller checks its kinds.)
    """
    n = len(seqs)
    return (
        n > 0
        and seqs[0] == expected
        and seqs[-1] == expected + n - 1
        and agents.count(agent) == n
        and incs.count(inc) == n
        and seqs == tuple(range(expected, expected + n))
    )
