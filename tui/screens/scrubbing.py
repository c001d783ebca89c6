"""What the screens that scrub through session files share: the stepping keys, the timeline's
picture of a session, and standing firm on a damaged block.

A file that closed cleanly is opened from its index, without reading every
block, so a block damaged on disk is met only when a move reads it. The
move then says so and the screen stays where it was: the rest of the file,
before and after the damage, can still be replayed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from textual.binding import Binding

from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.model.diff import behaviour
from swarmscope.core.replay.scan import ScanResult
from swarmscope.core.replay.session import Session
from swarmscope.core.session import repair as session_repair
from swarmscope.tui.widgets.timeline import Block, TimelineData

Action = TypeVar("Action", bound=Callable[..., Any])
WINDOW = 300
"""Events listed either side of the cursor."""
SHOWN_AGENTS = 5


def step_bindings(screen: str) -> list[Binding]:
    """Arrows step one event, shift+arrows a hundred, home/end go to the ends (replay and
    compare)."""
    return [
        Binding("right", "step(1)", "Step", id=f"{screen}.step_forward"),
        Binding("left", "step(-1)", "Back", id=f"{screen}.step_back"),
        Binding("shift+right", "step(100)", "+100", show=False, id=f"{screen}.step_forward_100"),
        Binding("shift+left", "step(-100)", "-100", show=False, id=f"{screen}.step_back_100"),
        Binding("home", "seek(0)", "Start", show=False, id=f"{screen}.start"),
        Binding("end", "seek(-1)", "End", show=False, id=f"{screen}.end"),
    ]


def steady(action: Action) -> Action:
    """A screen method that reads a session file: a damaged block on the way goes to the
    screen's `met_damage` instead of taking the app down."""

    @functools.wraps(action)
    def run(screen: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(screen, *args, **kwargs)
        except SessionError as exc:
            screen.met_damage(exc)
            return None

    return run  # type: ignore[return-value]


def events_around(
    session: Session, pos: int, window: int = WINDOW, at_hand: bool = False
) -> tuple[int, list[Event], bool]:
    """The events up to `window` either side of `pos`, the first one's index, and whether that is
    the whole window; next to a damaged block, those of pos's own block (a move reached pos, so
    its block reads).

    With `at_hand`, the window stops where a neighbouring block is not decoded yet: a jump
    answers from the block it landed in (a second block decoded was a third of a drag's p95),
    and the rest can follow a frame later."""
    f = session.file
    b = f.block_of(pos)
    info = f.block_info(b)
    lo, hi = whole = max(0, pos - window), pos + window + 1
    if at_hand and lo < info.first and not f.at_hand(b - 1):
        lo = info.first
    if at_hand and hi > info.first + info.count and not f.at_hand(b + 1):
        hi = info.first + info.count
    try:
        return lo, session.events(lo, hi), (lo, hi) == whole
    except SessionError:
        return info.first, f.block_events(b), True


def swarm_changes(diff: dict[str, Any], agent: str) -> str:
    """What else changed between two instants (a Session.diff), beside `agent`: the agents that
    changed in behaviour, appeared or went; "" if nothing did."""

    def named(ids: list[str]) -> str:
        more = f" and {len(ids) - SHOWN_AGENTS} more" if len(ids) > SHOWN_AGENTS else ""
        return ", ".join(ids[:SHOWN_AGENTS]) + more

    changed = sorted(k for k, fields in diff["agents"].items() if k != agent and behaviour(fields))
    parts = [
        f"{label} {named(sorted(ids))}"
        for label, ids in (
            ("changed:", changed),
            ("appeared:", diff["added"]),
            ("gone:", diff["removed"]),
        )
        if ids
    ]
    return "other agents " + "; ".join(parts) if parts else ""


def damage_note(exc: SessionError, where: int) -> str:
    return f"{exc}. Staying at event {where + 1:,}; the rest of the file can still be replayed."


def unclosed_note(session: Session) -> str | None:
    """What to say on opening a file its recorder did not close: what it shows, and the mend."""
    meta = session.meta
    if meta["recording"]:
        return "still being recorded: the replay grows with it"
    note = session_repair.unclosed_note(meta)
    return note and f"{note}. The {len(session):,} events before that replay as usual"


def timeline_data(
    session: Session, scan: ScanResult, known: tuple[Block, ...] = ()
) -> TimelineData:
    """The timeline's picture of a session: its block index, and what a scan found so far.
    `known`: the blocks of an earlier picture of the same session; a session only ever gains
    blocks, so a rewound live view that grows ten times a second builds only the new ones."""
    blocks = known + tuple(
        Block(i.first, i.count, i.clock_lo, i.clock_hi, i.errors, i.checkpoints)
        for _, i in session.file.index.blocks[len(known) :]
    )
    return TimelineData(blocks, tuple(b[0] for b in session.bookmarks), len(session), scan)
