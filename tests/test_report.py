"""`swarmscope report`: a health report with known answers, from a session (whole, at an instant,
damaged) and from a live hub (recording or not, or none), and the exit status cron reads."""

import json
import os
import subprocess
import sys
import threading

import pytest
from helpers import wait_for
from session_helpers import NS, T0, Script, write_events

from swarmscope.core.events import Event
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.latejoin import LateJoin
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.ops.report import bar, build_report, to_json, to_markdown
from swarmscope.core.replay.session import open_session
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.tui.cli import main

KEYS = [
    "version",
    "ok",
    "source",
    "now_ns",
    "notes",
    "summary",
    "health",
    "agents",
    "failures",
    "lost",
    "slowest_tasks",
]
SCRIBE = "scribe-\u00e9"
"""An agent whose id is not ASCII: the markdown must escape it, the JSON keep it."""
TIMEOUT = "model call timed out\nafter 30s \u2716"


def _lose(script: Script, agent: str, n: int, at: float) -> None:
    """A heartbeat of `agent` numbered `n` past its next seq: n events lost on the way (its last
    event in the script, as Script numbers the next from its own count)."""
    seq = 1 + max(e.seq for e in script.events if e.agent == agent)
    script.events.append(Event(T0 + int(at * NS), agent, seq + n, "heartbeat", {}, 1))


def scripted() -> Script:
    """Five agents, one per health level at the end (9.5 s): the truth the tests check."""
    s = Script()
    for agent, role, beat in (
        ("planner", "planner", 2),
        ("coder", "coder", 2),
        ("tester", "tester", 2),
        ("reviewer", "reviewer", 4),
        (SCRIBE, "scribe", 2),
    ):
        s(agent, "hello", at=0, role=role, heartbeat=beat)
    s("planner", "task_start", at=1, task="t1", name="plan")
    s("coder", "task_start", at=1, task="t2", name="write parser")
    s("reviewer", "status", at=1, status="running")  # then silent: CRITICAL at 9.5 s (2.1x of 4 s)
    s(SCRIBE, "bye", at=1, status="done")  # STOPPED
    s("tester", "task_start", at=2, task="t3", name="load test")  # still running at the end
    s("coder", "error", at=3, type="TimeoutError", message=TIMEOUT, task="t2")
    s("coder", "task_end", at=3, task="t2", result="failed")
    s("coder", "status", at=3.5, status="failed")  # FAILED
    s("planner", "task_end", at=6, task="t1", result="ok")
    s("tester", "heartbeat", at=7)  # DEGRADED at 9.5 s (1.25x of 2 s)
    s("planner", "error", at=8.5, type="ValueError", message="bad JSON")
    _lose(s, "planner", 3, at=9.5)  # HEALTHY, 3 events lost before this one
    return s


@pytest.fixture
def session(tmp_path):
    return scripted().write(tmp_path / "hand.swarm", name="hand")


def _report(path, *args, capsys):
    code = main(["report", str(path), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_scripted_session_reports_its_known_truth(session, capsys):
    code, r = _report(session, capsys=capsys)
    assert code == 3 and not r["ok"] and list(r) == KEYS
    end = T0 + 95 * NS // 10
    assert r["now_ns"] == end
    assert r["summary"] == {
        "agents": 5,
        "events": 17,
        "errors": 2,
        "lost": 3,
        "restarts": 0,
        "first_ns": T0,
        "last_ns": end,
        "span_ns": end - T0,
    }
    assert r["health"] == {"healthy": 1, "degraded": 1, "critical": 1, "failed": 1, "stopped": 1}
    assert [(a["id"], a["health"]) for a in r["agents"]] == [
        ("coder", "failed"),
        ("reviewer", "critical"),
        ("tester", "degraded"),
        ("planner", "healthy"),
        (SCRIBE, "stopped"),
    ]
    assert r["agents"][1]["silence"] == 8.5 / 4
    assert r["failures"]["alarming"] == ["coder", "reviewer"]
    (failed,) = r["failures"]["tasks"]
    assert (failed["task"], failed["agent"], failed["result"], failed["duration_ns"]) == (
        "t2",
        "coder",
        "failed",
        2 * NS,
    )
    assert (failed["error"]["type"], failed["error"]["message"]) == ("TimeoutError", TIMEOUT)
    assert [(e["agent"], e["type"], e["task"]) for e in r["failures"]["recent_errors"]] == [
        ("planner", "ValueError", None),
        ("coder", "TimeoutError", "t2"),
    ]
    assert r["lost"] == {"total": 3, "by_agent": {"planner": 3}}
    assert [(t["task"], t["result"], t["duration_ns"]) for t in r["slowest_tasks"]] == [
        ("t3", "running", 75 * NS // 10),
        ("t1", "ok", 5 * NS),
        ("t2", "failed", 2 * NS),
    ]
    assert r["source"]["kind"] == "session" and r["source"]["at_event"] == 17
    assert r["notes"] == []


def test_the_markdown_is_pure_ascii_and_says_what_the_json_says(session, capsys):
    assert main(["report", str(session)]) == 3
    md = capsys.readouterr().out
    assert md.isascii()
    assert "**ALARM**: 2 of 5 agents CRITICAL or FAILED: coder, reviewer." in md
    assert "5 agents, 17 events, 2 errors, 3 lost, 0 restarts, over 9.50 s" in md
    assert "FAILED    ####................      1" in md  # one of five: a fifth of the bar
    assert "HEALTHY   ####................      1" in md
    assert "scribe-\\xe9" in md  # in the per-agent lines
    assert "model call timed out after 30s \\\\u2716" in md  # in a table, the backslash escaped
    assert "| write parser | coder | failed |" in md
    assert "planner 3." in md  # lost, per agent
    slowest = md[md.index("## Slowest tasks") :]
    assert slowest.index("load test") < slowest.index("| plan |") < slowest.index("write parser")
    with open_session(session) as s:
        model = s.state_before(len(s))
    assert to_markdown(build_report(model, model.now)).isascii()


def test_the_json_is_the_report_exactly(session):
    with open_session(session) as s:
        model = s.state_before(len(s))
    report = build_report(model, model.now)
    assert json.loads(to_json(report)) == report and to_json(report).isascii()
    assert list(report) == KEYS


def test_a_seeded_simulated_run_reports_what_its_events_say(tmp_path, capsys):
    events = simulate(SimConfig(agents=12, rate=200, seed=3), 6000)
    write_events(tmp_path / "sim.swarm", events)
    code, r = _report(tmp_path / "sim.swarm", capsys=capsys)
    errors = [e for e in events if e.kind == "error"]
    assert r["summary"]["events"] == 6000 and r["summary"]["errors"] == len(errors) > 0
    assert r["summary"]["agents"] == len({e.agent for e in events}) == sum(r["health"].values())
    assert r["summary"]["span_ns"] == events[-1].ts - events[0].ts and r["lost"]["total"] == 0
    assert code == (0 if r["ok"] else 3)
    said = {(e.agent, e.data["task"]): e.data["message"] for e in errors}
    failed = [t for t in r["failures"]["tasks"] if t["result"] == "failed"]
    assert failed and all(t["error"]["message"] == said[t["agent"], t["task"]] for t in failed)
    started = {e.data["task"]: e.ts for e in events if e.kind == "task_start"}
    ended = {e.data["task"]: e.ts for e in events if e.kind == "task_end"}
    took = [t["duration_ns"] for t in r["slowest_tasks"]]
    assert len(took) == 10 and took == sorted(took, reverse=True)
    for t in r["slowest_tasks"]:  # an abandoned one ends at its agent's hello or bye
        if t["result"] != "abandoned":
            end = ended[t["task"]] if t["result"] != "running" else events[-1].ts
            assert t["duration_ns"] == end - started[t["task"]]


def test_at_an_instant_before_the_failure_all_is_well(session, capsys):
    # event 10 is the tester's task starting at 2 s; the coder's error is event 11
    code, r = _report(session, "--at", "10", capsys=capsys)
    assert code == 0 and r["ok"] and r["source"]["at_event"] == 10
    assert r["summary"]["errors"] == 0 and r["now_ns"] == T0 + 2 * NS
    assert r["health"]["failed"] == r["health"]["critical"] == 0


def test_a_damaged_block_is_reported_up_to_it_and_said(tmp_path, capsys):
    path = scripted().write(tmp_path / "dmg.swarm", block_events=4)
    with open_session(path) as s:
        offset, info = s.file.index.blocks[2]
        model = s.state_before(info.first)
        before = build_report(model, model.now)
    with open(path, "r+b") as f:
        f.seek(offset + 20)
        byte = f.read(1)
        f.seek(offset + 20)
        f.write(bytes([byte[0] ^ 0x10]))
    code, r = _report(path, capsys=capsys)
    assert r["source"]["at_event"] == info.first == 8 and r["source"]["events"] == 17
    (note,) = r["notes"]
    assert "damaged" in note and f"holds the {info.first} events before it" in note
    assert (r["summary"], r["health"]) == (before["summary"], before["health"])
    assert code == 0  # the failures come after the damage


def test_a_crashed_recording_says_it_was_not_closed(tmp_path, capsys):
    w = write_events(tmp_path / "crash.swarm", scripted().events, batch=5, close=False)
    os.close(w._fd)  # as a killed recorder leaves it: no end block
    code, r = _report(tmp_path / "crash.swarm", capsys=capsys)
    assert code == 3 and r["summary"]["events"] == 17
    assert any("not closed cleanly" in n and "sessions repair" in n for n in r["notes"])


def test_cron_reads_the_exit_status_and_one_line_on_a_usage_error(session):
    done = subprocess.run(
        [sys.executable, "-m", "swarmscope.tui.cli", "report", str(session)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and done.stdout.startswith("# swarmscope report: session hand")
    with pytest.raises(SystemExit) as usage:
        main(["report", str(session), "--connect", "ipc:///tmp/x"])
    assert usage.value.code == 2


def test_bars_show_any_count_above_zero():
    assert bar(0, 5, 10) == ".........."
    assert bar(1, 1000, 10) == "#........."
    assert bar(5, 5, 10, "[]") == "[##########]"
    assert bar(9, 3, 4) == "####"


# -- live ---------------------------------------------------------------------------------------


def _answer(hub: Hub) -> SwarmModel | None:
    """The hub's answer to one late joiner (None: it holds no swarm yet)."""
    join, got = LateJoin(hub.history_endpoint), []

    def answered() -> bool:
        model = join.answer()
        if model is not None:
            got.append(model)
        return not join.waiting

    try:
        wait_for(answered)
    finally:
        join.close()
    return got[0] if got else None


def _holds(model: SwarmModel | None, statuses: dict[str, str]) -> bool:
    return model is not None and all(
        a in model.agents and model.agents[a].status == status for a, status in statuses.items()
    )


def test_a_recording_hub_reports_the_swarm_as_it_stands(recording_hub, capsys):
    hub = recording_hub
    with (
        Emitter("steady", hub.in_endpoint, heartbeat=60, auto_heartbeat=False) as steady,
        Emitter("broken", hub.in_endpoint, heartbeat=60, auto_heartbeat=False) as broken,
    ):
        steady.status("running")
        broken.task_start("t-1", "fetch sources")
        broken.error("tool server refused the connection", type="ConnectionError", task="t-1")
        broken.task_end("t-1", "failed")
        broken.status("failed")
        # then both are silent: only the hub knows what they said
        wait_for(lambda: _holds(_answer(hub), {"steady": "running", "broken": "failed"}))
        code = main(["report", "--connect", hub.out_endpoint, "--format", "json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 3 and r["source"]["answered"] and r["notes"] == []
    assert r["source"]["hub_session"].endswith(".swarm")
    assert [(a["id"], a["health"]) for a in r["agents"]] == [
        ("broken", "failed"),
        ("steady", "healthy"),
    ]
    (task,) = r["failures"]["tasks"]
    assert (task["name"], task["error"]["type"]) == ("fetch sources", "ConnectionError")
    assert r["summary"]["errors"] == 1 and r["failures"]["alarming"] == ["broken"]


def test_a_hub_without_history_reports_what_arrives_while_listening_and_says_so(hub, capsys):
    said: list[int] = []
    args = ["report", "--connect", hub.out_endpoint, "--format", "json", "--timeout", "2"]
    runner = threading.Thread(target=lambda: said.append(main(args)))
    with Emitter("talker", hub.in_endpoint, heartbeat=60, auto_heartbeat=False) as em:
        runner.start()
        while runner.is_alive():  # talk for as long as the report listens
            em.status("running")
            runner.join(0.02)
    r = json.loads(capsys.readouterr().out)
    assert said == [0] and r["ok"] and not r["source"]["answered"]
    (note,) = r["notes"]
    assert "gave no history" in note and "swarmscope hub --record" in note
    assert [(a["id"], a["health"]) for a in r["agents"]] == [("talker", "healthy")]


def test_no_hub_is_one_line_that_says_how_to_mend_it_and_status_1(tmp_path, capsys):
    code = main(["report", "--connect", f"ipc://{tmp_path}/nobody", "--timeout", "0.3"])
    said = capsys.readouterr()
    assert code == 1 and said.out == "" and said.err.count("\n") == 1
    assert "no hub answered" in said.err and "swarmscope hub --record" in said.err
