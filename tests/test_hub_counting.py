"""The hub's tap: gaps and restarts counted per batch exactly as event by event would, and what the
proxy passed before a stop still handed to the recorder."""

import random
import threading
from collections import Counter

import pytest
import zmq

from swarmscope.core import hub as hub_module, hub_gaps, wire, wire_store
from swarmscope.core.events import Event
from swarmscope.core.hub import Hub
from swarmscope.core.sequence import advance
from swarmscope.core.wire import TOPIC_EVENTS, encode_batch
from swarmscope.core.wire_store import events_kept

from helpers import drain, wait_for


def _reference(events):
    """Gaps per agent and restarts, by `advance` on every event in order."""
    seqs, gaps, restarts = {}, Counter(), 0
    for ev in events:
        inc, expected = seqs.get(ev.agent, (None, 0))
        nxt, lost, restarted, _ = advance(inc, expected, ev.inc, ev.seq)
        seqs[ev.agent] = (ev.inc, nxt)
        gaps[ev.agent] += lost
        restarts += restarted and not lost
    return +gaps, restarts


def _stream(seed):
    """Several agents, each in runs of rising seqs, with holes between and inside batches, late events
    and restarts."""
    rng = random.Random(seed)
    state = {a: [1, 0] for a in "abcd"}
    batches = []
    for _ in range(400):
        agent = rng.choice("abcd")
        inc, seq = state[agent]
        r = rng.random()
        if r < 0.05:
            inc, seq = inc + 1, 0  # restart
        elif r < 0.15:
            seq += rng.randrange(1, 50)  # hole
        elif r < 0.2:
            seq = max(0, seq - 3)  # late
        n = rng.choice((1, 3, 100))
        batch = [Event(1, agent, s, "heartbeat", {}, inc) for s in range(seq, seq + n)]
        if n > 2 and rng.random() < 0.3:  # lost inside the batch (an emitter's queue was full)
            start = rng.randrange(1, n - 1)
            del batch[start:start + rng.randrange(1, n - start)]
        if rng.random() < 0.1:  # another agent's event inside the batch
            batch.insert(rng.randrange(len(batch) + 1), Event(1, "e", rng.randrange(9), "log", {}, 1))
        state[agent] = [inc, seq + n]
        batches.append(batch)
    return batches


@pytest.mark.parametrize("recording", [False, True], ids=["from-heads", "kept-for-a-recorder"])
def test_per_batch_gap_counting_matches_event_by_event(tmp_path, monkeypatch, recording):
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")  # never started: only its tap's counting
    if recording:
        hub.add_listener(lambda kept: None)
    decoded = Counter()
    for module in (wire, hub_gaps, wire_store):  # count the batches decoded, wherever the hub decodes them
        monkeypatch.setattr(module, "decode_batch", _counting(module.decode_batch, decoded))
    batches = _stream(seed=4)
    for batch in batches:
        hub._on_captured([TOPIC_EVENTS, encode_batch(batch)])
    gaps, restarts = _reference([ev for batch in batches for ev in batch])
    assert +hub.stats.gaps == gaps and hub.stats.restarts == restarts
    assert sum(gaps.values()) > 0 and restarts > 0
    assert hub.stats.messages_in == len(batches)
    assert hub.stats.decode.events == sum(map(len, batches))
    # only batches of several agents, or with late events, need their events read (a recorder keeps
    # the others as they came, wire_store.keep)
    assert 0 < decoded["calls"] < len(batches) / 3


def _counting(decode, counter):
    def counted(payload):
        counter["calls"] += 1
        return decode(payload)
    return counted


@pytest.mark.parametrize("drain_s, recorded, unrecorded", [(10.0, 5000, 0), (0.0, 100, 49)],
                         ids=["drained", "out-of-time-and-counted"])
def test_a_stopping_hub_records_what_it_passed_before_it_stopped(hub, feed, monkeypatch, drain_s, recorded,
                                                                 unrecorded):
    """The tap may lag the proxy (a recorder is slower than ZeroMQ); what viewers already got
    is still handed to the recorder when the hub is stopped, and what time does not allow is counted."""
    monkeypatch.setattr(hub_module, "DRAIN_S", drain_s)
    release, entered, got = threading.Event(), threading.Event(), []

    def slow_recorder(kept):
        if kept[0].head.agent != "a":
            return  # the feed's probes, from before
        entered.set()
        release.wait(30)  # the tap is stuck here while the proxy goes on passing messages
        got.extend(ev for k in kept for ev in events_kept(k))

    hub.add_listener(slow_recorder)
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.connect(hub.in_endpoint)
    sock.recv()  # the hub has subscribed: the path is up
    for b in range(50):
        sock.send_multipart([TOPIC_EVENTS, encode_batch([Event(1, "a", s, "heartbeat", {}, 1)
                                                         for s in range(b * 100, b * 100 + 100)])])
        if b == 0:
            wait_for(entered.is_set)  # the tap is stuck in the first message; the proxy passes the rest
    drain(feed, lambda events: len(events) >= 5000)  # a viewer has them all: the proxy passed every one
    stopping = threading.Thread(target=hub.stop)
    stopping.start()
    wait_for(hub._stop.is_set)  # the proxy has stopped; the tap is still stuck in the first batch
    release.set()
    stopping.join(30)
    sock.close(linger=0)
    assert len(got) == recorded and hub.stats.unrecorded == unrecorded


@pytest.mark.parametrize("queue, dropped", [(hub_module.TAP_QUEUE, False), (10, True)], ids=["behind", "dropped"])
def test_a_tap_that_falls_behind_is_said_from_the_proxys_own_tally(endpoints, monkeypatch, queue, dropped):
    """What the proxy passed and the tap has not counted: queued while the tap is stuck, and, past
    the tap's queue, dropped for it and still said after the stop (viewers had every message)."""
    monkeypatch.setattr(hub_module, "TAP_QUEUE", queue)
    release, entered, got = threading.Event(), threading.Event(), []

    def stuck_recorder(kept):
        entered.set()
        release.wait(30)
        got.extend(kept)  # a message of one event each

    hub = Hub(*endpoints).start()
    hub.add_listener(stuck_recorder)
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.connect(hub.in_endpoint)
    sock.recv()  # the hub has subscribed: the path is up
    for b in range(200):
        sock.send_multipart([TOPIC_EVENTS, encode_batch([Event(1, "a", b, "heartbeat", {}, 1)])])
        if b == 0:
            wait_for(entered.is_set)  # the tap is stuck in its first message

    def passed_all() -> bool:
        hub.count_passed()
        return hub.stats.frames_passed == 400  # two frames a message
    wait_for(passed_all)
    assert hub.stats.behind == 200 - hub.stats.messages_in >= 199  # the tap is stuck in its first message
    release.set()
    if not dropped:
        wait_for(lambda: hub.stats.messages_in == 200)
        hub.count_passed()
        assert hub.stats.behind == 0
    hub.stop()
    sock.close(linger=0)
    assert len(got) == hub.stats.messages_in
    assert hub.stats.behind == 200 - len(got)
    assert (hub.stats.behind > 100) == dropped
