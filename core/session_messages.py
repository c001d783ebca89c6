"""MESSAGES blocks: the wire messages a recording hub kept, as they came (format 2.0).

The same cleartext prefix as an EVENTS block (first index, count, recorded
clock at the first and last event, errors, checkpoints), so the index and
a scan treat both alike; then the messages' own bytes, as a msgpack array
of them, zstd-compressed. Measured on 200,000 simulator events as Emitters send them
(a batch per agent, ~36 events): 0.15 us/event to compress at level 3
(14.4 bytes/event), where building columns and compressing them at level 5
cost 1.04 us (12.6 bytes/event); level 5 here would be 0.37 us for 13.4:
the bytes are within budget, the time is the hub's.
"""

from __future__ import annotations

import msgpack

from . import session_format as fmt
from .errors import SessionError
from .events import Event
from .wire_store import Kept, stored_events

MESSAGE_LEVEL = 3


def encode_messages(first: int, kept: list[Kept], clock_before: int) -> tuple[bytes, int]:
    """The payload of a MESSAGES block, and the recorded clock after its last event."""
    clock_lo = max(clock_before, kept[0].first_ts)
    clock = max(clock_lo, max(k.max_ts for k in kept))
    count = sum(k.count for k in kept)
    errors, checkpoints = sum(k.errors for k in kept), sum(k.checkpoints for k in kept)
    prefix = fmt.EVENTS_PREFIX.pack(first, count, clock_lo, clock, min(errors, fmt.U16), min(checkpoints, fmt.U16))
    body = msgpack.packb([k.payload for k in kept])
    return prefix + fmt.compress(body, MESSAGE_LEVEL), clock


def decode_messages(payload: bytes) -> list[Event]:
    """The events of one MESSAGES block (SessionError if the block does not hold together)."""
    info = fmt.events_info(payload)
    messages = fmt.unpack(fmt.decompress(payload[fmt.EVENTS_PREFIX.size:]), "messages block")
    if type(messages) is not list or not fmt.all_of(bytes, messages):
        raise SessionError("damaged messages block: not a list of messages")
    events: list[Event] = []
    try:
        for message in messages:
            events += stored_events(message)
    except (ValueError, TypeError, IndexError, msgpack.StackError, msgpack.OutOfData) as exc:
        raise SessionError(f"damaged messages block: {exc}") from exc
    if len(events) != info.count:
        raise SessionError(f"damaged messages block: {len(events)} events where its prefix says {info.count}")
    return events
