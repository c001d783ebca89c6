"""Plain rows and meters the screens read from the model once a frame."""

import random
from collections import Counter

import pytest

from swarmscope.core.events import Event
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.ops.alerts import RateMeter
from swarmscope.tui.rows import SORTS, AgentRows, link_rows

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


def _agents(*events: Event) -> SwarmModel:
    model = SwarmModel()
    model.apply_many(list(events))
    return model


def _beat(agent: str, seq: int, t: int) -> Event:
    return Event(t * S, agent, seq, "heartbeat", {"cpu": 70.0, "rss": 512 << 20}, 1)


def test_cpu_and_rss_are_shown_only_while_the_heartbeats_say_how_an_agent_is_now():
    model = _agents(
        Event(1 * S, "busy", 0, "hello", {"heartbeat": 1.0}, 1),
        Event(1 * S, "done", 0, "hello", {"heartbeat": 1.0}, 1),
        Event(1 * S, "bye", 0, "hello", {"heartbeat": 1.0}, 1),
        Event(1 * S, "silent", 0, "hello", {"heartbeat": 1.0}, 1),
        _beat("busy", 1, 9),
        _beat("done", 1, 9),
        Event(9 * S, "done", 2, "status", {"status": "done"}, 1),
        _beat("bye", 1, 9),
        Event(9 * S, "bye", 2, "bye", {"status": "ok"}, 1),
        _beat("silent", 1, 5),
    )
    rows = {r.id: r for r in AgentRows()(model, 10 * S)}
    assert (rows["busy"].cpu, rows["busy"].rss) == (70.0, 512 << 20)
    for gone in ("done", "bye", "silent"):  # finished, said bye, silent for 5 intervals
        assert (rows[gone].cpu, rows[gone].rss) == (None, None), gone


def test_a_failed_agent_shows_the_task_it_failed_on_as_failed_not_in_flight():
    model = _agents(
        Event(1 * S, "a", 0, "hello", {}, 1),
        Event(1 * S, "a", 1, "task_start", {"task": "t1", "name": "fetch sources"}, 1),
        Event(2 * S, "a", 2, "progress", {"task": "t1", "fraction": 0.75}, 1),
        Event(3 * S, "a", 3, "task_end", {"task": "t1", "result": "failed"}, 1),
        Event(3 * S, "a", 4, "status", {"status": "failed"}, 1),
        Event(1 * S, "b", 0, "hello", {}, 1),
        Event(1 * S, "b", 1, "task_start", {"task": "t2", "name": "plan"}, 1),
        Event(2 * S, "b", 2, "progress", {"task": "t2", "fraction": 0.5}, 1),
    )
    rows = {r.id: r for r in AgentRows()(model, 3 * S)}
    assert (rows["a"].task, rows["a"].progress, rows["a"].failed) == ("fetch sources", 0.75, True)
    assert (rows["b"].task, rows["b"].failed) == ("plan", False)


def _swarm(agents: int, seed: int) -> SwarmModel:
    """Agents with heartbeats of differing intervals and some events each, a few failed or gone."""
    rng = random.Random(seed)
    events = []
    for k in range(agents):
        agent, beat = f"agent-{k:03d}", rng.choice((0.5, 1.0, 2.0))
        events.append(Event(0, agent, 0, "hello", {"heartbeat": beat, "role": "coder"}, 1))
        for seq in range(1, rng.randint(1, 4)):
            events.append(Event(rng.randint(1, 9) * S, agent, seq, "heartbeat", {}, 1))
        if rng.random() < 0.1:
            events.append(Event(9 * S, agent, 9, "status", {"status": "failed"}, 1))
    events.sort(key=lambda e: e.ts)
    return _agents(*events)


@pytest.mark.parametrize("clock", ["rising", "anywhere"])
def test_rows_kept_between_frames_are_the_rows_built_afresh_in_every_order(clock):
    """A frame mends the last one's rows and order (events, the clock crossing a health threshold,
    the clock going back, agents gone): it must show exactly what building every row anew does."""
    model, kept = _swarm(200, seed=3), AgentRows()
    rng = random.Random(4)
    for frame in range(60):
        now = frame * S // 6 if clock == "rising" else rng.randint(0, 40) * S // 4
        sort = rng.choice(SORTS) if frame % 10 == 0 else kept._sort or "health"
        if frame % 7 == 3:  # some agents see events
            for agent in rng.sample(list(model.agents), 20):
                model.apply(Event(now, agent, 100 + frame, "heartbeat", {}, 1))
        if frame == 30:  # a replay moved back to before some agents
            model.forget(list(model.agents)[:15])
        assert kept(model, now, sort) == AgentRows()(model, now, sort), (frame, sort)
        assert kept.health == Counter(a.health(now) for a in model.agents.values())


def test_a_frame_of_quiet_agents_rebuilds_no_row_until_a_health_threshold():
    model, rows = _swarm(50, seed=5), AgentRows()
    t = 10 * S + S // 10  # beats and thresholds fall on half seconds
    rows(model, t)
    assert len(rows.changed) == 50
    rows(model, t + S // 10)
    assert rows.changed == []
    model.apply(Event(t, "agent-007", 50, "heartbeat", {}, 1))
    rows(model, t + S // 5)
    assert [r.id for r in rows.changed] == ["agent-007"]
    before = {r.id: r for r in AgentRows()(model, t + S // 5)}
    rows(model, 20 * S)  # ten seconds on: beats cross thresholds by their intervals
    after = {r.id: r for r in AgentRows()(model, 20 * S)}
    moved = {k for k in after if after[k] != before[k]}
    assert moved and {r.id for r in rows.changed} == moved
