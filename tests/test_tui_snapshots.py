"""How the screens look, at 80x24 and 120x35, in every theme. Frozen swarm, frozen clock.

Each id says the terminal size the snapshot is taken in (size_id): test_live[80x24]."""

import pytest
from tui_fixtures import frozen_app, size_id

from swarmscope.themes import THEMES

SIZES = [(80, 24), (120, 35)]


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_live(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_detail(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, press=["s", "s", "home", "enter"])


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_help(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, press=["question_mark"])


@pytest.mark.parametrize("size", [(120, 35)], ids=size_id)
@pytest.mark.parametrize("theme", list(THEMES))
def test_theme(snap_compare, size, theme):
    assert snap_compare(frozen_app(theme=theme), terminal_size=size, press=["3"])
