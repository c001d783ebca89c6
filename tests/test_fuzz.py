"""Fuzzing every entry point, structure-aware, from every hostile input ever found
(bench/hostile.py).

Properties, for any input: the wire gate only ever refuses (never raises anything else), a viewer
and a recording hub agree on every message (what keep passes reads back as the viewer decoded it),
and a session file, however damaged its blocks (CRCs made right again, as a buggy writer would),
opens, reads, seeks and repairs with nothing but SessionError, keeping every event before the
damage.

In CI these run a few hundred examples each, derandomized; `python tests/fuzz_long.py` runs them
for minutes (and under atheris, coverage-guided, where it is installed).
"""

from __future__ import annotations

import random
from pathlib import Path

import msgpack
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from swarmscope.bench.hostile import HOSTILE_VALUES, SEEDS
from swarmscope.core.errors import SessionError, WireError
from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model.lanes import LaneFold
from swarmscope.core.model.profile import Profile
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import Session
from swarmscope.core.session import format as fmt
from swarmscope.core.session.message_writer import MessageWriter
from swarmscope.core.session.repair import repair
from swarmscope.core.session.writer import SessionWriter
from swarmscope.core.wire.format import TOPIC_EVENTS, encode_batch
from swarmscope.core.wire.gate import DecodeStats, decode
from swarmscope.core.wire.kept import events_kept, keep, keep_counted

# -- the wire ------------------------------------------------------------------------------------

names = st.text(min_size=1, max_size=8)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.sampled_from(HOSTILE_VALUES),
)
datas = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=30,
)
events = st.builds(
    lambda ts, agent, seq, kind, data, inc: (ts, agent, seq, kind, data, inc),
    st.integers(0, 2**63 - 1),
    st.sampled_from(["a", "b"]),
    st.integers(0, 50),
    st.sampled_from(["status", "patch", "log", "lost"]),
    st.dictionaries(names, datas, max_size=3),
    st.sampled_from([1, 2]),
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A message as the SDK would send it, then perhaps one field swapped and some bytes flipped."""
    batch = draw(st.lists(events, min_size=1, max_size=6))
    msg = msgpack.unpackb(encode_batch(batch), strict_map_key=False)
    if draw(st.booleans()):
        where = draw(st.integers(0, len(msg) - 1))
        msg[where] = draw(st.one_of(st.sampled_from(HOSTILE_VALUES), datas))
    try:
        raw = bytearray(msgpack.packb(msg))
    except (ValueError, TypeError, OverflowError):
        raw = bytearray(encode_batch([batch[0]]))
    for _ in range(draw(st.integers(0, 3))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
@example(  # a NaN in data: the same on both sides, though NaN != NaN
    b"\x92\xcd\x03\xe9\x92\x96\x00\xa1a\x00\xa6status\x80\x01\x96\x00\xa1a\x00\xa6status"
    b"\x81\xa10\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\x01"
)
def test_a_viewer_and_a_recording_hub_agree_on_any_message(payload):
    agree(payload)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes_are_refused_or_read_never_raised(payload):
    agree(payload)


def test_every_hostile_message_ever_found_is_counted_once_and_never_raised():
    viewer, hub = DecodeStats(), DecodeStats()
    for frames in SEEDS.values():
        viewer.decode(frames)
        keep_counted(hub, frames)
        if len(frames) == 2:
            agree(frames[1])
    assert viewer.messages == hub.messages == len(SEEDS)
    assert viewer.refused == hub.refused and viewer.events == hub.events


def agree(payload: bytes) -> None:
    """A viewer and a recording hub agree on `payload`: both refuse it, or keep reads back what
    decode gives, events later stages can trust; and a message is counted once (also
    tests/fuzz_long.py's)."""
    try:
        seen = decode(payload)
    except WireError:
        seen = None
    try:
        kept = keep(payload)
    except WireError:
        kept = None
    assert (seen is None) == (kept is None)
    if kept is not None:
        # compared as bytes: a NaN in data is the same on both sides, yet never equal to itself
        assert msgpack.packb(events_kept(kept)) == msgpack.packb(seen)
        assert kept.count == len(seen)
        for ev in seen:  # what later stages trust
            assert (
                type(ev.ts) is int
                and 0 <= ev.ts < 2**63
                and type(ev.seq) is int
                and 0 <= ev.seq < 2**63
            )
            assert type(ev.agent) is str and type(ev.kind) is str and type(ev.data) is dict
    stats = DecodeStats()
    stats.decode([TOPIC_EVENTS, payload])
    assert stats.messages == 1 and stats.bad + (seen is not None) == 1


# -- session files
# -------------------------------------------------------------------------------------


def _sessions(tmp: Path) -> list[bytes]:
    """A recording hub's file (MESSAGES blocks) and a program's (EVENTS blocks), both closed."""
    evs = simulate(SimConfig(seed=3, agents=5), 1500)
    with MessageWriter(tmp / "m.swarm", block_events=200, keyframe_every=300) as w:
        for k in range(0, len(evs), 40):
            by: dict = {}
            for e in evs[k : k + 40]:
                by.setdefault((e.agent, e.inc), []).append(e)
            w.append([keep(encode_batch(b)) for b in by.values()])
    with SessionWriter(tmp / "e.swarm", block_events=200, keyframe_every=300) as w:
        w.append(evs)
    return [(tmp / "m.swarm").read_bytes(), (tmp / "e.swarm").read_bytes()]


_FILES: list[bytes] = []


def _blocks(raw: bytes) -> list[tuple[int, int, int]]:
    out, off = [], fmt.PREAMBLE.size
    while off + fmt.FRAME.size <= len(raw):
        length, _, kind = fmt.FRAME.unpack_from(raw, off)
        out.append((off, length, kind))
        off += fmt.FRAME.size + length
    return out


def _damaged(raw: bytes, seed: int) -> tuple[bytes, int]:
    """One block changed (its bytes, its decompressed bytes, or its msgpack) with its CRC made
    right: a file damaged before it was framed. Returns the file and where the changed block
    begins."""
    rng = random.Random(seed)
    off, length, kind = rng.choice(_blocks(raw))
    body = bytearray(raw[off + fmt.FRAME.size : off + fmt.FRAME.size + length])
    r = rng.random()
    if r < 0.5 and kind in fmt.EVENT_BLOCKS + (fmt.KEYFRAME,):
        prefix = fmt.EVENTS_PREFIX.size if kind != fmt.KEYFRAME else fmt.KEYFRAME_PREFIX.size
        try:
            inner = bytearray(fmt.decompress(bytes(body[prefix:])))
        except SessionError:
            inner = bytearray(b"\x00")
        for _ in range(rng.randrange(1, 6)):
            inner[rng.randrange(len(inner))] = rng.randrange(256)
        body = body[:prefix] + fmt.compress(bytes(inner), 3)
    elif r < 0.7 and kind in (fmt.END, fmt.HEADER, fmt.BOOKMARK):
        obj = msgpack.unpackb(bytes(body), strict_map_key=False)
        body = bytearray(msgpack.packb(_swapped(obj, rng)))
    else:
        for _ in range(rng.randrange(1, 4)):
            body[rng.randrange(min(len(body), 48))] = rng.randrange(256)
    return raw[:off] + fmt.frame(kind, bytes(body)) + raw[off + fmt.FRAME.size + length :], off


def _swapped(obj: object, rng: random.Random, depth: int = 0) -> object:
    """One value somewhere inside a block's msgpack replaced by a hostile one."""
    keys = list(obj) if isinstance(obj, dict) else range(len(obj)) if isinstance(obj, list) else []
    if not keys:
        return rng.choice(HOSTILE_VALUES)
    k = rng.choice(list(keys))
    obj[k] = (
        _swapped(obj[k], rng, depth + 1)
        if depth < 4 and rng.random() < 0.6
        else rng.choice(HOSTILE_VALUES)
    )
    return obj


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.integers(0, 1), seed=st.integers(0, 2**32))
@example(which=0, seed=0)
def test_a_damaged_session_opens_reads_seeks_and_repairs_up_to_the_damage(tmp_path, which, seed):
    if not _FILES:
        _FILES.extend(_sessions(tmp_path))
    raw, damaged_at = _damaged(_FILES[which], seed)
    path = tmp_path / f"fuzz-{which}-{seed}.swarm"
    path.write_bytes(raw)
    with Session(tmp_path / ("m.swarm", "e.swarm")[which]) as whole:
        intact = whole.events(0, len(whole))
        before = sum(info.count for off, info in whole.file.index.blocks if off < damaged_at)
    try:
        s = Session(path)
    except SessionError:
        assert before == 0  # only a damaged header keeps a file from opening
    else:
        with s:
            # every event before the damage
            assert len(s) >= before and s.events(0, before) == intact[:before]
            try:
                for i in range(0, len(s), max(1, len(s) // 15)):
                    s.state_at(i)
                s.events(0, len(s))
                s.summary()
            except SessionError:
                pass
    try:
        repair(path)
        with Session(path) as s:
            assert s.meta["closed"]
            s.events(0, len(s))
    except SessionError:
        pass


# -- the folds beside the model: a profile and lanes, over any data the gate lets through --------

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELDS = ("task", "name", "result", "status", "to", "value", "labels", "role", "label", "tokens")
_MEETING = st.sampled_from(("t1", "a", "ok", "blocked"))
"""A task id, an agent, a result and a status that meet across events (random ones never do)."""
_KINDS = (
    "task_start",
    "task_end",
    "status",
    "message",
    "error",
    "metric",
    "hello",
    "bye",
    "checkpoint",
    "progress",
)


@st.composite
def fold_events(draw: st.DrawFn) -> list:
    events = []
    for seq in range(draw(st.integers(1, 30))):
        data = {
            field: draw(_MEETING | _MEETING | _VALUES)  # names that meet, often enough
            for field in draw(
                st.lists(st.sampled_from(_FIELDS), min_size=2, max_size=6, unique=True)
            )
        }
        events.append(
            Event(
                draw(st.integers(0, 10**10)),
                draw(st.sampled_from(("a", "b", "c"))),
                seq,
                draw(st.sampled_from(_KINDS)),
                data,
                1,
            )
        )
    return sorted(events)


@given(fold_events())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_profile_and_lanes_fold_any_fields_and_never_raise(events):
    model = SwarmModel()
    model.apply_many(events[: len(events) // 2])
    profile, lanes = Profile(), LaneFold()
    profile.seed(model, events[0].ts)
    lanes.seed(model)
    profile.apply_many(events)
    lanes.apply_many(events, 0)
    profile.summary(events[-1].ts)
    profile.over_time()
    lanes.lanes(), lanes.arrows_in(0, 10**10), lanes.said()
