"""The wire decoder on hostile input: every bad frame is refused with a reason, never raised."""

import random

import msgpack
import pytest

from swarmscope.core.errors import WireError
from swarmscope.core.events import Event
from swarmscope.core.wire import (MAX_BATCH_EVENTS, MAX_MESSAGE_BYTES, TOPIC_EVENTS, WIRE_VERSION,
                                  BatchHead, DecodeStats, _valid_event, decode_batch, encode_batch, peek_batch)

GOOD = Event(1, "a", 0, "status", {"status": "running"}, 9)


def test_round_trip():
    events, bad = decode_batch(encode_batch([GOOD, GOOD._replace(seq=1)]))
    assert events == [GOOD, GOOD._replace(seq=1)] and bad == 0


def test_newer_minor_version_with_extra_fields_still_reads():
    payload = msgpack.packb([WIRE_VERSION + 7, [[*GOOD, "extra-field"]], {"future": True}])
    assert decode_batch(payload) == ([GOOD], 0)


def _columns_with(**change):
    """A good one-event 2.0 message, with some fields changed."""
    fields = dict(agent="a", inc=0, first=0, last=0, count=1, ts=[1], table=["status"], kinds=[0],
                  datas=[{"status": "running"}], seqs=None)
    fields.update(change)
    return [2000, *fields.values()]


def test_one_agents_events_queued_a_moment_out_of_order_go_in_seq_order():
    """Two threads of an agent (or its heartbeat, from the flusher) may queue seqs 7, 6: a viewer
    would count a gap. The batch goes in seq order, as the events were numbered."""
    swapped = [GOOD._replace(seq=s) for s in (5, 7, 6, 8)]
    events, bad = decode_batch(encode_batch(swapped))
    assert bad == 0 and [e.seq for e in events] == [5, 6, 7, 8]
    assert peek_batch(encode_batch(swapped)) == BatchHead("a", GOOD.inc, 5, 8, 4)


def test_an_emitters_batch_goes_as_columns_and_comes_back_whole():
    run = [GOOD._replace(seq=s, kind="log" if s % 3 else "status") for s in range(5, 12)]
    holed = run[:2] + run[4:]  # an emitter whose queue was full dropped two
    mixed = [GOOD, GOOD._replace(agent="b")]
    for events, version, seqs in ((run, 2000, None), (holed, 2000, [5, 6, 9, 10, 11]), (mixed, 1001, None)):
        payload = encode_batch(events)
        msg = msgpack.unpackb(payload)
        assert msg[0] == version and (version == 1001 or msg[10] == seqs)
        assert decode_batch(payload) == (events, 0)
    head = peek_batch(encode_batch(holed))
    assert (head.agent, head.inc, head.first, head.last, head.count) == ("a", GOOD.inc, 5, 11, 5)
    assert peek_batch(encode_batch(mixed)) is None


@pytest.mark.parametrize("payload, reason", [
    (b"", "malformed"),
    (b"\xc1", "malformed"),  # never-used byte
    (msgpack.packb([WIRE_VERSION, [list(GOOD)]])[:-3], "malformed"),  # truncated
    (msgpack.packb([WIRE_VERSION, []]) + b"\x00", "trailing-bytes"),
    (b"\xdd\x7f\xff\xff\xff", "malformed"),  # array of 2**31 elements, no data
    (b"\x91" * 100_000 + b"\xc0", "too-deep"),
    (msgpack.packb({"not": "a batch"}), "not-a-batch"),
    (msgpack.packb([WIRE_VERSION]), "not-a-batch"),
    (msgpack.packb(["1000", []]), "bad-version"),
    (msgpack.packb([3000, [list(GOOD)]]), "wrong-version"),
    (msgpack.packb([2000, [list(GOOD)]]), "not-a-batch"),  # a 2.0 batch has its columns
    (msgpack.packb([WIRE_VERSION, {"a": 1}]), "not-a-batch"),
    (msgpack.packb([WIRE_VERSION, [None] * (MAX_BATCH_EVENTS + 1)]), "malformed"),
    (b"\x00" * (MAX_MESSAGE_BYTES + 1), "too-large"),
    (msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {(1, 2): 3}, 0]]]), "malformed"),  # array as map key
])
def test_bad_payloads_are_refused_with_a_reason(payload, reason):
    with pytest.raises(WireError) as info:
        decode_batch(payload)
    assert info.value.reason == reason
    stats = DecodeStats()
    assert stats.count([TOPIC_EVENTS, payload]) == [] and stats.refused == {reason: 1}  # the hub's way


@pytest.mark.parametrize("change, head_ok", [
    ({"kinds": [5]}, True), ({"kinds": [-1]}, True), ({"ts": ["1"]}, True), ({"table": "status"}, True),
    ({"table": [7]}, True), ({"seqs": [1, 2]}, True), ({"datas": [[1]]}, True), ({"ts": {}}, True),
    ({"count": 2}, False), ({"agent": ""}, False), ({"inc": "1"}, False),
])
def test_bad_columns_are_refused_by_viewers_and_a_bad_head_by_the_hub(change, head_ok):
    payload = msgpack.packb(_columns_with(**change))
    with pytest.raises(WireError) as info:
        decode_batch(payload)
    assert info.value.reason == "malformed"
    stats = DecodeStats()
    got = stats.count([TOPIC_EVENTS, payload])  # the hub counts a good head, and leaves the columns to viewers
    assert (type(got) is BatchHead, stats.refused) == ((True, {}) if head_ok else (False, {"malformed": 1}))


def test_one_agents_batch_carries_a_head_the_hub_counts_without_decoding():
    batch = [GOOD._replace(seq=s) for s in (4, 5, 7)]  # seq 6 dropped by the emitter's full queue
    assert peek_batch(encode_batch(batch)) == BatchHead("a", 9, 4, 7, 3)
    stats = DecodeStats()
    assert stats.count([TOPIC_EVENTS, encode_batch(batch)]) == BatchHead("a", 9, 4, 7, 3)
    assert (stats.frames, stats.events, stats.bad) == (1, 3, 0)


@pytest.mark.parametrize("payload", [
    encode_batch([GOOD, GOOD._replace(agent="b", seq=1)]),               # two agents
    encode_batch([GOOD._replace(seq=1), GOOD, GOOD._replace(seq=1)]),    # a seq twice
    encode_batch([GOOD, GOOD._replace(seq=1, inc=10)]),                  # two incarnations
    msgpack.packb([WIRE_VERSION - 1, [list(GOOD)]]),                     # a 1.0 agent: no head
    msgpack.packb([WIRE_VERSION, [list(GOOD)] * 3, ["a", 9, 0, 1]]),     # a head that cannot be true
    msgpack.packb([WIRE_VERSION, [list(GOOD)], ["a", "9", 0, 0]]),       # a head of the wrong types
])
def test_a_batch_without_a_usable_head_is_decoded(payload):
    assert peek_batch(payload) is None
    stats = DecodeStats()
    got = stats.count([TOPIC_EVENTS, payload])
    assert type(got) is list and stats.events == len(got) > 0


@pytest.mark.parametrize("bad_event", [
    [1, "a", 0, "status"],                                 # too short
    ["1", "a", 0, "status", {}, 0],                        # ts not int
    [1, 5, 0, "status", {}, 0],                            # agent not str
    [1, "a", 0.5, "status", {}, 0],                        # seq not int
    [1, "a", 0, "status", [1, 2], 0],                      # data not a map
    [1, "a", True, "status", {}, 0],                       # bool is not a seq
    [1, "", 0, "status", {}, 0],                           # empty agent id
    [1, "a" * 1000, 0, "status", {}, 0],                   # agent id too long
    "just a string",
])
def test_bad_events_are_dropped_and_good_ones_kept(bad_event):
    payload = msgpack.packb([WIRE_VERSION, [list(GOOD), bad_event, list(GOOD._replace(seq=1))]])
    events, bad = decode_batch(payload)
    assert [e.seq for e in events] == [0, 1] and bad == 1


def test_an_event_of_the_design_cards_five_fields_is_read_as_incarnation_0():
    payload = msgpack.packb([WIRE_VERSION, [[1, "a", 0, "log", {"message": "hi"}], [1, "a", 1, "log", {}, 7, "x"]]])
    events, bad = decode_batch(payload)
    assert bad == 0 and events == [Event(1, "a", 0, "log", {"message": "hi"}, 0), Event(1, "a", 1, "log", {}, 7)]


def test_random_garbage_never_raises_out_of_decode_stats():
    rng = random.Random(1234)
    stats = DecodeStats()
    good = encode_batch([GOOD])
    for _ in range(3000):
        kind = rng.random()
        if kind < 0.4:
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        elif kind < 0.8:  # flip bytes of a good payload
            b = bytearray(good)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            payload = bytes(b)
        else:
            payload = good[: rng.randrange(len(good))]
        stats.decode([TOPIC_EVENTS, payload])
    assert stats.frames == 3000
    assert stats.bad + stats.events > 0
    assert stats.decode([TOPIC_EVENTS, good]) == [GOOD]


def test_wrong_envelope_is_counted():
    stats = DecodeStats()
    assert stats.decode([b"ev"]) == [] and stats.decode([b"xx", encode_batch([GOOD])]) == []
    assert stats.refused["bad-envelope"] == 2


BAD_FIELDS = [("ts", "1"), ("ts", True), ("ts", 1.5), ("agent", 5), ("agent", ""), ("agent", "a" * 300),
              ("agent", ["a"]), ("seq", None), ("seq", False), ("kind", {"k": 1}), ("kind", "k" * 65),
              ("kind", b"status"), ("kind", ""), ("data", [1]), ("data", None), ("inc", "9"), ("inc", 1.0)]


def _mutated_rows(rng, n):
    """Rows as a hostile or buggy sender might batch them: mostly good, some subtly wrong."""
    bad_fields = BAD_FIELDS
    rows = []
    for i in range(n):
        row = [1000 + i, rng.choice(("a", "b")), i, rng.choice(("status", "progress")), {"x": i}, 9]
        r = rng.random()
        if r < 0.05:
            name, value = rng.choice(bad_fields)
            row[Event._fields.index(name)] = value
        elif r < 0.07:
            row = row[:rng.randrange(6)]
        elif r < 0.09:
            row = row + ["newer-field"]
        elif r < 0.1:
            row = tuple(row) if rng.random() < 0.5 else "row"
        rows.append(row)
    return rows


def test_the_whole_batch_check_accepts_exactly_what_the_per_event_check_does():
    rng = random.Random(99)
    for trial in range(300):
        rows = _mutated_rows(rng, rng.choice((1, 2, 5, 40)))
        payload = msgpack.packb([WIRE_VERSION, rows])
        expected = [ev for ev in map(_valid_event, msgpack.unpackb(payload)[1]) if ev is not None]
        events, bad = decode_batch(payload)
        assert events == expected and bad == len(rows) - len(expected)
        assert all(type(e) is Event for e in events)


@pytest.mark.parametrize("field, value", BAD_FIELDS)
def test_one_bad_field_in_an_otherwise_good_batch_is_refused(field, value):
    rows = [[1000 + i, "a", i, "status", {}, 9] for i in range(50)]
    rows[17][Event._fields.index(field)] = value
    events, bad = decode_batch(msgpack.packb([WIRE_VERSION, rows]))
    assert bad == 1 and [e.seq for e in events] == [i for i in range(50) if i != 17]
