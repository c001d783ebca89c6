"""A StretchProfile kept between folds answers exactly what a profile folded afresh answers."""

from pathlib import Path

import pytest
from replay_fixtures import EVENTS, write_session

from swarmscope.core.model.profile import Profile
from swarmscope.core.replay.session import open_session
from swarmscope.core.replay.stretch_profile import StretchProfile


@pytest.fixture(scope="module")
def session_path(tmp_path_factory) -> Path:
    return write_session(tmp_path_factory.mktemp("stretch") / "sim.swarm")


def fresh(path: Path, begin: int, end: int) -> dict:
    stretch = StretchProfile(path)
    try:
        return stretch.fold(begin, end)
    finally:
        stretch.close()


def test_moving_forward_folds_on_and_back_folds_afresh(session_path):
    stretch = StretchProfile(session_path)
    for end in (1_000, 3_500, 6_000, 2_000, 2_001):
        assert stretch.fold(0, end) == fresh(session_path, 0, end), end
    stretch.close()


def test_a_stretch_from_a_pin_starts_from_the_swarm_as_it_stood_there(session_path):
    pin = 2_500
    with open_session(session_path) as session:
        by_hand = Profile()
        by_hand.seed(session.state_at(pin), EVENTS[pin].ts)
    by_hand.apply_many(EVENTS[pin + 1 :])
    got = fresh(session_path, pin + 1, len(EVENTS))
    assert got == by_hand.summary(EVENTS[-1].ts, 20)
    assert got["events"] == len(EVENTS) - pin - 1


def test_a_fold_no_longer_wanted_stops_and_the_next_goes_on_from_there(session_path):
    stretch = StretchProfile(session_path)
    looks = iter([False, True])  # after one chunk of two
    assert stretch.fold(0, 6_000, stop=lambda: next(looks)) is None
    assert stretch.fold(0, 6_000) == fresh(session_path, 0, 6_000)
    stretch.close()
    assert stretch.fold(0, 6_000) is None  # closed: nothing more
