"""The SDK surface, read back through an in-memory sink: kinds, tasks, errors and redaction."""

import pytest

from swarmscope.core.errors import ConfigWarning
from swarmscope.core.live.sim import MemorySink
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.sdk.redact import MASK


@pytest.fixture
def sink():
    return MemorySink()


def emitter(sink, **kw):
    return Emitter(
        "agent-7", role="researcher", publisher=sink, clock=iter(range(10**6)).__next__, **kw
    )


def test_the_documented_surface_emits_each_kind(sink):
    with emitter(sink) as em:
        em.status("running")
        with em.task("t-42", name="fetch sources"):
            em.progress(n=3, total=6, task="t-42", message="3 of 6 pages")
        em.state({"memory": ["a"], "plan": "p"})
        em.patch({"plan": "q"})
        em.message("agent-9", topic="handoff", summary="done")
        em.checkpoint("before-merge")
        em.log("info", "msg", key=1)
        em.metric("tokens", 1500)
        em.emit("custom_kind", any=1)
    kinds = [e.kind for e in sink.events]
    assert kinds == [
        "hello",
        "status",
        "task_start",
        "progress",
        "task_end",
        "state",
        "patch",
        "message",
        "checkpoint",
        "log",
        "metric",
        "custom_kind",
        "bye",
    ]
    assert [e.seq for e in sink.events] == list(range(len(kinds)))
    assert sink.events[3].data["fraction"] == 0.5
    assert sink.events[4].data["result"] == "ok"
    assert sink.events[0].data["role"] == "researcher"


def test_a_failing_task_reports_error_and_failed_then_reraises(sink):
    em = emitter(sink)
    with pytest.raises(ZeroDivisionError):
        with em.task("t-1"):
            _ = 1 / 0
    error, end = sink.events[-2:]
    assert error.kind == "error" and error.data["type"] == "ZeroDivisionError"
    assert "1 / 0" in error.data["traceback"] and error.data["task"] == "t-1"
    assert end.data["result"] == "failed"


def test_leaving_the_with_block_on_an_exception_says_failed(sink):
    with pytest.raises(RuntimeError):
        with emitter(sink):
            raise RuntimeError("boom")
    assert [e.kind for e in sink.events[-2:]] == ["error", "bye"]
    assert sink.events[-1].data["status"] == "failed"


@pytest.mark.parametrize(
    "said, closed, bye",
    [
        ("failed", None, "failed"),  # said failed, then left its with block normally: it failed
        ("running", None, "done"),  # a status that is not final: the bye says done
        ("done", None, "done"),
        ("failed", "done", "done"),  # a status given to close() is the agent's last word
    ],
    ids=["failed-stands", "running-then-done", "done", "close-says"],
)
def test_the_last_status_an_agent_gave_stands_at_its_bye(sink, said, closed, bye):
    from swarmscope.core.model.swarm import SwarmModel

    with emitter(sink) as em:
        em.status(said)
        if closed:
            em.close(closed)
    assert sink.events[-1].kind == "bye" and sink.events[-1].data["status"] == bye
    model = SwarmModel()
    model.apply_many(sink.events)
    assert model.agents["agent-7"].status == bye


def test_a_hello_and_a_bye_are_queued_even_when_the_queue_is_full(tmp_path):
    em = Emitter(
        "full", f"ipc://{tmp_path}/nobody", queue_size=10, close_timeout=0.1, auto_heartbeat=False
    )
    for _ in range(100):
        em.status("running")
    em.emit("bye", status="done")
    kinds = [item[3] for item in em._pub.queue]
    assert kinds[0] == "hello" and kinds[-1] == "bye" and len(kinds) == 11 and em.dropped == 91
    em.close()


@pytest.mark.parametrize(
    "agent, endpoint, env, says",
    [
        ("", None, {}, "an agent id is text of 1 to 256 characters"),
        ("a" * 257, None, {}, "an agent id is text of 1 to 256 characters"),
        (None, None, {}, "an agent id is text of 1 to 256 characters"),
        ("a", "tcp://nonsense", {}, "'tcp://nonsense' is not a ZeroMQ address"),
        ("a", None, {"SWARMSCOPE_ENDPOINT": "tcp//typo:7770"}, "is not a ZeroMQ address"),
        ("a", "tcp://127.0.0.1:99999", {}, "a TCP port is 1 to 65535, not 99999"),
        ("a", None, {"SWARMSCOPE_HUB_KEY": "/nonexistent/hub.key"}, "set both"),
    ],
)
def test_a_setting_the_emitter_cannot_use_is_said_once_and_the_agent_runs_on(
    monkeypatch, agent, endpoint, env, says
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.warns(ConfigWarning, match=says) as warned:
        em = Emitter(agent, endpoint)
    with em:
        em.status("running")
        em.error(ValueError("still here"))
    assert len(warned) == 1 and em.dropped == 4  # hello, status, error, bye


def test_secrets_are_masked_before_they_leave(sink):
    em = emitter(sink)
    em.state(
        {
            "api_key": "sk-123",
            "memory": [{"password": "hunter2", "note": "ok"}],
            "max_tokens": 4096,
            "keyboard": "qwerty",
        }
    )
    em.log("info", "login", authorization="Bearer x", user="bob")
    state = sink.events[-2].data["state"]
    assert state["api_key"] == MASK and state["memory"][0] == {"password": MASK, "note": "ok"}
    assert state["max_tokens"] == 4096 and state["keyboard"] == "qwerty"
    assert sink.events[-1].data["fields"] == {"authorization": MASK, "user": "bob"}


def test_redaction_is_configurable(sink):
    em = emitter(sink, redact=r"^internal")
    em.state({"internal_id": 1, "api_key": "visible"})
    assert sink.events[-1].data["state"] == {"internal_id": MASK, "api_key": "visible"}
    em2 = emitter(sink, redact=None)
    em2.state({"password": "p"})
    assert sink.events[-1].data["state"] == {"password": "p"}


def test_nothing_after_close_and_close_twice_is_fine(sink):
    em = emitter(sink)
    em.close()
    em.close()
    em.status("running")
    assert [e.kind for e in sink.events] == ["hello", "bye"]


def test_a_heartbeat_due_goes_out_from_the_agents_own_thread_in_order(sink):
    """The flusher asks; the agent's next emit sends the beat first, so the two are numbered and
    queued by one thread. An agent quiet until the flusher's next pass gets its beat from there."""
    em = emitter(sink, heartbeat=5.0)
    em._tick(10**9)  # the flusher's pass: a beat is due, asked of the agent
    assert [e[3] for e in sink.events] == ["hello"]
    em.log("info", "working")
    em.log("info", "still working")
    em._next_beat = 0.0
    em._tick(10**9)  # due again, and the agent stays quiet
    em._tick(10**9)  # next pass: the flusher beats
    assert [e[3] for e in sink.events] == ["hello", "heartbeat", "log", "log", "heartbeat"]
    assert [e[2] for e in sink.events] == [0, 1, 2, 3, 4]
