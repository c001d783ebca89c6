"""How the screens look, at 80x24 and 120x35, in every theme. Frozen swarm, frozen clock."""

import pytest
from tui_fixtures import frozen_app

from swarmscope.themes import THEMES


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_live(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_detail(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, press=["s", "s", "home", "enter"])


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_help(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, press=["question_mark"])


@pytest.mark.parametrize("theme", list(THEMES))
def test_theme(snap_compare, theme):
    assert snap_compare(frozen_app(theme=theme), terminal_size=(120, 35), press=["3"])
