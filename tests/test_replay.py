"""The replay engine: states equal a live model, cursors, pacing on a fake clock, jumps, diff and
blame."""

import random

import pytest
from session_helpers import NS, T0, Script, write_events

from swarmscope.core import open_session
from swarmscope.core.errors import ConfigError
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.diff import diff_values
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.blame import blame
from swarmscope.core.replay.session import Session
from swarmscope.core.session.writer import SessionWriter

SMALL = {"block_events": 300, "keyframe_every": 900}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    events = simulate(SimConfig(agents=10, rate=300, seed=5), 12_000)
    path = tmp_path_factory.mktemp("replay") / "sim.swarm"
    write_events(path, events, batch=250, **SMALL)
    return path, events


@pytest.fixture
def session(recorded):
    with Session(recorded[0]) as s:
        yield s


def _live_states(events, indices):
    """to_dict() of a model fed event by event, at each of `indices` (sorted)."""
    live, j, out = SwarmModel(), 0, {}
    for i in indices:
        while j <= i:
            live.apply(events[j])
            j += 1
        out[i] = live.to_dict()
    return out


def test_state_at_equals_the_live_model_at_many_random_instants(recorded, session):
    _, events = recorded
    rng = random.Random(42)
    indices = sorted({0, 1, 899, 900, 901, len(events) - 1, *rng.sample(range(len(events)), 60)})
    expected = _live_states(events, indices)
    # in random order: every seek from wherever the last one left
    for i in rng.sample(indices, len(indices)):
        assert session.state_at(i).to_dict() == expected[i], i


def test_health_is_computed_at_the_recorded_clock(recorded, session):
    _, events = recorded
    i = 5000
    state = session.state_at(i)
    assert state.now == max(e.ts for e in events[: i + 1])
    assert state.to_dict()["agents"] == _live_states(events, [i])[i]["agents"]


def test_a_cursor_stepping_and_seeking_agrees_with_state_at(recorded, session):
    _, events = recorded
    cursor = session.cursor()
    rng = random.Random(7)
    for _ in range(25):
        move = rng.choice(["seek", "step", "back"])
        if move == "seek":
            cursor.seek(rng.randrange(len(events)))
        else:
            cursor.step(rng.randrange(1, 400) * (1 if move == "step" else -1))
        assert cursor.model.to_dict() == session.state_at(cursor.pos).to_dict()
        assert cursor.event == events[cursor.pos]
    assert cursor.seek(10**9) == len(events) - 1 and cursor.seek(-5) == 0


def test_index_at_time_and_seek_time(recorded, session):
    _, events = recorded
    clocks, clock = [], 0
    for ev in events:
        clock = max(clock, ev.ts)
        clocks.append(clock)
    for i in random.Random(3).sample(range(len(events)), 40):
        expected = max(k for k, c in enumerate(clocks) if c <= clocks[i])
        assert session.index_at_time(clocks[i]) == expected
    assert session.index_at_time(clocks[0] - 1) == -1
    assert session.index_at_time(clocks[-1] + NS) == len(events) - 1
    cursor = session.cursor()
    assert cursor.seek_time(clocks[0] - 1) == 0


def test_jumps_to_errors_checkpoints_bookmarks_and_matches(recorded, session):
    _, events = recorded
    errors = [i for i, e in enumerate(events) if e.kind == "error"]
    checkpoints = [i for i, e in enumerate(events) if e.kind == "checkpoint"]
    cursor = session.cursor()
    assert [cursor.next_error() for _ in errors] == errors
    assert cursor.next_error() is None and cursor.pos == errors[-1]
    assert cursor.prev_error() == errors[-2]
    cursor.seek(0)
    assert cursor.next_checkpoint() == checkpoints[0] and cursor.next_checkpoint() == checkpoints[1]
    assert cursor.prev_checkpoint() == checkpoints[0]
    agent = events[100].agent
    cursor.seek(50)
    assert cursor.next_match(lambda e: e.agent == agent and e.kind == "task_end") == next(
        i for i, e in enumerate(events) if i > 50 and e.agent == agent and e.kind == "task_end"
    )
    session.add_bookmark(7000, "here")
    session.add_bookmark(300, "there")
    cursor.seek(1000)
    assert cursor.next_bookmark() == 7000 and cursor.next_bookmark() is None
    assert cursor.prev_bookmark() == 300 and cursor.prev_bookmark() is None


class FakeTime:
    """A clock that moves only when slept on: pacing becomes arithmetic."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def _gappy(tmp_path):
    script = Script()
    script("a", "hello", at=0, heartbeat=1)
    script("a", "status", at=1, status="running")
    script("a", "status", at=2, status="waiting")
    script("a", "status", at=30, status="running")  # 28 s of silence
    script("a", "bye", at=31, status="done")
    return script.write(tmp_path / "gappy.swarm")


@pytest.mark.parametrize(
    "speed, fold, expected",
    [(1.0, None, 31.0), (2.0, None, 15.5), (16, None, 31 / 16), (1.0, 2.0, 5.0), (0.25, 2.0, 20.0)],
)
def test_play_is_paced_by_recorded_time(tmp_path, speed, fold, expected):
    with Session(_gappy(tmp_path)) as s:
        t = FakeTime()
        cursor = s.cursor()
        played = list(cursor.play(speed, clock=t.clock, sleep=t.sleep, fold_gaps=fold))
        assert [e.kind for e in played] == ["status", "status", "status", "bye"]
        assert t.now - 100.0 == pytest.approx(expected)
        assert cursor.pos == len(s) - 1 and cursor.model.agents["a"].said_bye


def test_play_at_max_never_sleeps_and_bad_speeds_are_refused(tmp_path):
    with Session(_gappy(tmp_path)) as s:
        t = FakeTime()
        assert len(list(s.cursor().play("max", clock=t.clock, sleep=t.sleep))) == 4 and not t.slept
        for bad in (0.1, 17, "fast"):
            with pytest.raises(ConfigError, match="between 0.25x and 16x"):
                next(s.cursor().play(bad))


def _handoff(tmp_path):
    """Known answers: b's status and state change after a's message; a fails later."""
    s = Script()
    s("a", "hello", at=0, heartbeat=1, role="planner")
    s("b", "hello", at=0.1, heartbeat=1, role="coder")
    s("a", "status", at=0.2, status="running")
    s("a", "message", at=0.5, to="b", topic="handoff", summary="your turn")  # 3
    s("b", "status", at=0.6, status="running")  # 4
    s("b", "state", at=0.7, state={"plan": "write it", "step": 1})  # 5
    s("b", "patch", at=0.8, patch={"step": 2})  # 6
    s("a", "error", at=0.9, type="ValueError", message="bad JSON")  # 7
    s("a", "status", at=1.0, status="failed")  # 8
    s("b", "heartbeat", at=1.1, cpu=5.0)  # 9
    return s.write(tmp_path / "handoff.swarm", keyframe_every=4, block_events=2), s.events


def test_diff_names_each_changed_field_per_agent(tmp_path):
    path, _ = _handoff(tmp_path)
    with Session(path) as s:
        d = s.diff(3, 8)
        assert d["from"] == 3 and d["to"] == 8 and d["added"] == [] and d["removed"] == []
        assert d["agents"]["a"]["status"] == ("running", "failed")
        assert d["agents"]["a"]["errors"] == (0, 1)
        assert d["agents"]["b"]["status"] == ("starting", "running")
        assert d["agents"]["b"]["state.plan"] == (None, "write it")
        assert d["agents"]["b"]["state.step"] == (None, 2)
        assert "state" not in d["agents"]["b"]  # its fields arrived; the state did not go anywhere
        assert d["counters"]["events"] == (4, 9)
        assert s.diff(0, 1)["added"] == ["b"]
        assert s.cursor().diff(8, 9)["agents"] == {
            "b": {
                "last_seen": (T0 + 8 * NS // 10, T0 + 11 * NS // 10),
                "cpu": (None, 5.0),
                "events": (4, 5),
                "next_seq": (4, 5),
            }
        }


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ({"s": {}}, {"s": {"a": 1}}, {"s.a": (None, 1)}),
        ({"s": {"a": 1}}, {"s": {}}, {"s.a": (1, None)}),
        ({}, {"a": {"b": 2}}, {"a.b": (None, 2)}),
        ({"s": {}}, {"s": 3}, {"s": ({}, 3)}),
        ({"s": {}}, {}, {"s": ({}, None)}),
    ],
)
def test_an_emptied_or_filled_map_shows_as_its_fields(before, after, expected):
    assert diff_values(before, after) == expected


def test_blame_finds_the_event_and_the_message_behind_it(tmp_path):
    path, events = _handoff(tmp_path)
    with Session(path) as s:
        status = blame(s, "b", "status", 9)
        assert (
            status["index"] == 4 and status["before"] == "starting" and status["value"] == "running"
        )
        assert status["caused_by"] == {
            "agent": "a",
            "index": 3,
            "topic": "handoff",
            "summary": "your turn",
        }
        assert status["event"] == events[4]._asdict()
        assert blame(s, "b", "state.step", 9)["index"] == 6
        assert blame(s, "b", "state.plan", 9)["index"] == 5
        assert (
            blame(s, "a", "status", 7)["index"] == 2
            and blame(s, "a", "status", 7)["caused_by"] is None
        )
        assert blame(s, "a", "status", 9)["index"] == 8
        assert blame(s, "b", "role", 9)["index"] == 1
        assert blame(s, "b", "state.plan", 4) is None


def test_open_session_by_id_prefix_and_unknown_ids(tmp_path, monkeypatch):
    path, _ = _handoff(tmp_path)
    monkeypatch.setenv("SWARMSCOPE_HOME", str(tmp_path / "home"))
    with Session(path) as s:
        session_id = s.id
    with open_session(session_id[:8], tmp_path) as s:
        assert len(s) == 10
    with open_session(session_id, tmp_path) as s:
        assert s.meta["name"] == "hand"
    from swarmscope.core.errors import SessionError

    with pytest.raises(SessionError, match="no session 'nope'"):
        open_session("nope")


def test_a_bookmark_is_saved_in_a_closed_file_and_two_replays_keep_both(tmp_path):
    path = tmp_path / "sim.swarm"
    write_events(path, simulate(SimConfig(agents=4, rate=300, seed=2), 3_000), batch=250, **SMALL)
    before = path.read_bytes()
    with Session(path) as first, Session(path) as second:
        summary, end = first.summary(), first.file.end_offset
        assert first.add_bookmark(2_000, "here") is None
        # its idea of the END is stale: read again under the lock
        assert second.add_bookmark(100, "there") is None
    with Session(path) as s:
        assert s.meta["closed"] and [b[:2] for b in s.bookmarks] == [
            (100, "there"),
            (2_000, "here"),
        ]
        assert s.summary() == summary and len(s) == 3_000 and s.state_at(2_999).events == 3_000
        assert s.bookmarks[1][2] == s.state_at(2_000).now
    assert path.read_bytes()[:end] == before[:end]  # only the end was rewritten


def test_a_bookmark_on_a_file_still_being_written_stays_in_the_replay(tmp_path):
    path = tmp_path / "live.swarm"
    writer = SessionWriter(path)
    writer.append(simulate(SimConfig(agents=2, seed=3), 500))
    writer.flush()
    size = path.stat().st_size
    with Session(path) as s:
        assert "still being written" in s.add_bookmark(10, "here")
        assert [b[:2] for b in s.bookmarks] == [(10, "here")]
    assert path.stat().st_size == size
    writer.close()
