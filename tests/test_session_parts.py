"""A rotated recording: each part after the first starts where the one before ended.

Real files through the Recorder; the reference is one model folding the whole
stream, so any state a part shows can be checked against what the swarm was.
"""

import os
import random
import shutil
import subprocess
import sys

import pytest
from helpers import toasts
from replay_fixtures import replay_app

from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.blame import blame
from swarmscope.core.replay.session import Session
from swarmscope.core.session.recorder import Recorder, RecordPolicy
from swarmscope.core.session.repair import repair
from swarmscope.core.wire.kept import kept_of
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.inspector import Inspector

COUNTED = ("events", "errors", "tasks_ok", "tasks_failed", "gaps", "restarts")
"""What each session counts for itself: everything else about an agent carries over."""


def what_the_swarm_is(model: SwarmModel) -> tuple:
    """The model less what a session counts: agents, tasks, links and the recorded clock."""
    snap = model.snapshot()
    agents = {
        k: {f: v for f, v in a.items() if f not in COUNTED} for k, a in snap["agents"].items()
    }
    return agents, snap["tasks"], snap["links"], snap["counters"]["now"]


def _rotated(tmp_path, events, rotate_s, batch=200, messages=False):
    """Events through a rotating Recorder: as a viewer's feed gives them, or as a hub keeps them
    (a message a batch: the keyframer folds each part, and starts each from the part before)."""
    rec = Recorder(
        tmp_path,
        policy=RecordPolicy(rotate_seconds=rotate_s),
        writer_options={"keyframe_every": 256, "block_events": 128},
    )
    for k in range(0, len(events), batch):
        if messages:
            rec.record_messages([kept_of(events[k : k + batch])])
        else:
            rec.record(events[k : k + batch])
    return rec.close()


@pytest.mark.parametrize("messages", [False, True], ids=["events", "messages"])
def test_every_state_of_every_part_is_the_swarm_as_it_was(tmp_path, messages):
    events = simulate(SimConfig(seed=5), 8_000)
    parts = _rotated(tmp_path, events, rotate_s=10, messages=messages)  # 37 s of simulated time
    assert len(parts) >= 3
    rng, offset = random.Random(1), 0
    for path in parts:
        with Session(path) as s:
            n = len(s)
            for j in sorted({0, n - 1, *rng.sample(range(n), 12)}):
                reference = SwarmModel()
                reference.apply_many(events[: offset + j + 1])
                assert what_the_swarm_is(s.state_at(j)) == what_the_swarm_is(reference), (
                    path.name,
                    j,
                )
            assert what_the_swarm_is(s.cursor(0).model) == what_the_swarm_is(s.state_at(0))
            mine = events[offset : offset + n]
            summary = s.summary()
            assert summary["events"] == n and summary["errors"] == sum(
                e.kind == "error" for e in mine
            )
            assert {k: a["events"] for k, a in summary["agents"].items() if a["events"]} == {
                agent: sum(e.agent == agent for e in mine) for agent in {e.agent for e in mine}
            }
            assert summary["gaps"] == 0
        offset += n
    assert offset == len(events)


def _ev(ts_s, agent, seq, kind, **data):
    return Event(int(ts_s * 1e9), agent, seq, kind, data, 7)


QUIET_THEN_BUSY = [
    _ev(0, "quiet", 0, "hello", role="planner", heartbeat=600),
    _ev(0, "quiet", 1, "state", state={"plan": "split the goal"}),
    _ev(1, "busy", 0, "hello", role="coder", heartbeat=600),
    *[_ev(2 + k, "busy", 1 + k, "patch", patch={"step": k}) for k in range(30)],
]
"""An agent that says everything in the first part and then nothing, beside one that keeps going."""


def test_a_later_part_knows_agents_silent_since_the_part_before(tmp_path):
    first, second = _rotated(tmp_path, QUIET_THEN_BUSY, rotate_s=10, batch=1)[:2]
    with Session(first) as a, Session(second) as b:
        assert "continues" not in a.meta and a.file.keyframe_before(0) is None
        assert b.meta["continues"] == a.id and b.meta["part"] == 2
        start = b.state_before(0)
        assert start.agents["quiet"].role == "planner" and start.agents["quiet"].state == {
            "plan": "split the goal"
        }
        assert start.agents["busy"].state["step"] == b[0].data["patch"]["step"] - 1
        assert start.events == 0 and start.agents["busy"].events == 0
        assert b.summary()["agents"]["quiet"]["role"] == "planner"
        # no event of this part changed the plan: it was set before, in the part it continues
        assert blame(b, "quiet", "state.plan", len(b) - 1) is None


def test_repair_of_a_later_part_starts_where_the_part_before_ended(tmp_path):
    second = _rotated(tmp_path, QUIET_THEN_BUSY, rotate_s=10, batch=1)[1]
    with Session(second) as b:
        events, expected = len(b), b.summary()
    crashed = tmp_path / "crashed.swarm"
    shutil.copy(second, crashed)
    with open(crashed, "r+b") as f:  # lose the end block and trailer, as a kill -9 would
        f.truncate(crashed.stat().st_size - 40)
    assert not repair(crashed).was_clean
    with Session(crashed) as s:
        repaired = s.summary()
    assert repaired["agents"]["quiet"] == expected["agents"]["quiet"]
    assert repaired["events"] == expected["events"] == events


def test_a_part_after_one_left_out_by_sampling_starts_afresh(tmp_path):
    rec = Recorder(
        tmp_path, policy=RecordPolicy(rotate_seconds=5, sample=0.5), rng=random.Random(3)
    )
    for ev in QUIET_THEN_BUSY:
        rec.record([ev])
    parts = {}
    for path in rec.close():
        with Session(path) as s:
            parts[s.meta["part"]] = (s.id, s.meta.get("continues"), s.file.keyframe_before(0))
    assert rec.skipped > 0
    afresh = [n for n, (_, continues, _) in parts.items() if n > 1 and continues is None]
    assert afresh, "the seed must leave out a part before a kept one"
    for n, (_, continues, start) in parts.items():
        if continues is None:
            assert start is None
        else:
            assert parts[n - 1][0] == continues and start is not None


async def test_a_replay_of_a_later_part_says_where_an_unchanged_field_comes_from(tmp_path):
    second = _rotated(tmp_path, QUIET_THEN_BUSY, rotate_s=10, batch=1)[1]
    app = replay_app(second, start=0)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        screen = app.screen
        grid = screen.query_one(AgentGrid)
        assert {r.id: r.role for r in grid.rows}["quiet"] == "planner"
        grid.cursor = [r.id for r in grid.rows].index("quiet")
        screen.post_message(Inspector.Blame("state.plan"))
        await pilot.pause()
        with Session(second) as s:
            continued = s.continues
        assert any(f"continues ({continued[:8]})" in t for t in toasts(app))


def test_sessions_inspect_names_the_session_a_part_continues(tmp_path):
    home = tmp_path / "home"
    first, second = _rotated(home / "sessions", QUIET_THEN_BUSY, rotate_s=10, batch=1)[:2]
    with Session(first) as a, Session(second) as b:
        ids = a.id, b.id
    out = subprocess.run(
        [sys.executable, "-m", "swarmscope.tui.cli", "sessions", "inspect", ids[1][:8]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SWARMSCOPE_HOME": str(home)},
    )
    assert out.returncode == 0, out.stderr
    assert f"continues {ids[0][:8]} (part 2)" in out.stdout
    assert "planner" in out.stdout  # the quiet agent, known from the part before
