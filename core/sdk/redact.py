"""Redaction of values whose keys look like secrets, before they leave the agent.

Agents put whatever they have into state, logs and errors; API keys and
tokens end up there sooner or later. The emitter masks them on the agent's
side so a secret never reaches the hub, a viewer or a session file.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_SECRET_PATTERN = (
    r"(^|[_\-.])"
    r"(token|api_?keys?|keys?|passwords?|passwd|secrets?|authorization|auth|credentials?|cookies?)"
    r"($|[_\-.])"
)
"""Matches `token`, `api_key`, `openai_api_key`, `x-authorization`; not `monkey`,
`keyboard` or `max_tokens` (a count, which agents report all the time)."""

MASK = "***"
_MAX_DEPTH = 32


class Redactor:
    """Masks values under secret-looking keys, recursively through maps and lists."""

    def __init__(self, pattern: str | None = DEFAULT_SECRET_PATTERN) -> None:
        self._match = re.compile(pattern, re.IGNORECASE).search if pattern else None

    @property
    def enabled(self) -> bool:
        return self._match is not None

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if self._match is None or depth > _MAX_DEPTH:
            return value
        if isinstance(value, dict):
            return {
                k: MASK if isinstance(k, str) and self._match(k) else self(v, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self(v, depth + 1) for v in value]
        return value
