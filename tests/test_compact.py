"""Compaction: a closed session rewritten in big column blocks, with every event, state, bookmark
and the summary as they were."""

import random
import re
import shutil
import threading

import pytest
from processes import sessions_cli
from test_message_writer import _batches, _folded

from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.replay.session import Session
from swarmscope.core.session import format as fmt
from swarmscope.core.session.compact import COMPACT_BLOCK, compact, locked
from swarmscope.core.session.message_writer import MessageWriter
from swarmscope.core.session.repair import write_bookmark
from swarmscope.core.session.writer import SessionWriter
from swarmscope.core.wire.format import encode_batch
from swarmscope.core.wire.kept import keep

RECORDED = {"block_events": 1024, "flush_interval": 0.0}
"""A recorder's blocks at a demo's pace: every message flushed at once, as 50 ms make them."""


def _recorded(path, batches, **options):
    """A session as a recording hub writes it at a slow pace: a small block per message."""
    with MessageWriter(path, **{**RECORDED, **options}) as w:
        for batch in batches:
            w.append([keep(encode_batch(batch))])
    return w


def _blocks(path):
    with Session(path) as s:
        return [(s.file.event_block(off)[0], info.count) for off, info in s.file.index.blocks]


def test_a_recorded_session_is_compacted_at_close_and_replays_as_recorded(tmp_path):
    batches = _batches(6000)
    events = [e for b in batches for e in b]
    _recorded(tmp_path / "kept.swarm", batches, compact=False)
    _recorded(tmp_path / "c.swarm", batches)
    assert len(_blocks(tmp_path / "kept.swarm")) == len(batches)
    assert _blocks(tmp_path / "c.swarm") == [(fmt.EVENTS, COMPACT_BLOCK)] * 2 + [(fmt.EVENTS, 1904)]
    with Session(tmp_path / "kept.swarm") as kept, Session(tmp_path / "c.swarm") as s:
        assert s.events(0, len(s)) == events and s.summary() == kept.summary()
        assert s.meta["closed"] and s.meta["keyframes"] == 2  # at the end of each whole block
        for i in random.Random(3).sample(range(len(events)), 25) + [0, len(events) - 1]:
            assert s.state_at(i).to_dict() == _folded(events[: i + 1]).to_dict()
        assert s.file.size * 3 < kept.file.size


def test_compacting_twice_or_an_unclosed_file_changes_nothing(tmp_path):
    path = tmp_path / "c.swarm"
    _recorded(path, _batches(3000))
    before = path.read_bytes()
    cut_short = tmp_path / ".c.swarm.4242.compacting"  # a compaction a crash cut short
    cut_short.write_bytes(before[:1000])
    assert compact(path) is None and path.read_bytes() == before and not cut_short.exists()
    cut = tmp_path / "cut.swarm"
    cut.write_bytes(before[: len(before) // 2])
    with pytest.raises(SessionError, match="sessions repair"):
        compact(cut)
    assert cut.read_bytes() == before[: len(before) // 2]


def test_a_session_that_continues_another_keeps_its_start(tmp_path):
    batches = _batches(4000)
    half = len(batches) // 2
    before = _folded([e for b in batches[:half] for e in b])
    kept, path = tmp_path / "kept.swarm", tmp_path / "part2.swarm"
    _recorded(kept, batches[half:], start=before, compact=False)
    shutil.copy(kept, path)
    assert compact(path) is not None
    with Session(kept) as old, Session(path) as new:
        assert new.file.index.keyframes[0][1].at == 0
        for i in (0, 1, len(new) // 2, len(new) - 1):
            assert new.state_at(i).to_dict() == old.state_at(i).to_dict()


def test_bookmarks_and_odd_values_come_through(tmp_path):
    events = [
        Event(10**18 + k, f"a{k % 3}", k // 3, "metric", {"name": "x", "value": v}, 1)
        for k, v in enumerate([float("nan"), float("inf"), -0.0, 2**63 - 1, "é", None] * 50)
    ]
    path = tmp_path / "w.swarm"
    with SessionWriter(path, block_events=7, flush_interval=0.0) as w:
        for k in range(0, len(events), 5):
            w.append(events[k : k + 5])
            if k == 100:
                w.bookmark("here")
    assert compact(path) is not None
    with Session(path) as s:
        back = s.events(0, len(s))
        assert [e[:4] for e in back] == [e[:4] for e in events]
        assert repr([e.data for e in back]) == repr([e.data for e in events])
        assert [b[:2] for b in s.bookmarks] == [(104, "here")]


def test_a_block_that_would_not_give_its_events_back_leaves_the_file_as_it_was(
    tmp_path, monkeypatch
):
    path = tmp_path / "c.swarm"
    _recorded(path, _batches(3000), compact=False)
    before = path.read_bytes()
    decode = fmt.decode_events
    monkeypatch.setattr(fmt, "decode_events", lambda payload: decode(payload)[1:])
    with pytest.raises(SessionError, match="would change events 0 to 2,047"):
        compact(path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_a_bookmark_waiting_on_the_old_file_goes_into_the_new_one(tmp_path):
    path = tmp_path / "c.swarm"
    _recorded(path, _batches(3000), compact=False)
    compacted = tmp_path / "new.swarm"
    shutil.copy(path, compacted)
    compact(compacted)
    with locked(path):  # as a compaction holds it
        writer = threading.Thread(target=write_bookmark, args=(path, (5, "mark", 0)))
        writer.start()
        compacted.replace(path)
    writer.join(10)
    with Session(path) as s:
        assert s.meta["blocks"] == 2 and [b[:2] for b in s.bookmarks] == [(5, "mark")]


def test_sessions_compact_says_what_it_did_and_then_that_there_is_nothing_to_do(tmp_path):
    path = tmp_path / "sessions" / "c.swarm"
    path.parent.mkdir()
    _recorded(path, _batches(3000), compact=False)
    first = sessions_cli("compact", str(path), home=tmp_path)
    assert first.returncode == 0 and re.search(
        r"c.swarm: 3,000 events, [\d.]+ KiB -> [\d.]+ KiB \([\d.]+ bytes/event\)", first.stdout
    ), first.stderr
    again = sessions_cli("compact", str(path), home=tmp_path)
    assert again.returncode == 0 and "already in big blocks; nothing to do" in again.stdout
    path.write_bytes(path.read_bytes()[:-100])
    cut = sessions_cli("compact", str(path), home=tmp_path)
    assert cut.returncode == 1 and "sessions repair" in cut.stderr and "Traceback" not in cut.stderr


def test_a_recorder_compacts_the_sessions_it_keeps_and_not_those_it_deletes(tmp_path):
    from helpers import wait_for
    from test_recorder import _script

    from swarmscope.core.session.recorder import Recorder, RecordPolicy
    from swarmscope.core.wire.kept import kept_of

    def messages(events):  # a message each: blocks of 1,024, three of them
        return [kept_of(events[k : k + 1]) for k in range(len(events))]

    rec = Recorder(tmp_path / "r", policy=RecordPolicy(split_by_run=True, keep="failed"))
    rec.record_messages(messages(_script("ok", n=3000) + _script("bad", n=3000, failed=True)))
    [kept] = rec.close()
    wait_for(lambda: len(_blocks(kept)) == 2)  # the keyframer may finish after the close
    assert _blocks(kept) == [(fmt.EVENTS, 2048), (fmt.EVENTS, 953)]
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # the other stays deleted
    plain = Recorder(tmp_path / "p", policy=RecordPolicy(compact=False))
    plain.record_messages(messages(_script("ok", n=3000)))
    [path] = plain.close()
    assert [kind for kind, _ in _blocks(path)] == [fmt.MESSAGES] * 3


def test_a_damaged_block_stops_the_compaction_and_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "c.swarm"
    _recorded(path, _batches(3000), compact=False)
    with Session(path) as s:
        offset, _ = s.file.index.blocks[1]
    data = bytearray(path.read_bytes())
    data[offset + fmt.FRAME.size + 40] ^= 0xFF  # a flipped byte: the block fails its CRC
    path.write_bytes(bytes(data))
    with pytest.raises(SessionError, match="fails its check"):
        compact(path)
    assert path.read_bytes() == bytes(data) and list(tmp_path.iterdir()) == [path]
