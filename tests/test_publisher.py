"""The publisher keeps messages within what the hub accepts, whatever the events weigh."""

from helpers import drain, wait_for

from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.wire.format import MAX_MESSAGE_BYTES


def test_large_events_are_split_into_messages_the_hub_accepts(hub, feed):
    blob = "x" * 40_000  # 500 of these would be a 20 MB message, which the hub refuses
    with Emitter(
        "big", hub.in_endpoint, auto_heartbeat=False, batch_size=500, queue_size=2_000
    ) as em:
        for i in range(600):
            em.state({"i": i, "blob": blob})
    events = drain(feed, lambda evs: evs and evs[-1].kind == "bye", timeout=60)
    assert [e.seq for e in events] == list(range(602)) and em.dropped == 0
    wait_for(lambda: hub.stats.decode.events >= 602)
    assert hub.stats.bytes_in / hub.stats.messages_in < MAX_MESSAGE_BYTES / 2
    assert hub.stats.dropped_connections == 0


def test_an_agent_emitting_in_a_tight_loop_loses_nothing_to_its_own_flusher(hub, feed):
    """The flusher shares the GIL with the agent: a loop that never waits must still let it send
    (without the yield in put(), it got a turn per 5 ms and the small queue overflowed)."""
    n = 50_000
    with Emitter(
        "busy", hub.in_endpoint, auto_heartbeat=False, batch_size=500, queue_size=2_000
    ) as em:
        wait_for(lambda: em._pub.listening)
        emit = em.emit
        for _ in range(n):
            emit("progress", fraction=0.5, task="t-1", message="working")
    assert em.dropped == 0
    events = drain(feed, lambda evs: evs and evs[-1].kind == "bye", timeout=60)
    assert len(events) == n + 2


def test_a_reader_leaving_a_recording_hub_does_not_silence_its_agents(endpoints):
    """A recording hub subscribes to everything itself, and passes its readers' subscriptions up to
    the agents: a reader that leaves unsubscribes its topics, which must not read to an agent as
    the hub no longer listening (it would keep its events, and lose them at exit)."""
    from swarmscope.core.hub.feed import Feed
    from swarmscope.core.hub.hub import Hub

    hub = Hub(*endpoints)
    got: list = []
    hub.add_listener(got.extend)
    with hub, Emitter("steady", hub.in_endpoint, auto_heartbeat=False) as em:
        with Feed(hub.out_endpoint, intake=1_000_000):
            wait_for(lambda: b"ev" in em._pub._topics)  # the reader's topic came up the chain
        wait_for(lambda: b"ev" not in em._pub._topics)  # and went
        assert em._pub.listening  # the hub's own subscription stands
        em.log("info", "after the reader left")
    wait_for(lambda: sum(k.count for k in got) == 3)  # hello, log, bye
    assert em.dropped == 0


def test_an_agent_that_ends_while_the_hub_is_behind_loses_nothing(tmp_path):
    """A hub whose queue for an agent is full stops reading its connection; if the agent then
    ends, ZeroMQ on the hub's side dropped what was still in the connection, unread and uncounted
    (24 of 40 messages here). The agent's close now waits, within its timeout, until the hub has
    read every byte."""
    import threading

    import zmq

    endpoint = f"ipc://{tmp_path}/in"
    with zmq.Context() as ctx, ctx.socket(zmq.XSUB) as hub:
        hub.setsockopt(zmq.RCVHWM, 10)  # a hub behind: its queue for the agent fills at 10
        hub.bind(endpoint)
        em = Emitter("last-words", endpoint, auto_heartbeat=False, batch_size=1, close_timeout=30)
        wait_for(lambda: hub.send(b"\x01") or em._pub.listening)
        for k in range(40):
            em.log("info", f"{k:04d}" + "x" * 1000)  # a message each, past what the queue holds
        closing = threading.Thread(target=em.close)
        closing.start()
        closing.join(2)  # an agent that does not wait has ended by now, and the rest is lost
        got = []
        while hub.poll(1000):
            got.append(hub.recv_multipart())
        closing.join()
    assert len([m for m in got if len(m) == 2]) == 42  # hello, 40 logs, bye
