"""Where a typed position points in a session: what the replay's `g` and the `--at` flags take.

An event number (1-based), +N/-N events or +Ns/-Ns seconds from where the
cursor is, or a time of day on the recorded clock.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swarmscope.core.replay.session import Session


def position_of(text: str, session: Session, pos: int = 0) -> int:
    """The event index `text` names: an event number (1-based), +N/-N events or +Ns/-Ns seconds from
    `pos`, or hh:mm:ss[.fff] on the recorded clock (UTC). What the replay's `g` and the `--at` flags
    take."""
    text = text.strip()
    if m := re.fullmatch(r"([+-])(\d+)s", text):
        delta = int(m[2]) * 1_000_000_000 * (1 if m[1] == "+" else -1)
        return max(0, session.index_at_time(session[pos].ts + delta))
    if m := re.fullmatch(r"([+-])(\d+)", text):
        return pos + int(m[2]) * (1 if m[1] == "+" else -1)
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)(?:\.(\d{1,3}))?", text):
        day = session[0].ts - session[0].ts % 86_400_000_000_000
        ts = (
            day
            + ((int(m[1]) * 60 + int(m[2])) * 60 + int(m[3])) * 1_000_000_000
            + int((m[4] or "0").ljust(3, "0")) * 1_000_000
        )
        return max(0, session.index_at_time(ts))
    if text.isdigit():
        return int(text) - 1
    raise ValueError(f"{text!r}: give an event number, +N/-N, +Ns/-Ns or hh:mm:ss")
