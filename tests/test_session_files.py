"""Session files: round trips, clean close, crashes, truncation, bit flips, version refusal,
repair."""

import os
import random
import struct

import pytest
from session_helpers import write_events

from swarmscope.core.errors import SessionError
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.session import format as fmt
from swarmscope.core.session.reader import SessionFile
from swarmscope.core.session.repair import repair

SMALL = {"block_events": 200, "keyframe_every": 600}


@pytest.fixture(scope="module")
def events():
    return simulate(SimConfig(agents=8, rate=400, seed=11), 6000)


def test_round_trip_through_the_index(tmp_path, events):
    path = tmp_path / "a.swarm"
    write_events(path, events, **SMALL)
    with Session(path) as s:
        assert len(s) == len(events) and s.meta["closed"] and s.meta["dropped_bytes"] == 0
        assert s.events(0, len(s)) == events
        assert s[0] == events[0] and s[-1] == events[-1] and s[4321] == events[4321]
        assert [kf.at for _, kf in s.file.index.keyframes] == list(range(600, len(events) + 1, 600))
        summary = s.meta["summary"]
    live = SwarmModel()
    live.apply_many(events)
    assert summary["events"] == len(events) and summary["errors"] == live.errors
    assert summary["first_ts"] == events[0].ts and summary["last_ts"] == live.now
    assert set(summary["agents"]) == set(live.agents)


def test_the_writer_never_overwrites(tmp_path, events):
    path = tmp_path / "a.swarm"
    write_events(path, events[:10])
    with pytest.raises(SessionError, match="already exists"):
        write_events(path, events[:10])


def test_an_unclosed_file_opens_by_scanning_and_says_so(tmp_path, events):
    path = tmp_path / "crash.swarm"
    w = write_events(path, events, close=False, **SMALL)
    with Session(path) as s:
        assert not s.meta["closed"] and len(s) == len(events) and s.meta["dropped_bytes"] == 0
        assert s.summary()["events"] == len(events)
    os.close(w._fd)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_truncated_file_keeps_every_whole_block(tmp_path, events, seed):
    path = tmp_path / "t.swarm"
    write_events(path, events, **SMALL)
    frames = _frames(path)
    cut = random.Random(seed).randrange(200, path.stat().st_size - 1)
    with open(path, "r+b") as f:
        f.truncate(cut)
    whole = [(kind, end, payload) for kind, end, payload in frames if end <= cut]
    expected = sum(fmt.events_info(p).count for kind, _, p in whole if kind == fmt.EVENTS)
    with Session(path) as s:
        assert len(s) == expected and s.events(0, expected) == events[:expected]
        assert s.meta["dropped_bytes"] == cut - whole[-1][1]
        assert (s.meta["damage"] is not None) == (cut != whole[-1][1])


def _frames(path):
    """(type, end offset, payload) of every block, read the plain way."""
    data, offset, out = path.read_bytes(), fmt.PREAMBLE.size, []
    while offset + fmt.FRAME.size <= len(data):
        length, _, kind = fmt.FRAME.unpack_from(data, offset)
        end = offset + fmt.FRAME.size + length
        out.append((kind, end, data[offset + fmt.FRAME.size : end]))
        offset = end
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_flipped_bit_stops_the_scan_at_that_block(tmp_path, events, seed):
    path = tmp_path / "f.swarm"
    w = write_events(path, events, close=False, **SMALL)
    os.close(w._fd)
    blocks = SessionFile(path).index.blocks
    victim = random.Random(seed).randrange(1, len(blocks))
    offset, info = blocks[victim]
    _flip(path, offset + fmt.FRAME.size + 30)
    with Session(path) as s:
        assert len(s) == info.first and s.events(0, len(s)) == events[: info.first]
        assert s.meta["dropped_bytes"] == path.stat().st_size - offset


def test_a_flipped_bit_in_a_closed_file_is_one_clear_error_and_repair_cuts_there(tmp_path, events):
    path = tmp_path / "f.swarm"
    write_events(path, events, **SMALL)
    offset, info = SessionFile(path).index.blocks[10]
    _flip(path, offset + fmt.FRAME.size + 25)
    with Session(path) as s:
        assert s[5] == events[5]
        with pytest.raises(SessionError, match="damaged"):
            s[info.first + 1]
    report = repair(path)
    assert report.events == info.first and report.dropped_bytes > 0
    with Session(path) as s:
        assert s.meta["closed"] and s.events(0, len(s)) == events[: info.first]


def test_damage_in_the_trailer_or_end_block_falls_back_to_a_scan(tmp_path, events):
    path = tmp_path / "e.swarm"
    write_events(path, events, **SMALL)
    _flip(path, path.stat().st_size - 3)
    with Session(path) as s:
        assert len(s) == len(events) and s.events(0, len(s)) == events


def test_a_newer_major_version_is_refused_in_one_line(tmp_path, events):
    path = tmp_path / "v.swarm"
    write_events(path, events[:50])
    with open(path, "r+b") as f:
        f.seek(8)
        f.write(struct.pack("<H", fmt.FORMAT_MAJOR + 1))
    newer, ours = f"{fmt.FORMAT_MAJOR + 1}\\.{fmt.FORMAT_MINOR}", f"{fmt.FORMAT_MAJOR}\\.x"
    with pytest.raises(
        SessionError, match=rf"session format {newer}, newer than this swarmscope reads \({ours}\)"
    ):
        Session(path)


def test_not_a_session_and_a_damaged_header(tmp_path, events):
    junk = tmp_path / "junk.swarm"
    junk.write_bytes(b"hello, world\n" * 10)
    with pytest.raises(SessionError, match="not a swarmscope session file"):
        Session(junk)
    path = tmp_path / "h.swarm"
    write_events(path, events[:50])
    _flip(path, fmt.PREAMBLE.size + fmt.FRAME.size + 3)
    with pytest.raises(SessionError, match="header"):
        Session(path)


def test_repair_appends_a_proper_end_to_a_crashed_file(tmp_path, events):
    path = tmp_path / "r.swarm"
    w = write_events(path, events, close=False, **SMALL)
    os.close(w._fd)
    with open(path, "ab") as f:
        f.write(b"\x05\x00\x00")  # a torn block header
    report = repair(path)
    assert report.events == len(events) and report.dropped_bytes == 3 and not report.was_clean
    with Session(path) as s:
        assert s.meta["closed"] and s.meta["summary"] == w.summary()
        assert s.state_at(len(s) - 1).to_dict() == w.model.to_dict()
    assert repair(path).was_clean


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x10]))


def test_a_file_still_being_recorded_is_not_repaired(tmp_path):
    """Its end is not missing, only not written yet: a repair would cut it under its writer."""
    from swarmscope.core.session.repair import repair
    from swarmscope.core.session.writer import SessionWriter, new_header

    path = tmp_path / "now.swarm"
    writer = SessionWriter(path, new_header("now"))
    writer.append(simulate(SimConfig(agents=3, seed=1), 300))
    writer.flush()
    try:
        with pytest.raises(SessionError, match="still being recorded"):
            repair(path)
    finally:
        writer.close()
    assert repair(path).was_clean
