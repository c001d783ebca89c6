"""The wire format: versioned msgpack batches of events.

A message is two ZeroMQ frames: a topic (`b"ev"`) and a msgpack payload.
The payload's first element is its version, `major * 1000 + minor`; a newer
minor may append fields (to the message, or to an event), which readers
ignore, so a newer agent and an older viewer still talk. A major
this build does not read is refused. Two majors are read:

- 2.0, columns: what an Emitter sends, a batch from one incarnation of one
  agent, seqs rising: `[2000, agent, inc, first_seq, last_seq, count,
  [ts...], [kind names], [kind index...], [data...], [seq...] | nil]`
  (seqs are nil when they run first..last without a hole). The agent and
  incarnation are said once, kinds by index: a viewer builds no list, no
  agent string and no kind string per event, and its collector has a
  third as much to walk (docs/benchmarks.md has the figures); and a hub
  counts gaps from its first six fields.
- 1.x, rows: `[version, [event, ...], head?]`, each event an array in
  `Event` field order: any events, from any publisher (the design card's
  five fields are read as incarnation 0). A 1.1 message may carry a third
  field, `[agent, inc, first_seq, last_seq]`, which readers ignore.

Every byte that arrives is untrusted: gate.py checks every field of every
message before anything reads it, and says what it refused and why.
"""

from __future__ import annotations

from operator import itemgetter, lt

import msgpack

TOPIC_EVENTS = b"ev"
WIRE_VERSION = 1001
"""Rows (see the module's docstring)."""
COLUMNS_VERSION = 2000

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Frames larger than this are refused by ZeroMQ itself (maxmsgsize) at the hub."""
MAX_BATCH_EVENTS = 100_000
MAX_AGENT_LEN = 256
MAX_KIND_LEN = 64
MAX_KIND_TABLE = 128
"""Distinct kinds one 2.x message may name (an Emitter's batch names a dozen at most): more go as
rows."""


def message(events: list) -> list:
    """The message for a batch of event tuples (in Event field order): columns when one incarnation
    of one agent sent every event, seqs rising (what an Emitter sends), else rows."""
    if not events:
        return [WIRE_VERSION, []]
    ts, agents, seqs, kinds, datas, incs = zip(*events)
    n = len(events)
    if agents.count(agents[0]) != n or incs.count(incs[0]) != n:
        return [WIRE_VERSION, events]
    if not all(map(lt, seqs, seqs[1:])):
        # One agent's threads (or its heartbeat, from the flusher) numbered two events and queued
        # them a moment out of order: a viewer would count a gap. In seq order they are as they were
        # emitted.
        events = sorted(events, key=_SEQ)
        ts, agents, seqs, kinds, datas, incs = zip(*events)
        if not all(map(lt, seqs, seqs[1:])):
            return [WIRE_VERSION, events]  # a seq twice: not one Emitter's numbering
    table = list(dict.fromkeys(kinds))
    if len(table) > MAX_KIND_TABLE:
        return [WIRE_VERSION, events]
    index = {kind: k for k, kind in enumerate(table)}
    holes = seqs[-1] - seqs[0] + 1 != n
    return [
        COLUMNS_VERSION,
        agents[0],
        incs[0],
        seqs[0],
        seqs[-1],
        n,
        list(ts),
        table,
        list(map(index.__getitem__, kinds)),
        list(datas),
        list(seqs) if holes else None,
    ]


_SEQ = itemgetter(2)


def encode_batch(events: list) -> bytes:
    return msgpack.packb(message(events))
