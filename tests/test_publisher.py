"""The publisher keeps messages within what the hub accepts, whatever the events weigh."""

from swarmscope.core.emitter import Emitter
from swarmscope.core.wire import MAX_MESSAGE_BYTES

from helpers import drain, wait_for


def test_large_events_are_split_into_messages_the_hub_accepts(hub, feed):
    blob = "x" * 40_000  # 500 of these would be a 20 MB message, which the hub refuses
    with Emitter("big", hub.in_endpoint, auto_heartbeat=False, batch_size=500, queue_size=2_000) as em:
        for i in range(600):
            em.state({"i": i, "blob": blob})
    events = drain(feed, lambda evs: evs and evs[-1].kind == "bye", timeout=60)
    assert [e.seq for e in events] == list(range(602)) and em.dropped == 0
    wait_for(lambda: hub.stats.decode.events >= 602)
    assert hub.stats.bytes_in / hub.stats.messages_in < MAX_MESSAGE_BYTES / 2
    assert hub.stats.dropped_connections == 0
