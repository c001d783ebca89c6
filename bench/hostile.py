"""Hostile wire messages: every one ever found to hurt swarmscope, kept for good.

The fuzz tests start from these (tests/test_fuzz.py) and the hostile bench
sends them by the million (`swarmscope bench --only hostile`). A message
found to crash, hang or grow any part of swarmscope is added here, with
where it was found, and never removed: SQLite's habit, ours.
"""

from __future__ import annotations

import random
from typing import Any

import msgpack

from swarmscope.core.wire.format import (
    COLUMNS_VERSION,
    MAX_MESSAGE_BYTES,
    TOPIC_EVENTS,
    WIRE_VERSION,
)


def _columns(n: int = 1, **change: Any) -> list:
    """A good 2.0 message of n status events from agent "a", fields changed as asked."""
    msg = [
        COLUMNS_VERSION,
        "a",
        1,
        0,
        n - 1,
        n,
        [1_767_225_600_000_000_000 + k for k in range(n)],
        ["status"],
        [0] * n,
        [{"status": "running"}] * n,
        None,
    ]
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
    return msg


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def _packed(msg: Any) -> list[bytes]:
    return [TOPIC_EVENTS, msgpack.packb(msg)]


SEEDS: dict[str, list[bytes]] = {
    # issue 13: each stopped a recording hub's tap or made `swarmscope record` exit
    "ts column not an array": _packed([2000, "a", 1, 0, 0, 1, 5, ["x"], [0], [{}], None]),
    "ts past int64": _packed([2000, "a", 1, 0, 0, 1, [2**64 - 1], ["x"], [0], [{}], None]),
    "patch 1,000 maps deep": _packed(_columns(table=["patch"], datas=[{"patch": _deep(1000)}])),
    "agent as binary": _packed(_columns(agent=b"a")),
    "kind as binary": _packed(_columns(table=[b"status"])),
    # issue 13: losses nobody was told of, and numbers believed
    "seqs 0 and 2**62": _packed(_columns(n=2, last=2**62, seqs=[0, 2**62])),
    "data shorter than its count": _packed(_columns(n=3, datas=[{}])),
    "one frame beginning 0x01": [b"\x01ev"],
    "one frame beginning 0x00": [b"\x00"],
    # issue 13: memory
    "a kind table of 100,000 names": _packed(
        _columns(n=1, table=[f"kind-{k}" for k in range(100_000)])
    ),
    # issue 13: what a JavaScript publisher sends first
    "float nanoseconds (Date.now() * 1e6)": _packed(_columns(ts=[1.7654321e18])),
    "float nanoseconds, not finite": _packed(_columns(ts=[float("nan")])),
    # found while building the gate
    "an array as a map key": [
        TOPIC_EVENTS,
        msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {}, 0]]]).replace(
            b"\x80", b"\x81\x92\x01\x02\x03"
        ),
    ],
    "an int as a map key in data": _packed(_columns(datas=[{1: "x"}])),
    "binary in data": _packed(_columns(datas=[{"blob": b"\x00\xff"}])),
    "text that is not UTF-8": [
        TOPIC_EVENTS,
        msgpack.packb(_columns()).replace(b"running", b"runn\xffng"),
    ],
    "2,000 arrays deep": [TOPIC_EVENTS, b"\x91" * 2000 + b"\xc0"],
    "an array header of 2**31": [TOPIC_EVENTS, b"\xdd\x7f\xff\xff\xff"],
    "truncated": [TOPIC_EVENTS, msgpack.packb(_columns(n=5))[:-7]],
    "bytes after the message": [TOPIC_EVENTS, msgpack.packb(_columns()) + b"\x00"],
    "over the size limit": [TOPIC_EVENTS, b"\x00" * (MAX_MESSAGE_BYTES + 1)],
    "a version from the future": _packed([9000, []]),
    "no events": _packed([WIRE_VERSION, []]),
    "three frames": [TOPIC_EVENTS, msgpack.packb(_columns()), b"more"],
    "another topic": [b"xx", msgpack.packb(_columns())],
    "a lost event claiming 2**62": _packed(
        _columns(table=["lost"], datas=[{"first": 0, "events": 2**62}], first=2**62, last=2**62)
    ),
}


CUT_BY_ZEROMQ = frozenset({"over the size limit"})
"""Seeds a hub never reads: ZeroMQ cuts the connection that sends them (and with it what that
connection had queued), so a sender of many sends these apart."""


def mutated(rng: random.Random) -> list[bytes]:
    """A message as a buggy or hostile sender might make one: a seed (but those ZeroMQ cuts), a good
    message with one field swapped for a hostile value, or bytes flipped in a good one."""
    r = rng.random()
    if r < 0.3:
        return SEEDS[rng.choice([name for name in SEEDS if name not in CUT_BY_ZEROMQ])]
    msg = _columns(n=rng.choice((1, 3, 40)))
    if r < 0.8:
        msg[rng.randrange(len(msg))] = rng.choice(HOSTILE_VALUES)
        return _packed(msg)
    raw = bytearray(msgpack.packb(msg))
    for _ in range(rng.randrange(1, 5)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return [TOPIC_EVENTS, bytes(raw)]


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    2**63,
    2**64 - 1,
    -(2**63),
    1.5,
    float("nan"),
    float("inf"),
    "",
    "x" * 300,
    b"bin",
    [],
    [None],
    ["x"],
    [1.5],
    [2**63],
    {},
    {"a": 1},
    [[1]],
    [{}],
    _deep(40),
    list(range(200)),
]
"""Values a hostile message puts where a field should be."""
