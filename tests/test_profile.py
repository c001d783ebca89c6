"""The profile of a run against a scripted swarm whose durations, failures, blocked stretches and
message chain are set by construction."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from processes import sessions_cli
from replay_fixtures import write_session

from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.profile import Profile, Step, percentile
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.profiling import profile_between
from swarmscope.core.replay.session import Session

S = 1_000_000_000
T0 = 1_800_000_000 * S
_seqs: dict[str, itertools.count] = {}


def ev(t: float, agent: str, kind: str, **data) -> Event:
    seq = next(_seqs.setdefault(agent, itertools.count()))
    return Event(T0 + int(t * S), agent, seq, kind, data, 1)


def chain() -> list[Event]:
    """planner's plan (0-10 s) -> message -> coder's code (12-30, waits 12, blocked 5) -> message
    -> tester's test (31-40); the tester's warm-up fails on its own meanwhile, and a distractor
    finishes early."""
    _seqs.clear()
    events = [
        ev(0, "planner", "hello", role="planner"),
        ev(0, "coder", "hello", role="coder"),
        ev(0, "tester", "hello", role="tester"),
        ev(0, "noise", "hello", role="coder"),
        ev(0, "planner", "status", status="running"),
        ev(0, "planner", "task_start", task="p1", name="plan"),
        ev(0, "coder", "status", status="waiting"),
        ev(0, "tester", "status", status="idle"),
        ev(1, "tester", "task_start", task="w1", name="warm up"),
        ev(2, "noise", "task_start", task="n1", name="noise"),
        ev(3, "tester", "error", type="OSError", message="cold"),
        ev(3, "tester", "task_end", task="w1", result="failed"),
        ev(5, "noise", "task_end", task="n1", result="ok"),
        ev(10, "planner", "task_end", task="p1", result="ok", tokens=1500),
        ev(10, "planner", "message", to="coder", topic="plan"),
        ev(10, "planner", "status", status="idle"),
        ev(12, "coder", "status", status="running"),
        ev(12, "coder", "task_start", task="c1", name="code"),
        ev(20, "coder", "status", status="blocked"),
        ev(25, "coder", "status", status="running"),
        ev(30, "coder", "metric", name="tokens", value=100, labels={"model": "large"}),
        ev(30, "coder", "metric", name="tokens", value=50, labels={"model": "large"}),
        ev(30, "coder", "task_end", task="c1", result="ok"),
        ev(30, "coder", "message", to="tester", topic="patch"),
        ev(30, "coder", "status", status="done"),
        ev(31, "tester", "status", status="running"),
        ev(31, "tester", "task_start", task="t1", name="test"),
        ev(40, "tester", "task_end", task="t1", result="ok"),
        ev(40, "tester", "bye", status="done"),
        ev(40, "planner", "bye", status="done"),
    ]
    return events


def profiled(events: list[Event]) -> Profile:
    profile = Profile()
    profile.apply_many(events)
    return profile


def test_tasks_by_name_are_counted_exactly_and_timed_to_the_clock():
    rows = {r["name"]: r for r in profiled(chain()).tasks()}
    assert rows["code"] == {
        "name": "code",
        "count": 1,
        "ok": 1,
        "failed": 0,
        "cancelled": 0,
        "p50_s": 18.0,
        "p95_s": 18.0,
        "p99_s": 18.0,
        "max_s": 18.0,
        "total_s": 18.0,
    }
    assert (rows["warm up"]["failed"], rows["warm up"]["total_s"]) == (1, 2.0)
    assert [r["name"] for r in profiled(chain()).tasks()] == [
        "code",
        "plan",
        "test",
        "noise",
        "warm up",
    ]
    roles = {r["name"]: r for r in profiled(chain()).roles()}
    assert roles["coder"]["count"] == 2 and roles["coder"]["total_s"] == 21.0


def test_percentiles_are_durations_tasks_really_took():
    _seqs.clear()
    events = []
    for k in range(1, 101):
        events += [
            ev(0, "a", "task_start", task=f"t{k}", name="n"),
            ev(k, "a", "task_end", task=f"t{k}"),
        ]
    [row] = profiled(sorted(events)).tasks()
    assert (row["p50_s"], row["p95_s"], row["p99_s"], row["max_s"]) == (50, 95, 99, 100)
    assert percentile([], 0.5) == 0


def test_each_agent_time_is_what_its_statuses_say():
    rows = {r["agent"]: r for r in profiled(chain()).agent_rows()}
    coder = rows["coder"]
    assert (coder["waiting_s"], coder["running_s"], coder["blocked_s"]) == (12.0, 13.0, 5.0)
    assert (coder["msgs_in"], coder["msgs_out"], coder["tasks"]) == (1, 1, 1)
    assert coder["metrics"] == {"tokens{model=large}": 150}
    assert rows["planner"]["metrics"] == {"tokens": 1500}
    assert (rows["tester"]["idle_s"], rows["tester"]["failed"], rows["tester"]["errors"]) == (
        31.0,
        1,
        1,
    )
    assert next(iter(rows)) == "coder"  # the most time blocked or waiting first


def test_the_top_agents_are_picked_before_their_rows_are_built_and_are_the_same_rows():
    profile = profiled(simulate(SimConfig(agents=40, seed=3), 4_000))
    every = profile.agent_rows(profile.last + 10**9)
    assert profile.agent_rows(profile.last + 10**9, top=7) == every[:7]
    assert [r["blocked_s"] + r["waiting_s"] for r in every] == sorted(
        (r["blocked_s"] + r["waiting_s"] for r in every), reverse=True
    )


def test_the_critical_path_is_the_chain_the_script_built():
    path = profiled(chain()).critical_path()
    assert [(s.kind, s.agent, s.name) for s in path] == [
        ("task", "planner", "plan"),
        ("message", "planner", "coder"),
        ("task", "coder", "code"),
        ("message", "coder", "tester"),
        ("task", "tester", "test"),
    ]
    assert path[-1] == Step("task", "tester", "test", T0 + 31 * S, T0 + 40 * S)


def test_throughput_and_errors_over_time():
    over = profiled(chain()).over_time(buckets=41)
    assert over["bucket_s"] == 1 and len(over["events_per_s"]) == 41
    assert sum(over["events_per_s"]) == len(chain())
    assert over["errors_per_s"][3] == 1 and sum(over["errors_per_s"]) == 1


@pytest.mark.parametrize("cut", range(0, 30, 3))
def test_a_profile_from_a_to_b_is_the_run_between_seeded_with_the_swarm_at_a(cut: int):
    """Folding the events before `cut` into a model and seeding with it gives, for what ends
    after, the same durations as the whole run."""
    events = chain()
    model = SwarmModel()
    model.apply_many(events[:cut])
    at = events[cut].ts
    profile = Profile()
    profile.seed(model, at)
    profile.apply_many(events[cut:])
    whole = {r["name"]: r for r in profiled(events).tasks()}
    for row in profile.tasks():
        assert row == whole[row["name"]]
    coder = {r["agent"]: r for r in profile.agent_rows()}.get("coder")
    if coder is not None:  # its time, clipped to the window
        assert coder["blocked_s"] == max(0, min(25, 40) - max(20, (at - T0) / S))


def test_hostile_fields_are_ignored_never_raised():
    _seqs.clear()
    events = [
        ev(0, "x", "task_start", task=["not", "a", "str"], name=3),
        ev(0, "x", "task_end", task=None, result={}),
        ev(0, "x", "status", status=7),
        ev(0, "x", "message", to=b"bytes"),
        ev(0, "x", "metric", name="m", value="nan?"),
        ev(0, "x", "hello", role=[1]),
        Event(T0, "x", 9, "status", "not a dict", 1),
    ]
    profile = profiled(events)
    assert profile.tasks() == [] and profile.critical_path() == []
    assert profile.events == len(events)


# -- a recorded session ---------------------------------------------------------------------------


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    path = home / "sessions" / "20260101-000000-chain-aaaaaaaa.swarm"
    path.parent.mkdir(parents=True)
    write_session(path, chain(), name="chain")
    return home


def test_a_sessions_profile_between_two_instants_is_the_profile_of_those_events(recorded):
    with Session(next((recorded / "sessions").glob("*.swarm"))) as s:
        whole = profile_between(s)
        assert whole.tasks() == profiled(chain()).tasks()
        assert [r["name"] for r in profile_between(s, 16, 23).tasks()] == ["code"]
        assert profile_between(s, 0, 13).tasks()[0]["name"] == "noise"  # nothing longer ended


def test_sessions_profile_prints_json_rows_and_markdown_with_histograms(recorded):
    done = sessions_cli("profile", "chain", "--json", home=recorded)
    got = json.loads(done.stdout)
    assert (got["from"], got["to"], got["events"]) == (1, len(chain()), len(chain()))
    assert {k for k in got["tasks"][0]} == {
        "name",
        "count",
        "ok",
        "failed",
        "cancelled",
        "p50_s",
        "p95_s",
        "p99_s",
        "max_s",
        "total_s",
    }
    assert [step["agent"] for step in got["critical_path"]] == [
        "planner",
        "planner",
        "coder",
        "coder",
        "tester",
    ]
    md = sessions_cli("profile", "chain", "--from", "17", home=recorded).stdout
    assert md.startswith("Events 17 to 30 of 30.") and "| code | 1 | 1 | 0 | 18.0 s |" in md
    assert md.isascii()
    export = sessions_cli("export", "chain", "--format", "md", home=recorded).stdout
    assert "## Profile" in export and "`#         `" in export  # one duration: one full bin
    assert "1. coder: code (18.0 s)" in export


def test_a_profile_stretch_the_wrong_way_round_is_one_line(recorded):
    done = sessions_cli("profile", "chain", "--from", "20", "--to", "3", home=recorded)
    assert done.returncode == 1 and done.stderr.strip().endswith("before --from 20; swap them")
