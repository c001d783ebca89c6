"""The swarm model as a reducer: health on a fake clock, sequence accounting, snapshots, bad
fields."""

import math
import random

import pytest
from helpers import exact_state

from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model import swarm as model_module
from swarmscope.core.model.health import Health
from swarmscope.core.model.swarm import SwarmModel

S = 1_000_000_000
T0 = 1_000 * S


def ev(seq, kind, ts=T0, agent="a", inc=1, **data):
    return Event(ts, agent, seq, kind, data, inc)


def hello(interval=2.0, **kw):
    return ev(0, "hello", heartbeat=interval, role="coder", **kw)


@pytest.mark.parametrize(
    "age_s, expected",
    [
        (0, Health.HEALTHY),
        (2.0, Health.HEALTHY),
        (2.01, Health.DEGRADED),
        (4.0, Health.DEGRADED),
        (4.01, Health.CRITICAL),
        (6.0, Health.CRITICAL),
        (6.01, Health.FAILED),
        (600, Health.FAILED),
    ],
)
def test_health_against_the_announced_interval(age_s, expected):
    m = SwarmModel()
    m.apply(hello(interval=2.0))
    assert m.health("a", T0 + int(age_s * S)) is expected


def test_health_in_a_replay_is_as_it_was_then():
    m = SwarmModel()
    m.apply_many([hello(), ev(1, "heartbeat", ts=T0 + 1 * S), ev(2, "heartbeat", ts=T0 + 7 * S)])
    assert m.health("a") is Health.HEALTHY  # at the feed's clock (the last event)
    assert m.health("a", T0 + 7 * S + 5 * S) is Health.CRITICAL


def test_failed_status_and_clean_bye():
    m = SwarmModel()
    m.apply_many([hello(), ev(1, "status", status="failed")])
    assert m.health("a") is Health.FAILED
    m.apply(ev(2, "bye", status="done"))
    assert m.health("a", T0 + 3600 * S) is Health.STOPPED


def test_gaps_restarts_and_reordering_are_told_apart():
    m = SwarmModel()
    m.apply_many([hello(), ev(1, "status", status="running"), ev(5, "heartbeat")])
    assert m.gaps == 3 and m.agents["a"].gaps == 3
    m.apply(ev(3, "heartbeat"))  # late arrival: not a gap, not a restart
    assert m.reordered == 1 and m.gaps == 3
    m.apply(ev(0, "hello", inc=2, heartbeat=2.0))  # new incarnation
    assert m.restarts == 1 and m.gaps == 3
    m.apply(ev(1, "heartbeat", inc=2))
    assert m.gaps == 3


def test_a_late_joiner_counts_no_gap():
    m = SwarmModel()
    m.apply(ev(5000, "heartbeat"))
    m.apply(ev(5001, "heartbeat"))
    assert m.gaps == 0


def test_tasks_progress_messages_and_state():
    m = SwarmModel()
    m.apply_many(
        [
            hello(),
            hello(agent="b"),
            ev(1, "task_start", task="t1", name="fetch"),
            ev(2, "progress", task="t1", fraction=0.5, message="half", blockers=["review"]),
            ev(3, "state", state={"memory": ["x"], "plan": {"step": 1, "goal": "g"}}),
            ev(4, "patch", patch={"plan": {"step": 2}, "memory": None}),
            ev(5, "message", to="b", topic="handoff", size=100),
            ev(6, "task_end", task="t1", result="ok", tokens=42),
            ev(7, "checkpoint", label="before-merge"),
            ev(8, "metric", name="tokens", value=1500),
            ev(9, "error", type="ValueError", message="bad json"),
            ev(10, "custom_kind", anything=1),
        ]
    )
    a = m.agents["a"]
    assert a.state == {"plan": {"step": 2, "goal": "g"}}
    assert (a.task, a.progress, a.tasks_ok) == (None, 1.0, 1)
    assert m.tasks["t1"].result == "ok" and m.tasks["t1"].tokens == 42
    assert m.links[("a", "b")].count == 1 and m.agents["b"].msgs_in == 1
    assert a.checkpoint == "before-merge" and a.metrics == {"tokens": 1500}
    assert a.last_error["type"] == "ValueError" and m.errors == 1
    assert m.by_kind["custom_kind"] == 1


def test_a_patch_never_rewrites_an_earlier_snapshot():
    m = SwarmModel()
    m.apply_many([hello(), ev(1, "state", state={"plan": {"step": 1}})])
    snap = m.snapshot()
    m.apply(ev(2, "patch", patch={"plan": {"step": 2}}))
    assert snap["agents"]["a"]["state"] == {"plan": {"step": 1}}


@pytest.mark.parametrize(
    "kind, data",
    [
        ("status", {"status": 7}),
        ("progress", {"fraction": "half"}),
        ("progress", {"fraction": True}),
        ("task_start", {"task": ["x"]}),
        ("task_end", {"task": None, "result": 3}),
        ("message", {"to": 5}),
        ("state", {"state": "not a map"}),
        ("patch", {"patch": [1]}),
        ("heartbeat", {"cpu": "x", "rss": 1.5}),
        ("metric", {"name": 1, "value": "v"}),
        ("hello", {"heartbeat": -1, "pid": "x", "role": 3}),
        ("error", {"type": None, "message": {"m": 1}}),
        ("checkpoint", {"label": 1}),
    ],
)
def test_wrong_field_types_are_ignored_not_raised(kind, data):
    m = SwarmModel()
    m.apply(hello())
    m.apply(ev(1, kind, **data))
    assert m.events == 2


def test_snapshot_restore_continues_identically():
    events = simulate(SimConfig(agents=8, rate=400, seed=3), 6000)
    whole, half = SwarmModel(), SwarmModel()
    whole.apply_many(events)
    half.apply_many(events[:3000])
    resumed = SwarmModel.restore(half.snapshot())
    resumed.apply_many(events[3000:])
    assert resumed.to_dict() == whole.to_dict()


def test_rate_and_sparkline_on_the_feed_clock():
    m = SwarmModel()
    # 10 events a second
    m.apply_many(ev(i, "heartbeat", ts=T0 + (i // 10) * S) for i in range(100))
    assert m.events_per_second(T0 + 10 * S, window_s=5) == 10
    assert m.rate_series(T0 + 9 * S, seconds=3) == [10, 10, 10]


def _perturbed(events, seed):
    """The simulated stream as a network could deliver it: holes, late and duplicated events, clock
    skew."""
    rng = random.Random(seed)
    out = []
    for e in events:
        r = rng.random()
        if r < 0.01:
            continue  # lost
        if r < 0.02 and out:
            out.insert(len(out) - 1, e)  # overtakes its predecessor
            continue
        if r < 0.025:
            out.append(e)  # duplicated
        if r < 0.03:
            e = e._replace(ts=e.ts - rng.randrange(5 * S))  # a late clock
        out.append(e)
    return out


def _runs_by_agent(events):
    """Split a stream into maximal runs of one agent, as batches from one emitter each arrive."""
    runs = []
    for e in events:
        if runs and runs[-1][-1].agent == e.agent:
            runs[-1].append(e)
        else:
            runs.append([e])
    return runs


def _chunks(events, seed):
    rng = random.Random(seed)
    i, out = 0, []
    while i < len(events):
        n = rng.choice((1, 2, 7, 50, 500, 3000))
        out.append(events[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("perturb", [False, True])
@pytest.mark.parametrize("batching", ["whole", "random", "by-agent", "agent-runs-merged"])
def test_batches_fold_exactly_as_events_one_by_one(perturb, batching):
    events = simulate(SimConfig(agents=12, rate=400, seed=11), 20_000)
    if perturb:
        events = _perturbed(events, seed=5)
    if batching == "whole":
        batches = [events]
    elif batching == "random":
        batches = _chunks(events, seed=3)
    elif batching == "by-agent":
        batches = _runs_by_agent(events)
    else:  # one agent's long contiguous runs: the shape the whole-batch checks take
        batches = [
            [e for e in events if e.agent == a] for a in dict.fromkeys(e.agent for e in events)
        ]
        events = [e for batch in batches for e in batch]
    one_by_one, batched = SwarmModel(), SwarmModel()
    for e in events:
        one_by_one.apply(e)
    for batch in batches:
        batched.apply_many(batch)
    assert exact_state(batched) == exact_state(one_by_one)


def test_a_batch_that_could_pass_the_agent_limit_keeps_the_per_event_rules(monkeypatch):
    monkeypatch.setattr(model_module, "MAX_AGENTS", 5)
    events = [ev(0, "hello", agent=f"a{i}") for i in range(8)] + [
        ev(1, "status", agent="a1", status="running")
    ]
    one_by_one, batched = SwarmModel(), SwarmModel()
    for e in events:
        one_by_one.apply(e)
    batched.apply_many(events)
    assert exact_state(batched) == exact_state(one_by_one)
    assert batched.refused == 3 and len(batched.agents) == 5


@pytest.mark.parametrize(
    "fraction, expected",
    [
        (0.5, 0.5),
        (1, 1.0),
        (0, 0.0),
        (-0.0, 0.0),
        (2.5, 1.0),
        (-3, 0.0),
        (float("inf"), 1.0),
        (float("-inf"), 0.0),
        (float("nan"), 0.0),
        (True, None),
        ("0.5", None),
    ],
)
def test_progress_fraction_is_clamped_to_a_plain_0_to_1(fraction, expected):
    m = SwarmModel()
    m.apply_many([hello(), ev(1, "progress", fraction=fraction)])
    progress = m.agents["a"].progress
    assert progress == expected
    if expected is not None:
        assert math.copysign(1.0, progress) == 1.0  # never -0.0


def test_links_between_agents_stay_bounded_keeping_the_most_recent(monkeypatch):
    from swarmscope.core.model import reducers

    monkeypatch.setattr(reducers, "MAX_LINKS", 3)
    m = SwarmModel()
    m.apply(hello())
    for i, to in enumerate(["b", "c", "d", "b", "e"], start=1):
        m.apply(ev(i, "message", to=to))
    assert list(m.links) == [("a", "d"), ("a", "b"), ("a", "e")]
    assert m.links[("a", "b")].count == 2


@pytest.mark.parametrize(
    "section, field, value",
    [
        ("a", "progress", "half"),
        ("a", "id", 7),
        ("a", "state", [1]),
        ("a", "said_bye", 1),
        ("t", "started", "noon"),
        ("t", "blockers", "none"),
    ],
)
def test_a_keyframe_with_a_value_of_the_wrong_type_does_not_restore(section, field, value):
    m = SwarmModel()
    m.apply_many(
        [ev(0, "task_start", task="t1", name="fetch"), ev(1, "progress", task="t1", fraction=0.5)]
    )
    rows = m.compact()
    assert exact_state(SwarmModel.from_compact(rows)) == exact_state(m)
    names = list(rows[{"a": "af", "t": "tf"}[section]])
    rows[section][0] = list(rows[section][0])
    rows[section][0][names.index(field)] = value
    with pytest.raises(ValueError, match=field):
        SwarmModel.from_compact(rows)


def test_a_keyframe_link_between_ids_that_are_not_strings_does_not_restore():
    m = SwarmModel()
    m.apply_many([ev(0, "message", to="b"), ev(0, "hello", agent="b")])
    rows = m.compact()
    rows["l"][0] = (5, *rows["l"][0][1:])
    with pytest.raises(ValueError, match="not strings"):
        SwarmModel.from_compact(rows)


@pytest.mark.parametrize(
    "section, value", [("c", ["many", 0, 0, 0, 0, 0]), ("r", [[1, "x"]]), ("e", ["boom"])]
)
def test_a_keyframe_with_tallies_of_the_wrong_type_does_not_restore(section, value):
    m = SwarmModel()
    m.apply(ev(0, "error", type="E", message="m"))
    rows = m.compact()
    rows[section] = value
    with pytest.raises(ValueError, match="wrong type"):
        SwarmModel.from_compact(rows)


def test_an_agent_remembers_the_task_it_failed_and_where_until_it_starts_another():
    m = SwarmModel()
    m.apply_many(
        [
            hello(),
            ev(1, "task_start", task="t1", name="fetch"),
            ev(2, "progress", task="t1", fraction=0.75),
            ev(3, "task_end", task="t1", result="failed"),
            ev(4, "status", status="failed"),
        ]
    )
    a = m.agents["a"]
    assert (a.task, a.failed_task, a.progress) == (None, "fetch", 0.75)
    m.apply(ev(5, "task_start", task="t2", name="retry"))
    assert m.agents["a"].failed_task is None
    m.apply(ev(6, "bye", status="failed"))  # gone with its task unfinished: it failed on that
    assert (m.agents["a"].task, m.agents["a"].failed_task) == (None, "retry")
    m.apply(ev(0, "hello", inc=2, heartbeat=2.0))  # a new start has failed nothing yet
    assert m.agents["a"].failed_task is None


def test_a_task_that_ends_ok_or_cancelled_is_not_one_it_failed():
    m = SwarmModel()
    m.apply_many(
        [
            hello(),
            ev(1, "task_start", task="t1", name="fetch"),
            ev(2, "task_end", task="t1", result="ok"),
            ev(3, "task_start", task="t2", name="plan"),
            ev(4, "task_end", task="t2", result="cancelled"),
        ]
    )
    assert m.agents["a"].failed_task is None
