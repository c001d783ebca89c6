"""A finding written down at one instant of a hand-built session, with known answers."""

from session_helpers import Script

from swarmscope.core.replay.finding import Finding, finding_markdown, write_finding
from swarmscope.core.replay.session import open_session

TRACEBACK = (
    'Traceback (most recent call last):\n  File "parse.py", line 7, in row\nValueError: bad row 7\n'
)


def _session(tmp_path):
    s = Script()
    s("a", "hello", role="planner", heartbeat=1.0)
    s("b", "hello", role="coder", heartbeat=1.0)
    s("a", "state", state={"plan": "split | merge", "step": 1})
    pinned = s("b", "task_start", task="t1", name="parse input")
    s("a", "patch", patch={"step": 2})
    s("a", "message", to="b", topic="handoff", summary="take t1")
    at = s("b", "error", type="ValueError", message="bad row 7", task="t1", traceback=TRACEBACK)
    s("b", "status", status="failed")
    path = s.write(tmp_path / "hand.swarm", name="hand")
    session = open_session(path)
    session.add_bookmark(at, "the crash")
    return session, pinned, at


def test_a_finding_holds_the_instant_the_swarm_the_state_and_what_changed(tmp_path):
    session, pinned, at = _session(tmp_path)
    text = finding_markdown(session, Finding(at, agent="a", pinned=pinned))
    assert text.startswith("# Finding: hand (") and f"at event {at + 1} of 8" in text
    assert "- the event: **error** from b (seq 2): ValueError: bad row 7" in text
    # as things were at the error: b not yet failed, and the status event after it not shown
    assert (
        "| b | coder | starting | healthy | parse input | 0% | 1 | ValueError: bad row 7 |" in text
    )
    assert "| a | planner |" in text and "failed" not in text.split("## Events")[0]
    assert '"plan": "split | merge"' in text and '"step": 2' in text  # a's own state, whole
    changes = text.split("## What changed since event 4")[1].split("##")[0]
    assert "| a | state.step | 1 | 2 |" in changes and "| b | errors | 0 | 1 |" in changes
    assert "last_seen" not in changes  # bookkeeping is left out
    assert "| 6 | " in text and "→ b [handoff] take t1" in text  # the events up to the instant
    assert f"- event {at + 1}: the crash" in text
    in_full = text.split("## The event in full")[1].split("## The swarm")[0]
    assert '"task": "t1"' in in_full and '"message": "bad row 7"' in in_full
    assert f"traceback:\n\n```text\n{TRACEBACK.rstrip()}\n```" in in_full


def test_a_table_cell_cannot_break_the_table(tmp_path):
    s = Script()
    s("a", "hello", role="planner")
    at = s("a", "error", type="ValueError", message="column | split\nacross lines")
    session = open_session(s.write(tmp_path / "pipes.swarm"))
    text = finding_markdown(session, Finding(at, pinned=0))
    lines = text.splitlines()
    assert any("column \\| split across lines" in line for line in lines)
    columns = None
    for line, below in zip(lines, lines[1:] + [""]):
        if below.startswith("|---"):
            columns = line.count("|")  # a table's header
        elif line.startswith("| "):  # every row keeps its header's columns
            assert line.replace("\\|", "").count("|") == columns, line


def test_write_finding_names_the_file_after_the_session_and_the_event(tmp_path):
    session, _, at = _session(tmp_path)
    path = write_finding(session, Finding(at), tmp_path)
    assert path.name == f"finding-{session.id[:8]}-{at + 1}.md"
    assert path.read_text().startswith("# Finding: hand")
