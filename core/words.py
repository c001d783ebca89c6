"""Counts as people write them: "1 agent", "2 agents", "1,000 events"."""

from __future__ import annotations

_IRREGULAR = {"was": "were"}


def counted(n: int, noun: str) -> str:
    """`n` and `noun`, singular for one; nouns are English words that take an s, or in
    _IRREGULAR."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {_IRREGULAR.get(noun, noun + 's')}"
