"""Retention: which sessions a cleanup removes, decided by a pure function of the catalog and a
clock.

Rules, in order: anything older than `max_age_s` goes; then only the newest
`max_count` stay; then the oldest go until the total is within `max_bytes`.
Protected sessions never go and do not count against the limits: failed
ones when `keep_failed`, any with a tag in `keep_tags`, and an unclosed file
touched within `ACTIVE_S` (it may still be recording).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTIVE_S = 600


@dataclass(frozen=True)
class Retention:
    max_age_s: float | None = None
    max_count: int | None = None
    max_bytes: int | None = None
    keep_failed: bool = False
    keep_tags: tuple[str, ...] = ()

    def protects(self, entry: dict[str, Any], now_ns: int) -> bool:
        return bool(
            (self.keep_failed and entry["outcome"] == "failed")
            or set(self.keep_tags) & set(entry["tags"])
            or (not entry["closed"] and now_ns - entry["mtime_ns"] < ACTIVE_S * 1e9)
        )


def plan_cleanup(
    entries: list[dict[str, Any]], rules: Retention, now_ns: int
) -> list[dict[str, Any]]:
    """The entries to remove, oldest first. `entries` are catalog rows (started, bytes, outcome,
    tags, ...)."""
    candidates = sorted(
        (e for e in entries if not rules.protects(e, now_ns)),
        key=lambda e: e["started"] or 0,
        reverse=True,
    )
    doomed: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for e in candidates:
        too_old = (
            rules.max_age_s is not None and now_ns - (e["started"] or 0) > rules.max_age_s * 1e9
        )
        too_many = rules.max_count is not None and len(kept) >= rules.max_count
        (doomed if too_old or too_many else kept).append(e)
    if rules.max_bytes is not None:
        total = sum(e["bytes"] or 0 for e in kept)
        while kept and total > rules.max_bytes:
            oldest = kept.pop()
            total -= oldest["bytes"] or 0
            doomed.append(oldest)
    return sorted(doomed, key=lambda e: e["started"] or 0)
