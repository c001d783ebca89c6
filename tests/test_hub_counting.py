"""The hub's tap counts gaps and restarts per batch; it must count exactly as event by event would."""

import random
from collections import Counter

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
    """Several agents, each in runs of contiguous events, with holes, late events and restarts."""
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
        if rng.random() < 0.1:  # another agent's event inside the batch
            batch.insert(rng.randrange(len(batch) + 1), Event(1, "e", rng.randrange(9), "log", {}, 1))
        state[agent] = [inc, seq + n]
        batches.append(batch)
    return batches


def test_per_batch_gap_counting_matches_event_by_event(tmp_path):
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")  # never started: only its tap's counting
    batches = _stream(seed=4)
    for batch in batches:
        hub._on_captured([TOPIC_EVENTS, encode_batch(batch)])
    gaps, restarts = _reference([ev for batch in batches for ev in batch])
    assert +hub.stats.gaps == gaps and hub.stats.restarts == restarts
    assert sum(gaps.values()) > 0 and restarts > 0
    assert hub.stats.messages_in == len(batches)
