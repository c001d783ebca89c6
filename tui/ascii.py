"""An ASCII fallback for terminals that cannot show Unicode (LANG=C, a vt100).

Glyphs carry meaning all over the screen (✔ done, ✖ failed, ⋯ lost, bars,
sparklines, borders), and they come from our widgets and from Textual's
alike. Rather than a second glyph set in every widget, the app's output is
translated where it leaves for the terminal: each character one of ASCII of
the same width, chosen so that the marks that tell things apart stay apart
(done `+`, failed `x`, running `>`, lost `:`). A character not in the table
becomes `?`, as many as the cells it took, so nothing shifts.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len
from textual.drivers.linux_driver import LinuxDriver

ENV_ASCII = "SWARMSCOPE_ASCII"
"""1 draws in ASCII whatever the locale says, 0 never."""
ASCII_TERMS = frozenset({"vt52", "vt100", "vt102", "vt220", "dumb"})
"""Terminals that show ASCII only, whatever the locale."""

_GLYPHS = {
    # what a status, a health or an event is
    "·": ".",
    "◌": ":",
    "▶": ">",
    "…": "~",
    "■": "=",
    "✔": "+",
    "✓": "+",
    "✖": "x",
    "✗": "x",
    "×": "x",
    "⊘": "/",
    "●": "*",
    "•": "*",
    "◐": "%",
    "▲": "^",
    "○": "o",
    "⚠": "!",
    "⋯": ":",
    "≈": "~",
    "◆": "+",
    "◇": "o",
    "★": "*",
    "♥": "h",
    "❚": "|",
    "⏎": "\\",
    "—": "-",
    "–": "-",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "▼": "v",
    "«": "<",
    "»": ">",
    # bars and sparklines: filled `#`, empty `-`, levels rising
    "░": "-",
    "▒": ":",
    "▓": "#",
    "█": "#",
    "▁": "_",
    "▂": "_",
    "▃": ".",
    "▄": "-",
    "▅": "=",
    "▆": "=",
    "▇": "#",
    "▏": "|",
    "▎": "|",
    "▍": "|",
    "▌": "#",
    "▋": "#",
    "▊": "#",
    "▉": "#",
    "▔": "-",
    "▀": "-",
    "▐": "|",
    "▕": "|",
}
_LINES = {"-": "─━═╌╍┄┅┈┉╴╶╸╺", "|": "│┃║╎╏┆┇┊┋╵╷╹╻", "+": "┌┐└┘╭╮╰╯┏┓┗┛╔╗╚╝├┤┬┴┼┣┫┳┻╋╠╣╦╩╬"}
"""Box drawing: lines as lines, every corner and tee a `+`."""


class _Table(dict):
    """str.translate's table: ours, else `?` for each cell a non-ASCII character takes."""

    def __missing__(self, code: int) -> str:
        if code < 128:
            raise LookupError  # ASCII: left as it is
        self[code] = "?" * cell_len(chr(code))
        return self[code]


TABLE = _Table(
    {ord(k): v for k, v in _GLYPHS.items()}
    | {ord(c): line for line, chars in _LINES.items() for c in chars}
)


def to_ascii(text: str) -> str:
    """`text` as a terminal that shows ASCII only can show it, cell for cell."""
    return text if text.isascii() else text.translate(TABLE)


def wants_ascii(environ: Mapping[str, str]) -> bool:
    """Whether to draw in ASCII: SWARMSCOPE_ASCII says so, else a terminal that shows ASCII
    only, or a locale that names a character set other than UTF-8 (LANG=C, POSIX). No locale at
    all is taken for UTF-8, as terminals are today."""
    if environ.get(ENV_ASCII, "") in ("0", "1"):
        return environ[ENV_ASCII] == "1"
    if environ.get("TERM", "") in ASCII_TERMS:
        return True
    locale = environ.get("LC_ALL") or environ.get("LC_CTYPE") or environ.get("LANG") or ""
    return bool(locale) and "utf-8" not in locale.lower() and "utf8" not in locale.lower()


class AsciiDriver(LinuxDriver):
    """Textual's terminal driver, writing ASCII only."""

    def write(self, data: str) -> None:
        super().write(to_ascii(data))


def ascii_driver(environ: Mapping[str, str]) -> type[AsciiDriver] | None:
    """The driver for a terminal that shows ASCII only; None to let Textual choose (also when
    something else chose already: a browser's, a test's)."""
    if "TEXTUAL_DRIVER" in environ or not wants_ascii(environ):
        return None
    return AsciiDriver
