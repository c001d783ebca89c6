"""The filter language shared by every list a user can narrow: `word field:value -field:value`.

Free words match anywhere in the searchable text (case-insensitive, every
word must match); `field:value` matches one field by prefix-insensitive
substring; a leading `-` negates a term. Pure and cheap, so a view can
re-filter a thousand rows every frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Filter:
    words: tuple[str, ...] = ()
    fields: tuple[tuple[str, str, bool], ...] = ()
    """(field, value, negated) triples."""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.words or self.fields)

    def matches(self, values: Mapping[str, object]) -> bool:
        """True if every term holds for a row given as field -> value."""
        haystack = None
        for word in self.words:
            negated = word.startswith("-")
            word = word.lstrip("-")
            if haystack is None:
                haystack = " ".join(str(v).lower() for v in values.values() if v is not None)
            if (word in haystack) == negated:
                return False
        for name, value, negated in self.fields:
            actual = values.get(name)
            hit = actual is not None and value in str(actual).lower()
            if hit == negated:
                return False
        return True


def parse_filter(text: str, known_fields: tuple[str, ...] = ()) -> Filter:
    """`text` as a Filter; `field:value` terms for fields not in known_fields count as words."""
    words: list[str] = []
    fields: list[tuple[str, str, bool]] = []
    for term in text.lower().split():
        negated = term.startswith("-")
        name, sep, value = term.lstrip("-").partition(":")
        if sep and value and (not known_fields or name in known_fields):
            fields.append((name, value, negated))
        else:
            words.append(term)
    return Filter(tuple(words), tuple(fields), text)
