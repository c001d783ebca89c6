"""The wire format as the SDK writes it: columns for one agent's batch, rows for anything else."""

import msgpack

from swarmscope.core.events import Event
from swarmscope.core.wire.format import COLUMNS_VERSION, MAX_KIND_TABLE, WIRE_VERSION, encode_batch
from swarmscope.core.wire.gate import decode

GOOD = Event(1, "a", 0, "status", {"status": "running"}, 9)


def test_round_trip():
    assert decode(encode_batch([GOOD, GOOD._replace(seq=1)])) == [GOOD, GOOD._replace(seq=1)]


def test_newer_minor_version_with_extra_fields_still_reads():
    payload = msgpack.packb([WIRE_VERSION + 7, [[*GOOD, "extra-field"]], {"future": True}])
    assert decode(payload) == [GOOD]
    columns = msgpack.unpackb(encode_batch([GOOD]))
    assert decode(
        msgpack.packb([COLUMNS_VERSION + 3, *columns[1:], "a newer field", {"x": [1]}])
    ) == [GOOD]


def test_one_agents_events_queued_a_moment_out_of_order_go_in_seq_order():
    """Two threads of an agent (or its heartbeat, from the flusher) may queue seqs 7, 6: a viewer
    would count a gap. The batch goes in seq order, as the events were numbered."""
    swapped = [GOOD._replace(seq=s) for s in (5, 7, 6, 8)]
    assert [e.seq for e in decode(encode_batch(swapped))] == [5, 6, 7, 8]


def test_an_emitters_batch_goes_as_columns_and_comes_back_whole():
    run = [GOOD._replace(seq=s, kind="log" if s % 3 else "status") for s in range(5, 12)]
    holed = run[:2] + run[4:]  # an emitter whose queue was full dropped two
    mixed = [GOOD, GOOD._replace(agent="b")]
    many_kinds = [GOOD._replace(seq=s, kind=f"k{s}") for s in range(MAX_KIND_TABLE + 1)]
    for events, version, seqs in (
        (run, 2000, None),
        (holed, 2000, [5, 6, 9, 10, 11]),
        (mixed, 1001, None),
        (many_kinds, 1001, None),
    ):
        payload = encode_batch(events)
        msg = msgpack.unpackb(payload)
        assert msg[0] == version and (version == 1001 or msg[10] == seqs)
        assert decode(payload) == events


def test_an_event_of_the_design_cards_five_fields_is_read_as_incarnation_0():
    payload = msgpack.packb(
        [WIRE_VERSION, [[1, "a", 0, "log", {"message": "hi"}], [1, "a", 1, "log", {}, 7, "x"]]]
    )
    assert decode(payload) == [
        Event(1, "a", 0, "log", {"message": "hi"}, 0),
        Event(1, "a", 1, "log", {}, 7),
    ]
