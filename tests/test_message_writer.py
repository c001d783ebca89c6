"""A recording hub's way to a session: messages kept as they came, keyframes from a keyframer
process."""

import random

import msgpack
import pytest
from helpers import wait_for

from swarmscope.core.errors import WireError
from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.session.keyframer import Keyframers
from swarmscope.core.session.keyframes import carried_over
from swarmscope.core.session.message_writer import MessageWriter
from swarmscope.core.wire.format import WIRE_VERSION, encode_batch, message
from swarmscope.core.wire.kept import events_kept, keep

SMALL = {"block_events": 200, "keyframe_every": 300, "compact": False}
"""Small blocks and keyframes, as written: these tests are of the writer, compaction (which
rewrites them) is tested in test_compact.py."""


def _batches(n, seed=5):
    """Simulated events as Emitters send them: a batch per agent, in the order they were made."""
    out, events = [], simulate(SimConfig(seed=seed), n)
    for k in range(0, n, 120):
        by_agent = {}
        for ev in events[k : k + 120]:
            by_agent.setdefault((ev.agent, ev.inc), []).append(ev)
        out += by_agent.values()
    return out


GOOD = [Event(5, "a", s, "status", {"status": "running"}, 1) for s in range(3)]


def _changed(index, value):
    msg = message([tuple(e) for e in GOOD])
    msg[index] = value
    return msgpack.packb(msg)


def test_a_block_with_an_unreadable_event_reads_the_others_whole(tmp_path):
    good = _batches(400)
    with MessageWriter(tmp_path / "u.swarm", block_events=10_000) as w:
        w.append(
            [
                keep(encode_batch(good[0])),
                keep(_changed(9, [{}, 7, {}])),
                keep(encode_batch(good[1])),
            ]
        )
    with Session(tmp_path / "u.swarm") as s:
        events, blocks = s.events(0, len(s)), s.meta["blocks"]
    assert blocks == 1 and len(events) == len(good[0]) + 3 + len(good[1])
    assert events[: len(good[0])] == good[0] and events[len(good[0]) + 3 :] == good[1]
    assert [e.data for e in events[len(good[0]) : len(good[0]) + 3]] == [
        {},
        {"unreadable": "data: int 7, want a map"},
        {},
    ]


def test_rows_are_kept_whole_or_refused_whole():
    rows = [list(GOOD[0]), list(GOOD[1]), list(GOOD[2])]
    kept = keep(msgpack.packb([WIRE_VERSION, rows]))
    assert kept.head is None and events_kept(kept) == GOOD
    rows[1][0] = "not a time"
    with pytest.raises(WireError, match="ts: text 'not a time'"):
        keep(msgpack.packb([WIRE_VERSION, rows]))


def _write(path, batches, **options):
    with MessageWriter(path, **{**SMALL, **options}) as w:
        for batch in batches:
            w.append([keep(encode_batch(batch))])
    return w


def test_a_session_written_so_replays_the_live_model_at_any_instant(tmp_path):
    batches = _batches(6000)
    events = [e for b in batches for e in b]
    w = _write(tmp_path / "m.swarm", batches)
    assert w.model.to_dict() == _folded(events).to_dict() and w.index.keyframes
    with Session(tmp_path / "m.swarm") as s:
        assert s.meta["closed"] and len(s) == len(events) and s.events(0, len(s)) == events
        assert s.summary()["events"] == len(events) and s.meta["keyframes"] >= len(events) // 600
        for i in sorted(random.Random(3).sample(range(len(events)), 25)):
            assert s.state_at(i).to_dict() == _folded(events[: i + 1]).to_dict(), i


def test_many_messages_handed_over_at_once_still_make_blocks_of_about_block_events(tmp_path):
    """A hub's tap hands its recorder up to 256 messages a pass: blocks (and so keyframes) must not
    grow with it, or a seek decodes and folds thousands of events."""
    batches = _batches(6000)
    with MessageWriter(tmp_path / "p.swarm", **SMALL) as w:
        w.append([keep(encode_batch(b)) for b in batches])
    biggest = max(map(len, batches))
    with Session(tmp_path / "p.swarm") as s:
        counts = [info.count for _, info in s.file.index.blocks]
        assert len(s) == 6000 and all(c < SMALL["block_events"] + biggest for c in counts)
        assert s.meta["keyframes"] >= 6000 // (
            SMALL["keyframe_every"] + SMALL["block_events"] + biggest
        )


def test_a_session_that_continues_another_starts_from_it(tmp_path):
    batches = _batches(2000)
    events = [e for b in batches for e in b]
    before = _folded(events[:1000])
    w = MessageWriter(tmp_path / "part2.swarm", start=before, **SMALL)
    for batch in _batches(2000)[len(batches) // 2 :]:
        w.append([keep(encode_batch(batch))])
    w.close()
    rest = [e for b in batches[len(batches) // 2 :] for e in b]
    with Session(tmp_path / "part2.swarm") as s:
        expected = carried_over(before)
        expected.apply(rest[0])
        assert s.state_at(0).to_dict() == expected.to_dict()


def test_a_keyframer_that_dies_leaves_the_file_whole_all_the_same(tmp_path):
    batches = _batches(4000)
    events = [e for b in batches for e in b]
    w = MessageWriter(tmp_path / "k.swarm", **SMALL)
    for batch in batches[: len(batches) // 2]:
        w.append([keep(encode_batch(batch))])
    w.flush()
    wait_for(lambda: w.tick() or len(w.index.keyframes) > 2)
    w.keyframer.process.kill()
    wait_for(lambda: not w.keyframer.alive)
    for batch in batches[len(batches) // 2 :]:
        w.append([keep(encode_batch(batch))])
    summary = w.close()
    assert summary["events"] == len(events)
    with Session(tmp_path / "k.swarm") as s:
        assert s.meta["closed"] and s.state_at(len(s) - 1).to_dict() == _folded(events).to_dict()


def test_a_session_the_keyframer_cannot_read_is_lost_alone(tmp_path):
    keyframers = Keyframers()
    try:
        lost = keyframers.session(tmp_path / "absent.swarm", None, 300, 60.0)
        wait_for(lambda: not lost.alive)
        assert lost.model(0, timeout=5) is None
        batches = _batches(1000)
        w = MessageWriter(tmp_path / "fine.swarm", keyframers=keyframers, **SMALL)
        for batch in batches:
            w.append([keep(encode_batch(batch))])
        # folded by the same process, which went on
        assert w.close()["events"] == 1000 and w.index.keyframes
        assert w.keyframer.process is lost.process
    finally:
        keyframers.close()


def _folded(events):
    m = SwarmModel()
    m.apply_many(events)
    return m
