"""Plain rows and meters the screens read from the model once a frame."""

from swarmscope.core.events import Event
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.tui.rows import RateMeter, link_rows

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
    assert meter.update(5 * S, 10) == 0.0  # back in time: no negative or stale rate
    assert meter.update(6 * S, 14) == 4.0
    assert meter.update(500 * S, 1000) == 0.0  # far ahead: not the average since 6 s
    assert meter.update(501 * S, 1001) == 1.0


def test_links_newest_first_with_the_receivers_health():
    model = SwarmModel()
    model.apply_many(
        [
            Event(1 * S, "a", 0, "hello", {"heartbeat": 1.0}, 1),
            Event(1 * S, "b", 0, "hello", {"heartbeat": 1.0}, 1),
            Event(2 * S, "a", 1, "message", {"to": "b", "topic": "handoff", "size": 300}, 1),
            Event(3 * S, "b", 1, "message", {"to": "ghost", "topic": "ask"}, 1),
            Event(4 * S, "a", 2, "message", {"to": "b", "topic": "done", "size": 200}, 1),
        ]
    )
    rows = link_rows(model, 10 * S)
    assert [(r.src, r.dst, r.count, r.bytes, r.topic, r.age_s) for r in rows] == [
        ("a", "b", 2, 500, "done", 6.0),
        ("b", "ghost", 1, 0, "ask", 7.0),
    ]
    assert rows[0].dst_health is Health.FAILED  # b's last beat was 9 intervals ago
    assert rows[1].dst_health is None  # never seen: nobody is there to answer
