"""Seeking from states kept in memory, copy-on-write model copies, compact keyframes and 1.0
files."""

import copy
import random

import pytest
from session_helpers import write_events

from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model import reducers
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.session import format as fmt

SMALL = {"block_events": 300, "keyframe_every": 900}
DONE = 25
"""Small MAX_DONE_TASKS and MAX_FAILED_TASKS, so finished tasks are forgotten many times over in a
short session."""


@pytest.fixture(autouse=True)
def few_done_tasks(monkeypatch):
    monkeypatch.setattr(reducers, "MAX_DONE_TASKS", DONE)
    monkeypatch.setattr(reducers, "MAX_FAILED_TASKS", DONE // 5)


@pytest.fixture(scope="module")
def events():
    return simulate(SimConfig(agents=10, rate=300, seed=9), 9_000)


@pytest.fixture
def path(tmp_path, events, few_done_tasks):
    p = tmp_path / "c.swarm"
    write_events(p, events, batch=250, **SMALL)
    return p


def _exact(m):
    """Everything a model holds, orders included, and the order finished tasks will be forgotten
    in."""
    return copy.deepcopy((m.compact(), list(m.agents), list(m.by_kind), list(m.tasks), m.refused))


def _live(events, indices):
    live, j, out = SwarmModel(), 0, {}
    for i in sorted(indices):
        live.apply_many(events[j : i + 1])
        j = i + 1
        out[i] = _exact(live)
    return out


def test_cached_and_fresh_seeks_give_the_live_model_exactly(path, events):
    rng = random.Random(3)
    indices = [rng.randrange(len(events)) for _ in range(40)] + [899, 900, 1799, 511, 512, 513]
    expected = _live(events, indices)
    with Session(path) as s:
        for i in indices + indices[::-1]:
            assert _exact(s.state_at(i)) == expected[i], i
            with Session(path) as fresh:
                assert _exact(fresh.state_at(i)) == expected[i], i


def test_a_cursor_stepping_back_and_dragging_agrees_with_the_live_model(path, events):
    rng = random.Random(4)
    with Session(path) as s:
        r = s.cursor(len(events) // 2)
        for _ in range(60):
            move = rng.choice(["back", "back", "forward", "drag"])
            if move == "back":
                r.step(-rng.choice([1, 1, 7, 300]))
            elif move == "forward":
                r.step(rng.choice([1, 50, 1000]))
            else:
                r.seek(rng.randrange(len(events)))
            assert _exact(r.model) == _live(events, [r.pos])[r.pos], r.pos


def test_changing_a_returned_model_does_not_reach_the_cache(path, events):
    with Session(path) as s:
        i = 2500
        expected = _exact(s.state_at(i))
        got = s.state_at(i)
        got.apply_many(events[:2000])  # finishes, restarts and forgets tasks the kept model shares
        got.agents.clear()
        got.tasks.popitem()
        r = s.cursor(i)
        r.model.apply_many(events[3000:4000])
        assert _exact(s.state_at(i)) == expected
        r2 = s.cursor(i)
        assert _exact(r2.model) == expected


def test_a_copy_and_its_original_go_their_own_ways(events):
    m = SwarmModel()
    m.apply_many(events[:4000])
    c = m.copy()
    assert _exact(c) == _exact(m)
    c.apply_many(events[4000:6000])
    assert _exact(m) == _live(events, [3999])[3999]
    m.apply_many(events[4000:5000])
    assert _exact(c) == _live(events, [5999])[5999]
    assert _exact(m) == _live(events, [4999])[4999]


def test_compact_restores_exactly_and_continues_identically(events):
    half, whole = SwarmModel(), SwarmModel()
    half.apply_many(events[:4000])
    whole.apply_many(events)
    rows = fmt.unpack(fmt.pack(half.compact()), "keyframe")
    resumed = SwarmModel.from_compact(rows)
    assert _exact(resumed) == _exact(half)
    resumed.apply_many(events[4000:])
    assert _exact(resumed) == _exact(whole)


def test_compact_rows_in_another_field_order_still_restore(events):
    m = SwarmModel()
    m.apply_many(events[:3000])
    rows = fmt.unpack(fmt.pack(m.compact()), "keyframe")
    order = list(range(len(rows["tf"])))[::-1]
    rows["tf"] = [rows["tf"][k] for k in order]
    rows["t"] = [[row[k] for k in order] for row in rows["t"]]
    assert _exact(SwarmModel.from_compact(rows)) == _exact(m)


def test_a_format_1_0_file_with_snapshot_keyframes_still_reads(tmp_path, events, monkeypatch):
    p = tmp_path / "old.swarm"
    monkeypatch.setattr(fmt, "FORMAT_MAJOR", 1)
    monkeypatch.setattr(fmt, "FORMAT_MINOR", 0)
    monkeypatch.setattr(SwarmModel, "compact", SwarmModel.snapshot)
    write_events(p, events, batch=250, **SMALL)
    monkeypatch.undo()
    monkeypatch.setattr(reducers, "MAX_DONE_TASKS", DONE)
    monkeypatch.setattr(reducers, "MAX_FAILED_TASKS", DONE // 5)
    live = SwarmModel()
    live.apply_many(events[:5000])
    with Session(p) as s:
        assert s.meta["format"] == "1.0" and s.meta["keyframes"] > 3
        assert s.state_at(4999).to_dict() == live.to_dict()
