"""Comparing sessions, the catalog, retention on a fake clock, exports, and `swarmscope sessions` as
a user meets it."""

import csv
import io
import json
import os
import re
import shlex
import signal
import subprocess

import pytest
from processes import CLI
from processes import sessions_cli as cli
from replay_fixtures import write_session
from session_helpers import NS, T0, Script

from swarmscope.core.replay.compare import compare, divergence_text
from swarmscope.core.replay.export import export
from swarmscope.core.replay.markdown import md_row
from swarmscope.core.replay.session import Session
from swarmscope.core.session.catalog import DB_NAME, Catalog
from swarmscope.core.session.retention import Retention, plan_cleanup
from swarmscope.core.session.store import resolve

DAY = 86400 * NS


def _run(script_lines, path, name="wf", tags=()):
    s = Script()
    for agent, kind, data in script_lines:
        s(agent, kind, **data)
    return s.write(path, name=name, tags=tags)


BASE = [
    ("a", "hello", {"role": "planner", "pid": 1}),
    ("b", "hello", {"role": "coder", "pid": 2}),
    ("a", "heartbeat", {"cpu": 1.0}),
    ("a", "message", {"to": "b", "topic": "handoff"}),
    ("b", "status", {"status": "running"}),
    ("b", "task_end", {"task": "t1", "result": "ok"}),
]


def test_compare_aligns_by_agent_and_step_and_finds_the_first_divergence(tmp_path):
    a = _run(BASE, tmp_path / "a.swarm")
    # b: other pids, heartbeats elsewhere, a different interleaving, then b's task fails; c only
    # here
    b = _run(
        [
            BASE[1] + (),
            ("b", "heartbeat", {}),
            ("a", "hello", {"role": "planner", "pid": 99}),
            ("a", "message", {"to": "b", "topic": "handoff"}),
            ("c", "hello", {}),
            ("b", "status", {"status": "running"}),
            ("b", "task_end", {"task": "t1", "result": "failed"}),
        ],
        tmp_path / "b.swarm",
        name="wf2",
    )
    with Session(a) as sa, Session(b) as sb:
        result = compare(sa, sb)
    assert result["only_in_a"] == [] and result["only_in_b"] == ["c"]
    assert result["meta"]["name"] == ("wf", "wf2")
    assert result["divergence"] == {
        "agent": "b",
        "step": 2,
        "index_a": 5,
        "index_b": 6,
        "field": "data.result",
        "a": "ok",
        "b": "failed",
    }
    with Session(a) as sa, Session(a) as same:
        assert compare(sa, same)["divergence"] is None and compare(sa, same)["meta"] == {}


def test_compare_reports_an_agent_that_stops_early(tmp_path):
    a = _run(BASE, tmp_path / "a.swarm")
    b = _run(BASE[:5], tmp_path / "b.swarm")
    with Session(a) as sa, Session(b) as sb:
        d = compare(sa, sb)["divergence"]
    assert d == {
        "agent": "b",
        "step": 2,
        "index_a": 5,
        "index_b": None,
        "field": "missing",
        "a": "task_end",
        "b": None,
    }


def _entry(name, age_days, size=100, outcome="ok", tags=(), closed=True, now=T0 + 100 * DAY):
    return {
        "path": name,
        "name": name,
        "started": now - int(age_days * DAY),
        "bytes": size,
        "outcome": outcome,
        "tags": list(tags),
        "closed": closed,
        "mtime_ns": now - int(age_days * DAY),
    }


def test_retention_on_a_fake_clock():
    now = T0 + 100 * DAY
    entries = [
        _entry("new", 1),
        _entry("week", 7),
        _entry("month", 30, outcome="failed"),
        _entry("old", 90, tags=["keep"]),
        _entry("older", 95),
        _entry("live", 0.001, closed=False),
    ]

    def names(rules):
        return [e["name"] for e in plan_cleanup(entries, rules, now)]

    assert names(Retention(max_age_s=10 * 86400)) == ["older", "old", "month"]  # oldest first
    assert names(Retention(max_age_s=10 * 86400, keep_failed=True, keep_tags=("keep",))) == [
        "older"
    ]
    assert names(Retention(max_count=2)) == ["older", "old", "month"]
    assert names(Retention(max_bytes=250, keep_failed=True)) == ["older", "old"]
    assert "live" not in names(Retention(max_count=1, max_age_s=0.0))  # may still be recording


def test_the_catalog_follows_the_files_and_rebuilds(tmp_path):
    d = tmp_path / "sessions"
    _run(BASE, d / "20260101-000000-wf-aaaaaaaa.swarm", tags=("nightly",))
    with Catalog(d) as cat:
        (entry,) = cat.sync()
        assert entry["events"] == 6 and entry["tags"] == ["nightly"] and entry["closed"]
    _run(BASE[:3], d / "20260102-000000-wf-bbbbbbbb.swarm")
    (d / "20260101-000000-wf-aaaaaaaa.swarm").unlink()
    (d / DB_NAME).unlink()
    with Catalog(d) as cat:
        assert [e["events"] for e in cat.sync()] == [3]


def test_exports(tmp_path):
    path = _run(BASE, tmp_path / "a.swarm")
    with Session(path) as s:
        out = {fmt: io.StringIO() for fmt in ("jsonl", "csv", "md", "dot")}
        for fmt, buf in out.items():
            export(s, fmt, buf)
    lines = [json.loads(line) for line in out["jsonl"].getvalue().splitlines()]
    assert [line["kind"] for line in lines] == [k for _, k, _ in BASE] and lines[3]["data"][
        "to"
    ] == "b"
    rows = list(csv.DictReader(io.StringIO(out["csv"].getvalue())))
    assert len(rows) == 6 and json.loads(rows[0]["data"])["role"] == "planner"
    assert '"a" -> "b" [label="1"];' in out["dot"].getvalue()
    md = out["md"].getvalue()
    assert "## Health over time" in md and "| b | coder | running |" in md
    assert f"({path.stat().st_size} bytes, closed)" in md
    # counts read as everywhere else
    assert md_row("a|b", 12_345, 0.5) == "| a\\|b | 12,345 | 0.5 |"


@pytest.fixture
def home(tmp_path):
    d = tmp_path / "home" / "sessions"
    _run(BASE, d / "20260101-000000-wf-aaaaaaaa.swarm", tags=("nightly",))
    _run(BASE[:5], d / "20260102-000000-wf-bbbbbbbb.swarm")
    return tmp_path / "home"


def test_compare_says_in_words_where_one_side_ended(home):
    full, short = sorted((home / "sessions").glob("*.swarm"))  # BASE, and BASE less its last
    out = cli("compare", str(full), str(short), home=home).stdout
    said = next(line for line in out.splitlines() if line.startswith("first divergence"))
    assert said == (
        "first divergence: agent b, its step 3: a has a task_end (event 6), "
        "b ends here (no more events from b)"
    )
    assert "None" not in out and "'" not in out, out


def test_a_divergence_reads_without_python_reprs():
    differs = {"agent": "b", "step": 2, "index_a": 5, "index_b": 6, "field": "data.result"}
    assert divergence_text({**differs, "a": "ok", "b": None}) == (
        "first divergence: agent b, its step 3 (a: event 6, b: event 7), data.result: a ok · b —"
    )


def test_the_sessions_cli_lists_inspects_compares_and_cleans_up(home):
    listed = json.loads(cli("list", "--json", home=home).stdout)
    assert len(listed) == 2
    ids = [e["id"] for e in listed]
    assert len(json.loads(cli("list", "--json", "--tag", "nightly", home=home).stdout)) == 1
    text = cli("list", home=home).stdout
    assert "wf" in text and ids[0][:8] in text
    inspect = json.loads(cli("inspect", ids[0][:6], "--json", home=home).stdout)
    assert inspect["id"] == ids[0] and inspect["summary"]["events"] in (5, 6)
    assert "first divergence" in cli("compare", ids[0][:8], ids[1][:8], home=home).stdout
    stats = json.loads(cli("stats", "--json", home=home).stdout)
    assert stats["sessions"] == 2 and stats["by_workflow"]["wf"]["sessions"] == 2
    dry = cli("cleanup", "--max-count", "1", "--dry-run", home=home)
    assert (
        "would remove 1 session," in dry.stdout
        and len(list((home / "sessions").glob("*.swarm"))) == 2
    )
    protected = cli("cleanup", "--max-count", "1", "--keep-tag", "nightly", home=home)
    # the tagged one does not count against the limit
    assert "removed 0 sessions" in protected.stdout
    assert "removed 1 session," in cli("cleanup", "--max-count", "1", home=home).stdout
    assert [p.name for p in (home / "sessions").glob("*.swarm")] == [
        "20260102-000000-wf-bbbbbbbb.swarm"
    ]


@pytest.mark.parametrize(
    "args, says",
    [
        (["inspect", "nope"], "no session 'nope'"),
        (["export", "junk.swarm"], "is not a swarmscope session file"),
        (["compare", "aaaaaaaa", "nope"], "no session 'nope'"),
        (["repair", "junk.swarm"], "is not a swarmscope session file"),
        (["compact", "junk.swarm"], "is not a swarmscope session file"),
        (["cleanup"], "say what to remove"),
        (["inspect", "wf~2"], "'wf~2' is 2 back, but"),
        (["export", "latest~9"], "'latest~9' is 9 back, but"),
        (["export", "aaaaaaaa", "--at", "99"], "--at 99: the session has 6 events"),
        (
            ["export", "aaaaaaaa", "--at", "3", "--agent", "zed"],
            "--agent zed: no such agent at event 3",
        ),
        (["export", "aaaaaaaa", "--at", "3", "--format", "csv"], "--at writes markdown"),
        (["export", "aaaaaaaa", "--at", "soon"], "--at 'soon': give an event number"),
        (["export", "aaaaaaaa", "--at", "0"], "events are numbered from 1"),
        (
            ["export", "aaaaaaaa", "--out", "/nonexistent-folder/out.jsonl"],
            "cannot use /nonexistent-folder/out.jsonl",
        ),
    ],
)
def test_errors_are_one_line_and_delete_nothing(home, args, says):
    (home / "sessions" / "junk.swarm").write_bytes(b"not a session")
    before = sorted(p.name for p in (home / "sessions").iterdir())
    result = cli(*args, home=home)
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (home / "sessions").iterdir()) == before


NEWER, OLDER = "20260102-000000-wf-bbbbbbbb.swarm", "20260101-000000-wf-aaaaaaaa.swarm"


@pytest.mark.parametrize(
    "ref, file", [("wf", NEWER), ("wf~1", OLDER), ("latest", NEWER), ("latest~1", OLDER)]
)
def test_a_session_is_named_by_its_name_or_as_the_latest_counting_back(home, ref, file):
    (home / "sessions" / "mine.swarm").write_bytes(b"a file named by hand: no start time")
    assert resolve(ref, home / "sessions").name == file


def test_export_at_an_instant_writes_a_finding(home):
    out = cli("export", "aaaaaaaa", "--at", "5", "--agent", "b", "--since", "2", home=home)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Finding: wf (") and "at event 5 of 6" in out.stdout
    assert "## b's own state" in out.stdout and "## What changed since event 2" in out.stdout
    # T0 + 0.3 s
    by_clock = cli("export", "aaaaaaaa", "--at", "00:00:00.300", "--since", "+1", home=home)
    assert (
        "at event 4 of 6" in by_clock.stdout and "## What changed since event 2" in by_clock.stdout
    )


def test_a_reader_that_stops_reading_ends_the_command_quietly(home):
    """`swarmscope sessions export ... | head`: no traceback when head has had enough."""
    path = write_session(home / "sim.swarm")
    proc = subprocess.Popen(
        [*CLI, "sessions", "export", str(path), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SWARMSCOPE_HOME": str(home)},
    )
    assert proc.stdout.readline().startswith(b"{")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(60) == 128 + signal.SIGPIPE and err == b""


def test_an_unclosed_file_is_told_with_a_repair_command_that_works_as_shown(home, tmp_path):
    inside = home / "sessions" / "20260102-000000-wf-bbbbbbbb.swarm"
    outside = tmp_path / "elsewhere" / "crashed run.swarm"
    outside.parent.mkdir()
    outside.write_bytes((home / "sessions" / "20260101-000000-wf-aaaaaaaa.swarm").read_bytes())
    for path in (inside, outside):
        whole = path.read_bytes()
        path.write_bytes(whole[:-40])  # the trailer and the END's last bytes: a crash's file
        said = cli("inspect", str(path), home=home).stdout
        [command] = re.findall(r"`(swarmscope sessions repair [^`]+)`", said)
        name = shlex.split(command)[-1]
        assert (name == str(path)) == (path == outside)
        repaired = cli("repair", name, home=home)
        assert repaired.returncode == 0 and "repaired" in repaired.stdout, repaired.stderr


def test_copies_of_one_session_are_named_by_their_file(home):
    sessions = home / "sessions"
    original = sessions / "20260101-000000-wf-aaaaaaaa.swarm"
    (sessions / "copy-of-aaaaaaaa.swarm").write_bytes(original.read_bytes())
    result = cli("inspect", "aaaaaaaa", home=home)
    assert result.returncode == 1 and "name one by its file" in result.stderr
    assert "copy-of-aaaaaaaa.swarm" in result.stderr and original.name in result.stderr
