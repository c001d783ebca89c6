"""JSON merge patch (RFC 7386) without mutation.

A patch never changes the dict it is applied to: it returns a new one that
shares the untouched branches. States are therefore values, so a keyframe or
a snapshot can hold them without copying and a later patch cannot rewrite
the past.
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """`target` with `patch` merged in: maps merge key by key, None deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
