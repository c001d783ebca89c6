"""Counts read as people write them."""

import pytest

from swarmscope.core.model.health import Health
from swarmscope.core.words import counted, plain


@pytest.mark.parametrize(
    "n, noun, says",
    [(0, "agent", "0 agents"), (1, "agent", "1 agent"), (1000, "event", "1,000 events")],
)
def test_one_is_singular(n, noun, says):
    assert counted(n, noun) == says


@pytest.mark.parametrize(
    "value, says",
    [
        ("failed", "failed"),  # no quotes around a plain string
        (None, "—"),
        ("", "(empty)"),
        (True, "true"),
        (12345, "12345"),  # a pid or a port: no thousands separator
        (0.75, "0.75"),
        (["a", 1], '["a", 1]'),
        ({"k": None}, '{"k": null}'),
        ("two\nlines", "two⏎lines"),
        (Health.FAILED, "failed"),
    ],
)
def test_a_value_reads_as_people_write_it(value, says):
    assert plain(value) == says


def test_a_cut_value_ends_in_an_ellipsis_and_counts_take_separators():
    assert plain("x" * 100, 10) == "x" * 9 + "…"
    assert plain("short", 10) == "short"
    assert plain(12345, counts=True) == "12,345"
