"""Counts and values as people write them: "1 agent", "2 agents", "1,000 events", "failed", "—".

Here rather than in the TUI because the command line prints them too (sessions compare); the
screens take them from here so both say a value the same way.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

_IRREGULAR = {"was": "were"}
NOTHING = "—"
"""What a value that is not there reads as: None, a missing field, a side with no event."""
EMPTY = "(empty)"
_ONE_LINE = {**{c: " " for c in range(32)}, ord("\n"): "⏎", 0x7F: " "}
"""Control characters as they read on one line: a line break marked, the rest a space (a tree
label or a report line must not break, nor pass a terminal escape through)."""


def counted(n: int, noun: str) -> str:
    """`n` and `noun`, singular for one; nouns are English words that take an s, or in
    _IRREGULAR."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {_IRREGULAR.get(noun, noun + 's')}"


def plain(value: Any, limit: int | None = None, *, counts: bool = False) -> str:
    """`value` on one line as a person reads it, not as Python writes it: a string without
    quotes, None as NOTHING, maps and lists as JSON; whole numbers with thousands separators if
    they are `counts` (not a pid or a port); past `limit` characters, cut with an ellipsis so a
    cut never passes for the whole value."""
    if counts and type(value) is int:
        return clip(f"{value:,}", limit)
    return clip(_text(value).translate(_ONE_LINE), limit)


def clip(text: str, limit: int | None) -> str:
    """`text` cut to `limit` characters, its last an ellipsis when anything was cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…" if limit > 0 else ""


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return NOTHING
    if isinstance(value, str):
        return value or EMPTY
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
