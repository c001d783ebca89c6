"""Small pure renderers: bars, sparklines, glyphs, sizes and durations.

Every visual cue that carries meaning has a glyph as well as a colour, so
the screen reads the same with NO_COLOR set or to a colour-blind eye.
"""

from __future__ import annotations

from swarmscope.core.words import NOTHING, clip, counted

STATUS_GLYPHS = {
    "idle": "·",
    "starting": "◌",
    "running": "▶",
    "waiting": "…",
    "blocked": "■",
    "done": "✔",
    "failed": "✖",
}
SPARKS = "▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def status_glyph(status: str | None) -> str:
    return STATUS_GLYPHS.get(status or "", "?")


def bar(fraction: float | None, width: int) -> tuple[str, str]:
    """(filled, empty) parts of a bar `width` cells wide, in eighths of a cell."""
    if width <= 0:
        return "", ""
    if fraction is None:
        return "", "·" * width
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_EIGHTHS[part] if part else "")
    return filled, "░" * (width - len(filled))


def sparkline(values: list[int] | list[float], width: int) -> str:
    """The last `width` values as block characters scaled to their maximum."""
    values = list(values)[-width:]
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(7, int(v / top * 7.999))] for v in values)


def count_cell(n: int, noun: str, digits: int = 7) -> str:
    """`n noun` for a column: the number right-aligned in `digits` and the noun padded to its
    plural's width, so "1 message" and "12 messages" keep their numbers (and what follows) in
    place row after row."""
    plural = counted(2, noun).split(" ", 1)[1]
    return f"{n:>{digits},} {noun if n == 1 else plural:<{len(plural)}}"


def human_bytes(n: int | None) -> str:
    if n is None:
        return NOTHING
    for unit in ("B", "K", "M", "G", "T"):
        if abs(n) < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "B" or n >= 100 else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n}"


def duration(seconds: float | None) -> str:
    """Compact duration: 45s, 3m05s, 2h04m, or NOTHING when unknown."""
    if seconds is None or seconds < 0:
        return NOTHING
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def fit(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis (words.clip), or padded to it."""
    return clip(text, max(0, width)).ljust(max(0, width))
