"""The gate on hostile input: every bad message refused whole, naming the field and what was wanted;
every bad event's data marked in its place; what keep passes reads back as a viewer decodes it."""

import math

import msgpack
import pytest

from swarmscope.core.events import Event
from swarmscope.core.wire import gate
from swarmscope.core.wire.format import (
    COLUMNS_VERSION,
    MAX_BATCH_EVENTS,
    MAX_MESSAGE_BYTES,
    TOPIC_EVENTS,
    WIRE_VERSION,
    encode_batch,
    message,
)
from swarmscope.core.wire.gate import MAX_DEPTH, STACK, DecodeStats, Refused, decode, within_depth
from swarmscope.core.wire.kept import events_kept, keep, keep_counted

GOOD = [Event(5, "a", s, "status", {"status": "running"}, 1) for s in range(3)]


def _columns(**change):
    """A good three-event 2.0 message, with some fields changed, packed."""
    msg = message(GOOD)
    names = (
        "version",
        "agent",
        "inc",
        "first",
        "last",
        "count",
        "ts",
        "table",
        "kinds",
        "datas",
        "seqs",
    )
    for name, value in change.items():
        msg[names.index(name)] = value
    return msgpack.packb(msg)


def _nested(levels: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


REFUSED = [  # payload, the field named, words the refusal says
    (b"", "msgpack", "truncated"),
    (b"\xc1", "msgpack", ""),
    (msgpack.packb([WIRE_VERSION, [list(GOOD[0])]])[:-3], "msgpack", "truncated"),
    (msgpack.packb(message(GOOD)) + b"\x00", "msgpack", "bytes after the message"),
    (b"\xdd\x7f\xff\xff\xff", "msgpack", "truncated"),
    (b"\x91" * 100_000 + b"\xc0", "shape", "an array of 1"),
    (
        msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {}]]]).replace(
            b"\x80", b"\x91" * 2000 + b"\xc0"
        ),
        "nesting",
        f"more than {STACK} levels",
    ),
    (b"\x00" * (MAX_MESSAGE_BYTES + 1), "size", "bytes, want at most"),
    (msgpack.packb({"not": "a batch"}), "shape", "dict"),
    (msgpack.packb([WIRE_VERSION]), "shape", "an array of 1"),
    (msgpack.packb(["1000", []]), "version", "text '1000'"),
    (msgpack.packb([3000, [list(GOOD[0])]]), "version", "3000 (major 3)"),
    (msgpack.packb([COLUMNS_VERSION, [list(GOOD[0])]]), "shape", "a 2.x message of 2 fields"),
    (msgpack.packb([WIRE_VERSION, {"a": 1}]), "shape", "events that are dict"),
    (msgpack.packb([WIRE_VERSION, []]), "count", "0 events"),
    (
        msgpack.packb([WIRE_VERSION, [None] * (MAX_BATCH_EVENTS + 1)]),
        "msgpack",
        "exceeds max_array_len",
    ),
    # an array as a map key
    (
        msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {}, 0]]]).replace(
            b"\x80", b"\x81\x92\x01\x02\x03"
        ),
        "msgpack",
        "unhashable",
    ),
    # the four classes that stopped a recording hub (issue 13), and their kin
    (_columns(ts=5), "ts", "a column that is not an array"),
    (_columns(ts=[2**64 - 1, 5, 5]), "ts", "out of range"),
    (_columns(ts=[-1, 5, 5]), "ts", "-1, out of range"),
    (_columns(ts=[5, float("nan"), 5]), "ts", "float nan, want integer nanoseconds"),
    (_columns(ts=[5, "5", 5]), "ts", "text '5'"),
    (_columns(ts=[5, True, 5]), "ts", "bool True"),
    (_columns(agent=b"a"), "agent", "binary, want text of 1 to 256 characters"),
    (_columns(agent=""), "agent", "text of 0 characters"),
    (_columns(agent="a" * 300), "agent", "text of 300 characters"),
    (_columns(table=[b"status"]), "kind", "binary"),
    (_columns(table=["k" * 65]), "kind", "text of 65 characters"),
    (_columns(table=[]), "kind", "a table of 0 for 3 events"),
    (_columns(table=["status", "a", "b", "c"]), "kind", "a table of 4 for 3 events"),
    (_columns(kinds=[0, 3, 0]), "kind", "an index outside a table of 1"),
    (_columns(kinds=[0, 0.0, 0]), "kind", "an index outside"),
    (_columns(inc=-1), "inc", "int -1"),
    (_columns(inc="1"), "inc", "text '1'"),
    (_columns(first=-1), "seq", "first int -1"),
    (_columns(last=7), "seq", "0 to 7 without a hole for 3 events"),
    (_columns(seqs=[0, 0, 2]), "seq", "a column that does not rise"),
    (_columns(seqs=[0, 1, 5]), "seq", "0 to 5 where the head says 0 to 2"),
    (_columns(count=4), "count", "4 in the head, 3 in the ts column"),
    (_columns(count=0), "count", "int 0"),
    (_columns(datas=[{}, {}]), "count", "3 in the head, 2 in the data column"),
    (_columns(datas={}), "data", "a column that is not an array"),
    (msgpack.packb([WIRE_VERSION, [[1, b"a", 0, "k", {}, 0]]]), "agent", "binary"),
    (msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k"]]]), "event", "an array of 4 fields"),
    (msgpack.packb([WIRE_VERSION, ["row"]]), "event", "text 'row'"),
    (msgpack.packb([WIRE_VERSION, [[1, "a", -5, "k", {}, 0]]]), "seq", "int -5"),
    (
        msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k" * 99, {}, 0]]]),
        "kind",
        "text of 99 characters",
    ),
    (msgpack.packb([WIRE_VERSION, [[2**63, "a", 0, "k", {}, 0]]]), "ts", "out of range"),
    (
        msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {}, 2**64 - 1], [1, "a", 1, "k", {}, "x"]]]),
        "inc",
        "text 'x'",
    ),
]


@pytest.mark.parametrize(
    "payload, field, words", REFUSED, ids=[f"{r[1]}-{k}" for k, r in enumerate(REFUSED)]
)
def test_a_bad_message_is_refused_whole_naming_the_field_and_what_was_wanted(payload, field, words):
    for check in (decode, keep):  # a viewer and a recording hub refuse alike
        with pytest.raises(Refused) as refused:
            check(payload)
        assert refused.value.reason == field and words in str(refused.value)
        assert str(refused.value).startswith(f"{field}: ") and f", want {gate.WANT[field]}" in str(
            refused.value
        )
    stats = DecodeStats()
    assert (
        stats.decode([TOPIC_EVENTS, payload]) == []
        and stats.refused == {field: 1}
        and stats.messages == 1
    )
    assert stats.said[field] == str(refused.value) and stats.events == 0


def test_a_float_time_is_taken_when_finite_as_javascript_writes_it():
    """`Date.now() * 1e6` is a float: taken (to the nanosecond below it), as an integer is."""
    ts = [1.7654321e18, 1.7654322e18, 1.7654323e18]
    payload = _columns(ts=ts)
    events = decode(payload)
    assert [e.ts for e in events] == [int(t) for t in ts] and all(type(e.ts) is int for e in events)
    kept = keep(payload)
    assert (kept.first_ts, kept.max_ts) == (int(ts[0]), int(ts[2])) and events_kept(kept) == events
    with pytest.raises(Refused, match="ts: float inf"):
        decode(_columns(ts=[5, math.inf, 5]))


@pytest.mark.parametrize(
    "datas, why",
    [
        ([{"a": 1}, 7, {"b": 2}], "data: int 7, want a map"),
        ([{"a": 1}, {1: "int key"}, {}], "data: a key that is not text"),
        ([{"a": 1}, {b"k": 1}, {}], "data: a key that is not text"),
        ([{"a": 1}, {"k": b"\x00\x01"}, {}], "data: a binary value, want text"),
        ([{}, {"s": "x" * 2_000_000}, {}], "data: 2000000 exceeds max_str_len(1048576)"),
        ([{}, _nested(MAX_DEPTH + 1), {}], f"data: nested deeper than {MAX_DEPTH} levels"),
        (
            [{}, {"l": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, {}],
            f"data: nested deeper than {MAX_DEPTH} levels",
        ),
        ([{}, {"x": 1.0, "l": [1, "a", None]}, {}], None),
    ],
    ids=[
        "not-a-map",
        "int-key",
        "binary-key",
        "binary-value",
        "too-long",
        "deep-maps",
        "deep-lists",
        "fine",
    ],
)
def test_an_events_bad_data_is_marked_in_its_place_alike_live_and_in_a_replay(datas, why):
    """Its head and columns are sound, so the event stands (time, agent, seq, kind); only its data
    is unreadable, and says why. A recording hub keeps the message as it came; reading it back gives
    exactly what the viewer decoded live (the deep patch of issue 13 among them)."""
    payload = _columns(datas=datas)
    marks = DecodeStats().marked
    events = decode(payload, marks)
    assert [e[:4] + e[5:] for e in events] == [e[:4] + e[5:] for e in GOOD]
    if why is None:
        assert [e.data for e in events] == datas and not marks
        return
    assert (
        events[1].data == {"unreadable": why}
        and events[0].data == datas[0]
        and events[2].data == datas[2]
    )
    assert marks == {why: 1}
    assert events_kept(keep(payload)) == events


@pytest.mark.parametrize("rows", [False, True], ids=["columns", "rows"])
def test_data_exactly_max_depth_deep_passes_and_one_more_is_marked(rows):
    for depth, passes in ((MAX_DEPTH, True), (MAX_DEPTH + 1, False)):
        data = _nested(depth)  # the event's own map is level 1
        events = [Event(5, "a", 0, "k", data, 1), Event(5, "b", 0, "k", {"x": [1]}, 1)][: 1 + rows]
        got = decode(encode_batch(events))
        assert got[0].data == (
            data if passes else {"unreadable": f"data: nested deeper than {MAX_DEPTH} levels"}
        )
        assert got[1:] == events[1:]


def test_msgpack_stops_at_the_depth_the_gate_counts_on():
    """The depth check skips over a message behind STACK - allowed empty levels: it holds only while
    msgpack's unpacker refuses exactly past STACK (a constant of its build)."""
    assert within_depth(b"\x91" * (STACK - 10) + b"\x01", STACK - 10)
    assert not within_depth(b"\x91" * (STACK - 9) + b"\x01", STACK - 10)
    msgpack.unpackb(b"\x91" * STACK + b"\x01")
    with pytest.raises(msgpack.StackError):
        msgpack.unpackb(b"\x91" * (STACK + 1) + b"\x01")


def test_text_that_is_not_utf8_is_read_with_its_bad_bytes_replaced():
    payload = msgpack.packb(message(GOOD)).replace(b"\xa7running", b"\xa7runn\xffng", 1)
    events = decode(payload)
    assert events[0].data == {"status": "runn\ufffdng"} and events[1:] == GOOD[1:]
    assert events_kept(keep(payload)) == events


def test_keep_reads_back_exactly_what_a_viewer_decodes():
    from swarmscope.core.live.sim import SimConfig, simulate

    events = simulate(SimConfig(seed=5), 3000)
    for k in range(0, 3000, 120):
        by_agent = {}
        for ev in events[k : k + 120]:
            by_agent.setdefault((ev.agent, ev.inc), []).append(ev)
        for batch in by_agent.values():
            payload = encode_batch(batch)
            kept = keep(payload)
            assert events_kept(kept) == decode(payload) == batch
            assert (kept.count, kept.first_ts, kept.max_ts) == (
                len(batch),
                batch[0].ts,
                max(e.ts for e in batch),
            )
            assert kept.errors == sum(e.kind == "error" for e in batch)
            assert kept.checkpoints == sum(e.kind == "checkpoint" for e in batch)
            assert kept.hello == any(e.kind == "hello" for e in batch)
            assert (kept.head.agent, kept.head.first, kept.head.count) == (
                batch[0].agent,
                batch[0].seq,
                len(batch),
            )


def test_every_message_is_counted_once_by_what_became_of_it():
    stats = DecodeStats()
    frames = [
        [TOPIC_EVENTS, encode_batch(GOOD)],
        [TOPIC_EVENTS],
        [b"xx", b"y"],
        [TOPIC_EVENTS, b"\xc1"],
        [TOPIC_EVENTS, _columns(ts=[5, float("nan"), 5])],
        [TOPIC_EVENTS, _columns(datas=[{}, 7, {}])],
    ]
    for f in frames:
        keep_counted(stats, f)
    assert (
        stats.messages == 6
        and stats.events == 6
        and stats.refused == {"envelope": 2, "msgpack": 1, "ts": 1}
    )
    assert (
        stats.why().startswith("2 envelope: another topic, want two frames")
        and "1 ts: float nan" in stats.why()
    )


def test_a_flood_of_made_up_kinds_costs_a_bounded_cache():
    """Each message its own table of made-up kinds (issue 13: 100,000 names each grew every process
    by gigabytes): a table is at most MAX_KIND_TABLE names, and the names remembered as checked are
    bounded."""
    from swarmscope.core.wire.format import MAX_KIND_TABLE

    with pytest.raises(Refused, match="a table of 100000 for 100000"):
        decode(
            msgpack.packb(
                [
                    COLUMNS_VERSION,
                    "a",
                    1,
                    0,
                    99_999,
                    100_000,
                    [5] * 100_000,
                    [f"k{i}" for i in range(100_000)],
                    list(range(100_000)),
                    [{}] * 100_000,
                    None,
                ]
            )
        )
    for n in range(2000):
        names = [f"k{n}-{i}" for i in range(MAX_KIND_TABLE)]
        decode(
            msgpack.packb(
                [
                    COLUMNS_VERSION,
                    "a",
                    1,
                    0,
                    MAX_KIND_TABLE - 1,
                    MAX_KIND_TABLE,
                    [5] * MAX_KIND_TABLE,
                    names,
                    list(range(MAX_KIND_TABLE)),
                    [{}] * MAX_KIND_TABLE,
                    None,
                ]
            )
        )
    assert len(gate._KNOWN_KINDS) <= gate.MAX_KNOWN_KINDS
