"""JSON merge patch (RFC 7386) without mutation, and what a state weighs.

A patch never changes the dict it is applied to: it returns a new one that
shares the untouched branches. States are therefore values, so a keyframe or
a snapshot can hold them without copying and a later patch cannot rewrite
the past.
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """`target` with `patch` merged in: maps merge key by key, None deletes, anything else
    replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def weight(value: Any, limit: int) -> int:
    """How much a value holds, as a viewer keeps it: one per map, array, key and value, and one more
    per 64 characters of text; counted without recursion and only up to just past `limit` (so a huge
    value costs no more to judge than a value at the limit)."""
    n, stack = 0, [value]
    while stack and n <= limit:
        v = stack.pop()
        n += 1
        kind = type(v)
        if kind is dict:
            n += len(v)
            stack.extend(v.values())
        elif kind is list:
            stack.extend(v)
        elif kind is str:
            n += len(v) >> 6
    return n
