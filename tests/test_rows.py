"""Plain rows and meters the screens read from the model once a frame."""

from swarmscope.tui.rows import RateMeter

S = 1_000_000_000


def test_a_rate_over_the_window():
    meter = RateMeter(window_s=10)
    for t in range(0, 21):
        rate = meter.update(t * S, 3 * t)
    assert rate == 3.0


def test_a_replay_stepping_back_or_jumping_far_starts_the_rate_over():
    meter = RateMeter(window_s=10)
    for t in range(0, 11):
        meter.update(t * S, 2 * t)
    assert meter.update(5 * S, 10) == 0.0              # back in time: no negative or stale rate
    assert meter.update(6 * S, 14) == 4.0
    assert meter.update(500 * S, 1000) == 0.0          # far ahead: not the average since 6 s
    assert meter.update(501 * S, 1001) == 1.0
