"""EVENTS blocks store kinds and data maps column-wise (format 3.0, core/session/datacols.py).

Whatever the data, a block gives back what the 2.0 layout (data maps row-wise) gave back: every
value of the same type, floats bit for bit (NaN, -0.0, inf), each map's keys in their order, and
data the gate marks marked alike. A 2.0 block still reads, and a damaged 3.0 block is a
SessionError, never another exception.
"""

from __future__ import annotations

import math
import random
import struct
from operator import sub
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from swarmscope.bench.hostile import HOSTILE_VALUES
from swarmscope.core.errors import SessionError
from swarmscope.core.events import Event
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.session import datacols
from swarmscope.core.session import format as fmt


def bits(value: Any) -> Any:
    """`value` with every type and every float's bits spelled out: equal only if identical."""
    if type(value) is float:
        return ("float", struct.pack("<d", value))
    if type(value) is dict:
        return ("dict", [(bits(k), bits(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):  # events too
        return (type(value).__name__, [bits(v) for v in value])
    return (type(value).__name__, value)


def encode_2_0(events: list[Event]) -> bytes:
    """An EVENTS payload in the 2.0 layout (data maps row-wise), as 2.0 wrote it."""
    ts, names, seqs, kinds, datas, incs = zip(*events)
    agents, kind_table, inc_table = (fmt._table(c) for c in (names, kinds, incs))
    body = [
        ts[0],
        list(agents),
        list(kind_table),
        list(inc_table),
        [0, *map(sub, ts[1:], ts)],
        [agents[n] for n in names],
        [kind_table[k] for k in kinds],
        fmt._steps(names, seqs),
        [inc_table[i] for i in incs],
        list(datas),
    ]
    prefix = fmt.EVENTS_PREFIX.pack(0, len(events), ts[0], max(ts), 0, 0)
    return prefix + fmt.compress(msgpack.packb(body), fmt.EVENT_LEVEL)


def round_trip(events: list[Event]) -> list[Event]:
    return fmt.decode_events(fmt.encode_events(0, events, 0)[0])


names = st.text(max_size=6)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    st.sampled_from([0.1, 53.2, 0.125, -0.0, 1e16, 1e-7, 123456789.123, 2.5e-5, -7.0]),
    st.text(max_size=8),
    st.sampled_from(["ok", "failed", "running"]),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=12,
)
maps = st.dictionaries(st.sampled_from(["a", "b", "cpu", "task", "x"]), values, max_size=4)
"""Few keys, so maps share shapes and columns get long."""


@st.composite
def blocks(draw: st.DrawFn, data: st.SearchStrategy = maps) -> list[Event]:
    n = draw(st.integers(1, 40))
    ts = draw(st.lists(st.integers(0, 2**63 - 1), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(["status", "progress", "patch"]), min_size=n, max_size=n))
    datas = draw(st.lists(data, min_size=n, max_size=n))
    return [
        Event(t, f"agent-{k % 3}", k, kind, d, 7 + k % 3)
        for k, (t, kind, d) in enumerate(zip(ts, kinds, datas))
    ]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(blocks())
@example(
    [
        Event(1, "a", 0, "x", {"f": v}, 1)
        for v in (0.5, -0.0, math.nan, math.inf, -math.inf, 1 / 3, 1e300, 5e-324, 0.1 + 0.2)
    ]
)
@example(  # a table of floats: 0.0 and -0.0 are two entries, each NaN its own
    [
        Event(1, "a", 0, "x", {"f": v}, 1)
        for v in (0.0, -0.0, 0.0, -0.0, math.nan, math.nan, 0.5, 0.5)
    ]
)
@example([Event(1, "a", k, "x", {"n": v}, 1) for k, v in enumerate((-(2**63), 2**64 - 1, 0))])
@example([Event(1, "a", k, "x", {"n": v}, 1) for k, v in enumerate((1, True, 1.0, None, 1))])
def test_any_data_comes_back_identical(events):
    assert bits(round_trip(events)) == bits(events)


def test_key_order_and_the_kind_of_each_event_come_back():
    events = [
        Event(1, "a", 0, "patch", {"x": 1, "y": 2}, 1),
        Event(2, "a", 1, "patch", {"y": 2, "x": 1}, 1),
        Event(3, "b", 0, "state", {"x": 1, "y": 2}, 2),
        Event(4, "a", 2, "patch", {}, 1),
        Event(5, "b", 1, "state", {"s": {"q": 1, "p": [1.5, {"r": 2}]}}, 2),
        Event(6, "b", 2, "state", {"s": {"p": 2, "q": 1}}, 2),
    ]
    assert bits(round_trip(events)) == bits(events)


binary = st.binary(min_size=1, max_size=4)
"""Not empty: an empty binary passes the gate's first read (max_bin_len=0), so the 2.0 layout passes
it on beside data that is not a map, where 3.0 walks the block's data and marks it."""
hostile_maps = st.one_of(
    maps,
    st.dictionaries(st.one_of(names, st.integers(), binary), values, max_size=3),
    st.sampled_from(HOSTILE_VALUES),
    st.dictionaries(names, binary, min_size=1, max_size=2),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(hostile_maps))
def test_data_the_gate_marks_is_marked_as_the_2_0_layout_marks_it(events):
    try:
        old = fmt.decode_events(encode_2_0(events))
    except (ValueError, TypeError, OverflowError):  # msgpack packs no such value: nor does 3.0
        with pytest.raises((ValueError, TypeError, OverflowError)):
            fmt.encode_events(0, events, 0)
        return
    assert bits(round_trip(events)) == bits(old)


def test_a_2_0_block_still_reads():
    events = simulate(SimConfig(seed=3), 3000)
    assert fmt.decode_events(encode_2_0(events)) == events
    assert round_trip(events) == events


def test_deep_data_is_marked_in_either_layout():
    deep: Any = 1
    for _ in range(40):
        deep = {"d": deep}
    events = [Event(1, "a", 0, "state", {"s": deep}, 1), Event(2, "a", 1, "state", {"s": 1}, 1)]
    back = round_trip(events)
    assert back == fmt.decode_events(encode_2_0(events))
    assert "unreadable" in back[0].data and back[1] == events[1]


def _body(payload: bytes) -> list:
    return msgpack.unpackb(fmt.decompress(payload[fmt.EVENTS_PREFIX.size :]), strict_map_key=False)


def _swapped(obj: Any, rng: random.Random) -> Any:
    """`obj` with one value somewhere inside replaced by a hostile one."""
    if type(obj) is list and obj and rng.random() < 0.8:
        k = rng.randrange(len(obj))
        obj[k] = _swapped(obj[k], rng)
        return obj
    return rng.choice([*HOSTILE_VALUES, -1, 1 << 63, 99, [], [0, 0, []], datacols.NESTED, None])


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32))
def test_a_damaged_2_1_block_is_a_session_error_or_reads(seed):
    events = simulate(SimConfig(seed=seed % 5), 300)
    payload = fmt.encode_events(0, events, 0)[0]
    body = _swapped(_body(payload), random.Random(seed))
    try:
        raw = msgpack.packb(body)
    except (ValueError, TypeError, OverflowError):
        return
    damaged = payload[: fmt.EVENTS_PREFIX.size] + fmt.compress(raw, 1)
    try:
        back = fmt.decode_events(damaged)
    except SessionError:
        return
    assert len(back) == len(events) and all(type(e.data) is dict for e in back)
