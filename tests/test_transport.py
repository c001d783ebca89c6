"""Emitter -> hub -> feed over real ZeroMQ sockets: delivery, gaps, hostile frames."""

import socket
import time

import msgpack
import pytest
import zmq
from helpers import drain, wait_for

from swarmscope.core.errors import ConfigError
from swarmscope.core.events import Event
from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.hub import Hub
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.wire.format import TOPIC_EVENTS, WIRE_VERSION, encode_batch


def test_100k_events_arrive_with_zero_gaps(hub, feed):
    n = 100_000
    with Emitter("agent-7", hub.in_endpoint, auto_heartbeat=False, queue_size=n + 10) as em:
        for i in range(n):
            em.progress(i / n, task="t")
    model = SwarmModel()
    events = drain(feed, lambda evs: evs and evs[-1].kind == "bye", timeout=60)
    model.apply_many(events)
    assert model.events == n + 2  # hello, n progress, bye
    assert model.gaps == 0 and model.reordered == 0 and em.dropped == 0
    assert [e.seq for e in events] == list(range(n + 2))
    wait_for(lambda: hub.stats.decode.events >= n + 2)
    assert sum(hub.stats.gaps.values()) == 0


def _raw_publisher(hub):
    """A bare socket speaking the wire format, so a test can leave a batch out on purpose."""
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.connect(hub.in_endpoint)
    sock.recv()  # the hub's subscription: the path is up
    return sock


def test_a_dropped_batch_is_counted_exactly(hub, feed):
    sock = _raw_publisher(hub)
    batches = [
        [Event(i, "a", i, "heartbeat", {}, 1) for i in range(b * 100, b * 100 + 100)]
        for b in range(10)
    ]
    for b, batch in enumerate(batches):
        if b != 4:  # batch 4 is lost on the way
            sock.send_multipart([TOPIC_EVENTS, encode_batch(batch)])
    model = SwarmModel()
    model.apply_many(drain(feed, lambda evs: len(evs) >= 900))
    assert model.gaps == 100 and model.agents["a"].gaps == 100
    wait_for(lambda: hub.stats.gaps["a"] == 100)
    sock.close(linger=0)


def test_garbage_never_stops_the_hub_or_the_viewer(hub, feed):
    sock = _raw_publisher(hub)
    garbage = [
        [TOPIC_EVENTS, b"\x00\x01\x02 random bytes"],
        [TOPIC_EVENTS, msgpack.packb([WIRE_VERSION, [[1, "a", 0, "k", {}, 0]]])[:-2]],  # truncated
        [TOPIC_EVENTS, b"\xdd\x7f\xff\xff\xff"],  # huge array header
        [TOPIC_EVENTS, b"\x91" * 50_000 + b"\xc0"],  # deep nesting
        [TOPIC_EVENTS, msgpack.packb([WIRE_VERSION, [["ts", 1, "seq", 2, 3, 4]]])],  # wrong types
        [TOPIC_EVENTS, msgpack.packb([9000, []])],  # unknown version
        [TOPIC_EVENTS],  # one frame only
        [b"other-topic", b"x"],
    ]
    for frames in garbage:
        sock.send_multipart(frames)
    sock.send_multipart(
        [TOPIC_EVENTS, encode_batch([Event(1, "after", 0, "status", {"status": "ok"}, 1)])]
    )
    events = drain(feed, lambda evs: any(e.agent == "after" for e in evs))
    assert [e.agent for e in events] == ["after"]
    wait_for(lambda: hub.stats.decode.events >= 1 and hub.stats.decode.bad >= 6)
    assert set(hub.stats.decode.refused) >= {"msgpack", "shape", "version", "ts", "envelope"}
    assert feed.stats.bad >= 6  # the viewer refuses them too, and goes on
    sock.close(linger=0)


def test_an_oversized_frame_is_refused_by_zeromq_and_others_still_arrive(endpoints):
    with Hub(*endpoints, max_message=10_000) as hub, Feed(hub.out_endpoint) as feed:
        big = Emitter("big", hub.in_endpoint, heartbeat=60)
        big.emit("log", message="x" * 50_000)  # one batch far over the limit
        big.close()
        seen = []
        with Emitter("small", hub.in_endpoint, heartbeat=60) as em:

            def delivered():
                em.emit("heartbeat")
                seen.extend(feed.poll(20))
                return any(e.agent == "small" for e in seen)

            wait_for(delivered)
        assert not any(e.agent == "big" and e.kind == "log" for e in seen)
        assert hub.stats.decode.refused.get("too-large", 0) == 0  # refused before Python saw it


def test_emitter_without_a_hub_neither_hangs_nor_grows(tmp_path):
    import time

    t0 = time.monotonic()
    em = Emitter("lonely", f"ipc://{tmp_path}/nobody", queue_size=1000, close_timeout=0.2)
    for _ in range(5000):
        em.status("running")
    assert len(em._pub.queue) <= 1000 and em.dropped >= 4000
    em.close()
    assert time.monotonic() - t0 < 5


def test_emitter_waits_for_a_late_hub_within_its_queue(endpoints):
    """Events emitted before the hub is up are delivered once it is, and a viewer there (nothing
    lost to slow joining): a hub with nobody to deliver to does not take them from the agent."""
    from swarmscope.core.hub.hub import Hub

    em = Emitter("early", endpoints[0], auto_heartbeat=False)
    em.status("running")
    with Hub(*endpoints) as hub:
        time.sleep(0.3)  # a hub with no viewer: the agent keeps its events
        assert hub.stats.messages_in == 0 and not em._pub.listening and len(em._pub.queue) == 2
        with Feed(hub.out_endpoint) as feed:
            events = drain(feed, lambda evs: len(evs) >= 2)
    assert [e.kind for e in events] == ["hello", "status"] and em.dropped == 0
    em.close()


def test_one_emitter_shared_by_threads_numbers_every_event_once(hub, feed):
    import threading

    em = Emitter("threads", hub.in_endpoint, auto_heartbeat=False, queue_size=100_000)
    workers = [
        threading.Thread(target=lambda: [em.metric("m", i) for i in range(5000)]) for _ in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    em.close()
    events = drain(feed, lambda evs: evs and evs[-1].kind == "bye")
    assert sorted(e.seq for e in events) == list(range(20_002))


def test_auto_heartbeats_carry_resources(hub, feed):
    em = Emitter("beater", hub.in_endpoint, heartbeat=0.05)
    events = drain(feed, lambda evs: sum(e.kind == "heartbeat" for e in evs) >= 2)
    em.close()
    beat = next(e for e in events if e.kind == "heartbeat")
    assert beat.data["rss"] > 0 and "cpu" in beat.data
    assert events[0].kind == "hello" and events[0].data["heartbeat"] == 0.05


async def test_async_feed_delivers_from_asyncio(hub):
    from swarmscope.core.hub.feed import AsyncFeed

    feed = AsyncFeed(hub.out_endpoint)
    try:
        with Emitter("async-agent", hub.in_endpoint, auto_heartbeat=False) as em:
            got = []
            for _ in range(200):
                em.status("running")
                got += [e for e in await feed.next_batch(50) if e.agent == "async-agent"]
                if got:
                    break
        assert got and got[0].agent == "async-agent"
    finally:
        feed.close()


def test_a_feeds_monitor_sees_its_first_connection_even_to_a_hub_already_up(hub):
    from zmq.utils.monitor import recv_monitor_message

    for n in range(20):  # the race it guards against is a matter of microseconds: try it often
        with Feed(hub.out_endpoint, monitor=f"first-{n}") as feed:
            wait_for(lambda: feed.monitor.poll(0) > 0, timeout=10)
            assert recv_monitor_message(feed.monitor)["event"] == zmq.EVENT_CONNECTED


def test_a_second_hub_on_a_taken_ipc_path_is_refused_and_the_first_keeps_its_agents(
    hub, feed, tmp_path
):
    with pytest.raises(
        ConfigError, match="another process is listening there \\(is another hub running"
    ):
        Hub(hub.in_endpoint, f"ipc://{tmp_path}/other-out").start()
    with Emitter("still-here", hub.in_endpoint, auto_heartbeat=False) as em:
        em.status("running")
    assert [e.kind for e in drain(feed, lambda evs: evs and evs[-1].kind == "bye")] == [
        "hello",
        "status",
        "bye",
    ]


def test_a_socket_file_left_by_a_killed_hub_is_bound_over(tmp_path):
    stale = tmp_path / "in"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(stale))
    left.close()  # the file stays, with nobody listening: what kill -9 leaves
    with Hub(f"ipc://{stale}", f"ipc://{tmp_path}/out"):
        pass
