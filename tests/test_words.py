"""Counts read as people write them."""

import pytest

from swarmscope.core.words import counted


@pytest.mark.parametrize(
    "n, noun, says",
    [(0, "agent", "0 agents"), (1, "agent", "1 agent"), (1000, "event", "1,000 events")],
)
def test_one_is_singular(n, noun, says):
    assert counted(n, noun) == says
