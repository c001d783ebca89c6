"""The ASCII fallback: every glyph the screens draw has an ASCII stand-in of its width, and marks
that tell things apart stay apart."""

import re
from pathlib import Path

from rich.cells import cell_len

from swarmscope.core.model.health import Health
from swarmscope.tui.ascii import TABLE, to_ascii, wants_ascii
from swarmscope.tui.render import SPARKS, STATUS_GLYPHS

SOURCES = Path(__file__).parent.parent
STRING = re.compile(r"""(?<!")"([^"\n]*)"(?!")|'([^'\n]*)'""")
"""One-line string literals (docstrings, three quotes, are prose, never drawn)."""


def test_every_glyph_our_screens_draw_has_a_stand_in_of_its_width():
    drawn = set()
    for path in [*SOURCES.glob("tui/**/*.py"), *SOURCES.glob("core/**/*.py")]:
        if path.name == "ascii.py":
            continue  # the table itself
        for match in STRING.finditer(path.read_text()):
            drawn |= {c for c in "".join(match.groups(default="")) if not c.isascii()}
    assert drawn, "no glyphs found: the pattern is wrong"
    missing = sorted(c for c in drawn if ord(c) not in dict.keys(TABLE))
    assert not missing, f"no ASCII stand-in for {missing}"
    assert all(cell_len(to_ascii(c)) == cell_len(c) for c in drawn)


def test_marks_that_tell_things_apart_stay_apart():
    for marks in (STATUS_GLYPHS.values(), [h.glyph for h in Health], "✖◆★⋯◇▲"):
        marks = list(marks)
        assert len({to_ascii(m) for m in marks}) == len(marks), marks
    levels = [to_ascii(c) for c in SPARKS]
    assert levels[0] != levels[-1] and to_ascii("█░") == "#-"


def test_what_is_not_in_the_table_keeps_its_width():
    assert to_ascii("日本 ok") == "???? ok"
    assert to_ascii("plain text") == "plain text"


def test_ascii_when_the_terminal_or_the_locale_says_so():
    assert wants_ascii({"LANG": "C"}) and wants_ascii({"LC_ALL": "POSIX", "LANG": "C.UTF-8"})
    assert wants_ascii({"TERM": "vt100", "LANG": "C.UTF-8"})
    assert not wants_ascii({"LANG": "en_US.UTF-8"}) and not wants_ascii({})
    assert not wants_ascii({"LANG": "C", "SWARMSCOPE_ASCII": "0"})
    assert wants_ascii({"LANG": "en_US.utf8", "SWARMSCOPE_ASCII": "1"})
