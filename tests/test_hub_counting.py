"""The hub's tap counts gaps and restarts per batch; it must count exactly as event by event would."""

import random
from collections import Counter

import pytest

from swarmscope.core import hub as hub_module, wire
from swarmscope.core.events import Event
from swarmscope.core.hub import Hub
from swarmscope.core.sequence import advance
from swarmscope.core.wire import TOPIC_EVENTS, encode_batch


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


@pytest.mark.parametrize("recording", [False, True], ids=["from-heads", "decoded-for-a-recorder"])
def test_per_batch_gap_counting_matches_event_by_event(tmp_path, monkeypatch, recording):
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")  # never started: only its tap's counting
    if recording:
        hub.add_listener(lambda events, payload: None)
    decoded = Counter()
    for module in (wire, hub_module):  # count the batches decoded, wherever the hub decodes them
        monkeypatch.setattr(module, "decode_batch", _counting(module.decode_batch, decoded))
    batches = _stream(seed=4)
    for batch in batches:
        hub._on_captured([TOPIC_EVENTS, encode_batch(batch)])
    gaps, restarts = _reference([ev for batch in batches for ev in batch])
    assert +hub.stats.gaps == gaps and hub.stats.restarts == restarts
    assert sum(gaps.values()) > 0 and restarts > 0
    assert hub.stats.messages_in == len(batches)
    assert hub.stats.decode.events == sum(map(len, batches))
    if recording:
        assert decoded["calls"] == len(batches)
    else:  # only batches of several agents, or with late events, need their events read
        assert 0 < decoded["calls"] < len(batches) / 3


def _counting(decode, counter):
    def counted(payload):
        counter["calls"] += 1
        return decode(payload)
    return counted
