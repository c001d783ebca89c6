"""Late joiners: a viewer that arrives after the swarm began is given it as it stands, exactly
once."""

import signal
import subprocess
import sys
import threading
import time

import msgpack
import pytest
import zmq
from helpers import wait_for

from swarmscope.core.events import Event
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.latejoin import HISTORY_VERSION, LateJoin, _read, answer, history_endpoint
from swarmscope.core.live.process import ProcessSource
from swarmscope.core.live.source import LiveSource
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.session.recorder import Recorder
from swarmscope.core.wire.kept import events_kept, kept_of


def test_a_late_viewer_sees_agents_that_spoke_before_it_came(recording_hub):
    with Emitter("early", recording_hub.in_endpoint, role="planner", auto_heartbeat=False) as em:
        em.status("running")
        em.task_start("t-1", "plan the sprint")
        wait_for(lambda: recording_hub.stats.decode.events >= 3)
        source = LiveSource(recording_hub.out_endpoint).start()  # the agent is silent from now on
        try:
            wait_for(lambda: "early" in source.model.agents)
            agent = source.model.agents["early"]
            assert (agent.role, agent.status, agent.task_name) == (
                "planner",
                "running",
                "plan the sprint",
            )
        finally:
            source.stop()


def test_joining_mid_stream_folds_every_event_once(recording_hub):
    """Whatever the answer and the feed overlap by, the late viewer ends as one there from the
    start."""
    early = LiveSource(recording_hub.out_endpoint).start()
    wait_for(lambda: early.connected)
    late: list[LiveSource] = []

    def agent() -> None:
        with Emitter(
            "busy", recording_hub.in_endpoint, auto_heartbeat=False, queue_size=100_000
        ) as em:
            for i in range(30_000):
                em.progress(i / 30_000, task="t", message=f"step {i}")
                if i % 100 == 0:
                    em.message("other", topic="sync")
                if i == 10_000:
                    late.append(LiveSource(recording_hub.out_endpoint).start())

    runner = threading.Thread(target=agent)
    runner.start()
    runner.join(60)
    try:
        for source in (early, late[0]):
            wait_for(
                lambda source=source: (
                    not source.catching_up
                    and "busy" in source.model.agents
                    and source.model.agents["busy"].said_bye
                ),
                timeout=30,
            )
        a, b = early.model.agents["busy"], late[0].model.agents["busy"]
        assert (b.events, b.gaps, b.msgs_out, b.progress_msg) == (
            a.events,
            a.gaps,
            a.msgs_out,
            a.progress_msg,
        )
        assert (
            (late[0].model.events, late[0].model.reordered)
            == (early.model.events, 0)
            == (30_302, 0)
        )
    finally:
        early.stop()
        late[0].stop()


def test_a_hub_that_does_not_record_answers_nothing_and_the_view_goes_on(endpoints):
    in_ep, out_ep = endpoints
    with Hub(in_ep, out_ep, history=history_endpoint(out_ep)) as hub:
        join = LateJoin(history_endpoint(out_ep))
        wait_for(lambda: join.answer() is not None or not join.waiting)
        assert not join.waiting  # answered: nothing to give
        with Emitter("a", hub.in_endpoint, auto_heartbeat=False) as em:
            source = LiveSource(out_ep).start()
            wait_for(lambda: source.connected)
            em.status("running")
            wait_for(lambda: "a" in source.model.agents)
            source.stop()


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc1",
        msgpack.packb([HISTORY_VERSION + 1, {}]),
        msgpack.packb([HISTORY_VERSION, {"a": 1}]),
        msgpack.packb([HISTORY_VERSION, None]),
        msgpack.packb({1: 2}),
    ],
)
def test_a_bad_or_empty_answer_is_no_model(payload):
    assert _read(payload)[0] is None


def test_a_late_join_gives_up_when_nobody_answers(tmp_path):
    now = [0.0]
    join = LateJoin(f"ipc://{tmp_path}/nobody", zmq.Context.instance(), clock=lambda: now[0])
    assert join.answer() is None and join.waiting
    now[0] = 10.0
    assert join.answer() is None and not join.waiting


def test_events_the_answer_holds_are_folded_once_whichever_socket_brings_them_first(tmp_path):
    """Held while waiting or arriving after: an event of the answer's incarnation numbered below
    what the answer expects next is in it already; any other is new (a later seq, or a restart)."""
    hub_model = SwarmModel()
    hub_model.apply_many([Event(i, "a", i, "status", {"status": "running"}, 1) for i in range(5)])
    ctx = zmq.Context.instance()
    server = ctx.socket(zmq.ROUTER)
    server.bind(f"ipc://{tmp_path}/history")
    now = [0.0]
    join = LateJoin(f"ipc://{tmp_path}/history", ctx, clock=lambda: now[0])
    # while waiting
    join.take([Event(i, "a", i, "progress", {"fraction": i / 10}, 1) for i in (3, 4, 5)])
    caller, _ = server.recv_multipart()
    server.send_multipart([caller, answer(lambda: (hub_model, None))])
    wait_for(lambda: server.poll(0) or join.answer() is not None or not join.waiting)
    server.close(linger=0)
    # the model the view starts from: the hub's 5 events, then seq 5 from the held ones
    assert not join.waiting
    late = [
        Event(9, "a", 4, "log", {}, 1),
        Event(9, "a", 6, "log", {}, 1),
        Event(9, "a", 0, "hello", {}, 2),
    ]
    assert [(e.seq, e.inc) for e in join.take(late)] == [(6, 1), (0, 2)]
    # a recorder's kept messages: one wholly held, one partly (made anew of the rest), one new
    messages = [kept_of(late[:1]), kept_of(late[:2]), kept_of(late[2:])]
    assert [[(e.seq, e.inc) for e in events_kept(k)] for k in join.take_kept(messages)] == [
        [(6, 1)],
        [(0, 2)],
    ]
    now[0] = 100.0  # long after the answer: nothing is left out any more
    assert len(join.take(late)) == 3 and join.take_kept(messages) == messages


@pytest.mark.parametrize(
    "out, expected",
    [
        ("tcp://127.0.0.1:7771", "tcp://127.0.0.1:7772"),
        ("tcp://[::1]:9000", "tcp://[::1]:9001"),
        ("ipc:///tmp/ss.out", "ipc:///tmp/ss.out-history"),
        ("inproc://viewers", "inproc://viewers-history"),
    ],
)
def test_the_history_socket_sits_next_to_the_viewer_side(out, expected):
    assert history_endpoint(out) == expected


def test_an_answer_that_restores_with_a_field_of_the_wrong_type_is_no_model():
    good = SwarmModel()
    good.apply(Event(1, "a", 0, "progress", {"fraction": 0.5}, 1))
    rows = good.compact()
    assert _read(msgpack.packb([HISTORY_VERSION, rows]))[0] is not None
    agent = list(rows["a"][0])
    agent[list(rows["af"]).index("progress")] = "half"
    rows["a"][0] = agent
    assert _read(msgpack.packb([HISTORY_VERSION, rows]))[0] is None


def test_a_recording_hub_started_from_the_command_line_answers_a_screens_late_join(tmp_path):
    """The wiring end to end: `swarmscope hub --record` binds the history socket next to --out,
    and the live screen's source (its ingest child) finds it there."""
    in_ep, out_ep = f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out"
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarmscope.tui.cli",
            "hub",
            "--in",
            in_ep,
            "--out",
            out_ep,
            "--record",
            "--dir",
            str(tmp_path / "sessions"),
            "--stats-every",
            "3600",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    source = None
    try:
        with Emitter("early", in_ep, role="reviewer", auto_heartbeat=False) as em:
            wait_for(lambda: em._pub.listening, timeout=20)
            em.status("running")
            wait_for(
                lambda: (
                    (tmp_path / "sessions").exists()
                    and any((tmp_path / "sessions").glob("*.swarm"))
                ),
                timeout=20,
            )
            source = ProcessSource(out_ep).start()
            wait_for(
                lambda: (
                    "early" in source.model.agents
                    and source.model.agents["early"].role == "reviewer"
                ),
                timeout=20,
            )
            assert source.model.agents["early"].status == "running"
            # and `r` can rewind into the hub's own file, with no recorder of its own
            (written,) = (tmp_path / "sessions").glob("*.swarm")
            wait_for(lambda: source.session_path() is not None, timeout=20)
            assert source.session_path() == written.resolve() and source.recording
    finally:
        if source is not None:
            source.stop()
        hub.send_signal(signal.SIGINT)
        hub.wait(20)


def test_the_answer_names_the_hub_s_file_only_to_a_viewer_on_the_same_host(tmp_path):
    written = tmp_path / "run.swarm"
    written.write_bytes(b"")
    here = answer(lambda: (None, written))
    assert _read(here)[1] == written.resolve()
    version, model, where = msgpack.unpackb(here)
    elsewhere = msgpack.packb([version, model, {**where, "host": "another-host"}])
    gone = msgpack.packb([version, model, {**where, "session": str(tmp_path / "gone.swarm")}])
    assert _read(elsewhere)[1] is None and _read(gone)[1] is None
    # an older hub says nothing of it
    assert _read(msgpack.packb([HISTORY_VERSION, None]))[1] is None


def test_every_joiner_that_asks_at_once_is_answered(recording_hub):
    with Emitter("a", recording_hub.in_endpoint, auto_heartbeat=False) as em:
        em.status("running")
        wait_for(lambda: recording_hub.stats.decode.events >= 2)
        joins = [LateJoin(recording_hub.history_endpoint) for _ in range(5)]
        models: dict[int, SwarmModel] = {}

        def answered() -> bool:
            for k, join in enumerate(joins):
                if join.waiting and (model := join.answer()) is not None:
                    models[k] = model
            return not any(join.waiting for join in joins)

        wait_for(answered)
    assert sorted(models) == list(range(5)) and all(
        m.agents["a"].status == "running" for m in models.values()
    )


def test_a_recorder_that_joins_late_starts_its_session_as_the_hub_said_the_swarm_stood(
    recording_hub, tmp_path
):
    with Emitter("early", recording_hub.in_endpoint, role="planner", auto_heartbeat=False) as early:
        early.status("running")
        early.state({"plan": "split the goal"})
        # then silent: only the hub knows it
        wait_for(lambda: recording_hub.stats.decode.events >= 3)
        # the hub's keyframer is up and has folded them: from here on it answers at once, well
        # within the late recorder's first flush window (while it starts, an answer comes later)
        ready = LateJoin(history_endpoint(recording_hub.out_endpoint), hold=False)
        wait_for(lambda: ready.answer() is not None, timeout=20)
        late = Recorder(tmp_path / "late")
        done = threading.Event()
        thread = threading.Thread(
            target=late.run_feed, args=(recording_hub.out_endpoint, done.is_set)
        )
        thread.start()
        try:
            with Emitter(
                "later", recording_hub.in_endpoint, role="coder", auto_heartbeat=False
            ) as later:

                def answered():  # the session has begun from the hub's answer
                    later.status("running")
                    if not late.current:
                        return False
                    with Session(late.current[0]) as s:
                        return s.file.keyframe_before(0) is not None

                wait_for(answered)
                before = late.events

                def recorded():  # and holds events of its own, past what the answer held
                    later.status("running")
                    return late.events > before

                wait_for(recorded)
        finally:
            done.set()
            thread.join(10)
            (path,) = late.close()
    with Session(path) as s:
        start = s.state_before(0)
        assert start.agents["early"].role == "planner" and start.agents["early"].state == {
            "plan": "split the goal"
        }
        # its events are the hub's
        assert start.events == 0 and s.summary()["agents"]["early"]["events"] == 0
        end = s.state_at(len(s) - 1)
        assert end.agents["later"].role == "coder" and end.agents["early"].status == "running"
        # nothing the answer held is written twice
        assert all(e.agent == "later" for e in s.events(0, len(s)))


@pytest.mark.parametrize(
    "waited_s, starts_from_it", [(0.0, True), (5.0, False)], ids=["in-time", "too-late"]
)
def test_a_late_recorder_holds_what_comes_for_the_hubs_answer_then_leaves_out_only_what_it_holds(
    tmp_path, waited_s, starts_from_it
):
    """What arrives while the hub's answer is on its way waits: once the answer is in, the session
    starts from it and what it holds is left out; an answer later than JOIN_HOLD_S is let go, and
    everything held is recorded as it came (nothing left out, since no file holds it)."""
    hub_model = SwarmModel()
    hub_model.apply_many([Event(i, "a", i, "status", {"status": "running"}, 1) for i in range(5)])
    rec = Recorder(tmp_path / "sessions")
    ctx = zmq.Context.instance()
    server = ctx.socket(zmq.ROUTER)
    server.bind(f"ipc://{tmp_path}/history")
    join = LateJoin(f"ipc://{tmp_path}/history", ctx, hold=False)
    held = [kept_of([Event(9, "a", 4, "log", {}, 1), Event(9, "a", 5, "log", {}, 1)])]
    since = time.monotonic() - waited_s
    caller, _ = server.recv_multipart()
    if starts_from_it:
        assert rec._after_answer(join, held, since) is None  # still on its way: held
    else:
        # too late: what was held goes as it came
        assert rec._after_answer(join, held, since) == held
    server.send_multipart([caller, answer(lambda: (hub_model, None))])
    got = []
    wait_for(lambda: got.append(rec._after_answer(join, held, since)) or got[-1] is not None)
    server.close(linger=0)
    rec.record_messages(got[-1])
    (path,) = rec.close()
    with Session(path) as s:
        assert (s.file.keyframe_before(0) is not None) == starts_from_it
        assert [e.seq for e in s.events(0, len(s))] == ([5] if starts_from_it else [4, 5])
    assert join.take([Event(9, "a", 3, "log", {}, 1)]) == (
        [] if starts_from_it else [Event(9, "a", 3, "log", {}, 1)]
    )
