"""The hub's counting: gaps and restarts per batch exactly as event by event would count them; every
message counted once, by what became of it; what a slow worker cannot take dropped, counted per
agent and handed on as a loss in its place; what the proxy passed before a stop still handed to the
recorder."""

import random
import threading
import time
from collections import Counter

import pytest
import zmq
from helpers import drain, wait_for

from swarmscope.core.events import Event
from swarmscope.core.hub import gaps as hub_gaps
from swarmscope.core.hub import hub as hub_module
from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.intake import MESSAGE_BYTES, Intake
from swarmscope.core.hub.ledger import ledger_messages
from swarmscope.core.model.sequence import LOST, advance
from swarmscope.core.wire import gate
from swarmscope.core.wire import kept as wire_store
from swarmscope.core.wire.format import TOPIC_EVENTS, encode_batch
from swarmscope.core.wire.kept import events_kept


def _reference(events):
    """Gaps per agent and restarts, by `advance` on every event in order."""
    seqs, gaps, restarts = {}, Counter(), 0
    for ev in events:
        inc, expected = seqs.get(ev.agent, (None, 0))
        nxt, lost, restarted, _ = advance(inc, expected, ev.inc, ev.seq)
        seqs[ev.agent] = (ev.inc, nxt)
        gaps[ev.agent] += lost
        restarts += restarted and not lost
    return +gaps, restarts


def _stream(seed):
    """Several agents, each in runs of rising seqs, with holes between and inside batches, late
    events and restarts."""
    rng = random.Random(seed)
    state = {a: [1, 0] for a in "abcd"}
    batches = []
    for _ in range(400):
        agent = rng.choice("abcd")
        inc, seq = state[agent]
        r = rng.random()
        if r < 0.05:
            inc, seq = inc + 1, 0  # restart
        elif r < 0.15:
            seq += rng.randrange(1, 50)  # hole
        elif r < 0.2:
            seq = max(0, seq - 3)  # late
        n = rng.choice((1, 3, 100))
        batch = [Event(1, agent, s, "heartbeat", {}, inc) for s in range(seq, seq + n)]
        if n > 2 and rng.random() < 0.3:  # lost inside the batch (an emitter's queue was full)
            start = rng.randrange(1, n - 1)
            del batch[start : start + rng.randrange(1, n - start)]
        if rng.random() < 0.1:  # another agent's event inside the batch
            batch.insert(
                rng.randrange(len(batch) + 1), Event(1, "e", rng.randrange(9), "log", {}, 1)
            )
        state[agent] = [inc, seq + n]
        batches.append(batch)
    return batches


def test_per_batch_gap_counting_matches_event_by_event(tmp_path, monkeypatch):
    # never started: only its worker's counting
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")
    decoded = Counter()
    # count the messages decoded, wherever the hub decodes them
    for module in (
        hub_gaps,
        wire_store,
    ):
        monkeypatch.setattr(module, "decode", _counting(gate.decode, decoded))
    batches = _stream(seed=4)
    for batch in batches:
        hub._count([TOPIC_EVENTS, encode_batch(batch)])
    gaps, restarts = _reference([ev for batch in batches for ev in batch])
    assert +hub.stats.gaps == gaps and hub.stats.restarts == restarts
    assert sum(gaps.values()) > 0 and restarts > 0
    assert hub.stats.decode.messages == len(batches)
    assert hub.stats.decode.events == sum(map(len, batches))
    # only batches of several agents, or with late events, need their events read (a recorder keeps
    # the others as they came, wire_store.keep)
    assert 0 < decoded["calls"] < len(batches) / 3


def _counting(decode, counter):
    def counted(payload, *args):
        counter["calls"] += 1
        return decode(payload, *args)

    return counted


def _publisher(hub):
    """A raw agent socket, once the hub has subscribed to it."""
    sock = zmq.Context.instance().socket(zmq.XPUB)
    sock.connect(hub.in_endpoint)
    sock.recv()  # the hub has subscribed: the path is up
    return sock


def _batch(agent, seqs):
    return [TOPIC_EVENTS, encode_batch([Event(1, agent, s, "heartbeat", {}, 1) for s in seqs])]


@pytest.mark.parametrize("drain_s", [10.0, 0.0], ids=["drained", "out-of-time-and-written-as-lost"])
def test_a_stopping_hub_records_what_it_passed_before_it_stopped(endpoints, monkeypatch, drain_s):
    """The worker may lag the proxy (a recorder is slower than ZeroMQ); what viewers already got is
    still handed to the recorder when the hub is stopped, and what time does not allow is counted
    and handed on as lost events, in its place."""
    monkeypatch.setattr(hub_module, "DRAIN_S", drain_s)
    release, entered, got = threading.Event(), threading.Event(), []

    first_pass: list[int] = []

    def slow_recorder(kept):
        first_pass.append(len(kept))  # the messages the tap had taken in when the worker woke
        entered.set()
        release.wait(30)  # the worker is stuck here while the proxy goes on passing messages
        got.extend(ev for k in kept for ev in events_kept(k))

    hub = Hub(*endpoints)
    hub.add_listener(slow_recorder)
    with hub, Feed(hub.out_endpoint) as feed:
        sock = _publisher(hub)
        for b in range(50):
            sock.send_multipart(_batch("a", range(b * 100, b * 100 + 100)))
            if b == 0:
                # the worker is stuck in the first message; the tap takes the rest in
                wait_for(entered.is_set)
        # a viewer has them all: the proxy passed every one
        drain(feed, lambda events: len(events) >= 5000)
        stopping = threading.Thread(target=hub.stop)
        stopping.start()
        # the proxy has stopped; the worker is still stuck in the first batch
        wait_for(hub._stop.is_set)
        release.set()
        stopping.join(30)
        sock.close(linger=0)
    st = hub.stats
    lost = [e for e in got if e.kind == LOST]
    recorded = [e.seq for e in got if e.kind != LOST]
    said_lost = [
        s for e in lost for s in range(e.data["first"], e.data["first"] + e.data["events"])
    ]
    # every event recorded or said lost, once, in its place; the pass the worker was in recorded
    assert sorted(recorded + said_lost) == list(range(5000))
    assert recorded[: 100 * first_pass[0]] == list(range(100 * first_pass[0]))
    # out of time, the worker gives up what is left (what the tap hands it later may still go in)
    assert (st.unrecorded > 0) if drain_s == 0 else (st.unrecorded == 0 and not lost)
    assert len(said_lost) == 100 * st.unrecorded
    assert st.messages_in == 50 == st.decode.messages + st.unrecorded  # each message counted once


def test_a_worker_that_falls_behind_drops_past_its_bound_and_says_each_loss_in_its_place(endpoints):
    """Past the intake's bytes, messages are dropped where their heads still read: counted per
    agent, and handed to the recorder as `lost` events where they would have been, so a session says
    what it lacks; the hub's own memory stays within its bound whatever the agents send."""
    release, entered, got = threading.Event(), threading.Event(), []

    def stuck_recorder(kept):
        entered.set()
        release.wait(30)
        got.extend(ev for k in kept for ev in events_kept(k))

    sent = {"a": 0, "b": 0}

    def batch(agent):
        first = sent[agent]
        sent[agent] += 10
        return _batch(agent, range(first, first + 10))

    hub = Hub(*endpoints)
    hub.intake.limit = 20 * len(batch("a")[1])  # about 20 messages
    sent["a"] = 0
    hub.add_listener(stuck_recorder)
    with hub:
        sock = _publisher(hub)
        sock.send_multipart(batch("a"))
        # the worker is stuck; the rest wait in the intake, then are dropped
        wait_for(entered.is_set)
        for b in range(1, 200):
            sock.send_multipart(batch("ab"[b % 2]))
        wait_for(lambda: hub.stats.messages_in == 200)
        assert hub.intake.dropped_messages > 100 and hub.intake._bytes <= hub.intake.limit + 64 * 2
        release.set()
        wait_for(
            lambda: (
                hub.stats.decode.messages + hub.intake.dropped_messages == 200
                and not hub.intake.waiting
            )
        )
        sock.close(linger=0)
    st, intake = hub.stats, hub.intake
    # each message counted once
    assert st.messages_in == 200 == st.decode.messages + intake.dropped_messages
    lost = [e for e in got if e.kind == "lost"]
    assert sorted(e.agent for e in lost) == ["a", "b"]  # one run per agent: dropped in a row
    assert (
        sum(e.data["events"] for e in lost)
        == sum(intake.dropped_events.values())
        == 10 * intake.dropped_messages
    )
    for agent in "ab":  # every seq the agent sent: recorded, or inside its lost run, in its place
        mine = [e for e in got if e.agent == agent]
        seqs = [
            s
            for e in mine
            for s in (range(e.data["first"], e.seq + 1) if e.kind == "lost" else [e.seq])
        ]
        assert seqs == list(range(sent[agent]))
    assert sum(st.gaps.values()) == 0  # dropped in the hub, not lost before it


def test_a_tap_without_the_cpu_slows_the_hub_and_loses_nothing(endpoints, monkeypatch):
    """Past ZeroMQ's queue for the tap (a tap thread that gets no CPU for long), the proxy waits for
    it instead of dropping (a PUB capture, as before, dropped most of these for the tap): every
    message is taken in once the tap runs again."""
    monkeypatch.setattr(hub_module, "TAP_QUEUE", 10)
    stuck, entered = threading.Event(), threading.Event()
    hub = Hub(*endpoints)
    hub.add_listener(lambda kept: None)
    put = hub.intake.put

    def stalled_put(frames):
        entered.set()
        stuck.wait(30)
        put(frames)

    hub.intake.put = stalled_put
    with hub:
        sock = _publisher(hub)
        for b in range(200):
            sock.send_multipart(_batch("a", [b]))
            if b == 0:
                wait_for(entered.is_set)
        time.sleep(0.2)  # the proxy has long since filled the tap's queue of 10, and waits
        assert hub.stats.messages_in <= 1
        stuck.set()
        wait_for(lambda: hub.stats.messages_in == 200)
        hub.count_passed()
        assert hub.stats.behind == 0
        sock.close(linger=0)
    assert hub.stats.decode.messages == 200 and hub.intake.dropped_messages == 0


def test_a_jump_no_agent_could_lose_is_not_believed_as_lost_events(tmp_path):
    """A batch with seqs [0, 2**62] (issue 13) made "lost before the hub" read 4.6e18: a number from
    the sender, believed. A jump past MAX_GAP counts as a restart, in the hub as in every model."""
    from swarmscope.bench.hostile import SEEDS
    from swarmscope.core.model.sequence import MAX_GAP
    from swarmscope.core.model.swarm import SwarmModel

    # never started: only its worker's counting
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")
    hub._count(SEEDS["seqs 0 and 2**62"])
    hub._count(_batch("a", [2**62 + 1, 2**62 + 5]))  # a real hole after it is still counted
    assert sum(hub.stats.gaps.values()) == 3 and hub.stats.restarts == 1
    model = SwarmModel()
    model.apply_many(
        [
            Event(1, "b", 0, "log", {}, 1),
            Event(2, "b", MAX_GAP + 5, "log", {}, 1),
            Event(3, "b", MAX_GAP + 7, "log", {}, 1),
        ]
    )
    assert model.gaps == 1 and model.restarts == 1
    lying = Event(4, "c", 2**62, "lost", {"first": 0, "events": 2**62}, 1)
    model.apply_many([Event(1, "c", 0, "log", {}, 1), lying])
    assert model.agents["c"].gaps == 0 and model.agents["c"].restarts == 1


def test_a_recorders_lost_tail_is_said_from_the_hubs_ledger(endpoints):
    """ZeroMQ drops for a reader that falls behind, at the hub, without a word: a jump in seqs shows
    the loss when the agent speaks again, but a lost tail (the bye among it) nothing would show. The
    hub's ledger says how far each agent got; the reader says the rest lost, in place. (Here the
    reader stops taking events mid-stream, keeping only the ledger's topic: a tail lost for
    certain.)"""
    from swarmscope.core.hub.ledger import TOPIC_LEDGER
    from swarmscope.core.model.swarm import SwarmModel

    hub = Hub(*endpoints)
    hub.add_listener(lambda kept: None)  # it takes every agent's events, whoever watches
    with hub, Feed(hub.out_endpoint) as feed:
        sock = _publisher(hub)
        got: list = []
        for b in range(30):
            sock.send_multipart(_batch("a", range(b * 10, b * 10 + 10)))
        wait_for(
            lambda: (
                got.extend(ev for k in feed.poll_kept(50) for ev in events_kept(k))
                or len(got) == 300
            )
        )
        feed._sock.setsockopt(zmq.SUBSCRIBE, TOPIC_LEDGER)
        feed._sock.setsockopt(zmq.UNSUBSCRIBE, TOPIC_EVENTS)  # from here, ledgers only
        wait_for(lambda: hub.stats.subscriptions >= 3)  # the hub knows
        for b in range(30, 100):
            sock.send_multipart(_batch("a", range(b * 10, b * 10 + 10)))

        def told() -> bool:
            got.extend(ev for k in feed.poll_kept(50) for ev in events_kept(k))
            return got[-1].kind == "lost" and got[-1].seq == 999

        wait_for(told, timeout=20)
        sock.close(linger=0)
    model = SwarmModel()
    model.apply_many(got)
    kept = [e for e in got if e.kind != "lost"]
    # each event kept, or counted lost
    assert len(kept) == 300 and len(kept) + model.agents["a"].gaps == 1000
    assert got[-1].data["first"] == 300 and "never reached" in got[-1].data["why"]


def _baseline(rows: list, nonce: str = "me", hub: int = 3, parts: int = 1) -> list:
    """A hub's baseline for the reader with this nonce, read as the reader reads it."""
    from swarmscope.core.hub.ledger import read_ledger

    ledger = read_ledger(ledger_messages(rows, 1, hub, [nonce])[0][1])
    return [ledger._replace(whole=(1, k, parts)) for k in range(parts)]


def test_a_reader_judges_agents_it_never_saw_only_after_its_baseline():
    """What the hub held when the reader subscribed was there before it: nothing of it is claimed.
    Agents the baseline did not hold, the reader lost from where they began at the hub. Another
    reader's baseline judges nothing here; half a baseline judges nothing either."""
    from swarmscope.core.hub.ledger import Ledger, Tally

    tally = Tally("me")
    tally.delivered("seen", 1, 0, 10)
    # no baseline yet: a seen agent's tail, and nothing else
    assert tally.lost(Ledger([("before", 1, 50, 0), ("seen", 1, 12, 0)], hub=3)) == [
        ("seen", 1, 10, 11, False)
    ]
    (others,) = _baseline([("before", 1, 50, 0)], nonce="another")
    assert tally.lost(others) == [] and not tally.whole
    (mine,) = _baseline([("before", 1, 50, 0), ("other", 1, 7, 0)])
    assert tally.lost(mine) == [] and tally.whole  # they were there before
    new = [("new", 1, 3, 0), ("before", 1, 52, 0), ("before", 1, 52, 0)]
    assert tally.lost(Ledger(new, hub=3)) == [("new", 1, 0, 2, False), ("before", 1, 50, 51, False)]
    # another incarnation: older or newer, a ledger cannot say
    assert tally.lost(Ledger([("seen", 2, 4, 0)], hub=3)) == []
    halves = Tally("me")
    first, second = _baseline([("agent-0", 1, 5, 0)], parts=2)
    halves.lost(first)
    assert not halves.whole and halves.lost(Ledger([("agent-1", 1, 5, 0)], hub=3)) == []
    halves.lost(second._replace(rows=[("agent-1", 1, 5, 0)]))
    assert halves.whole
    assert halves.lost(Ledger([("agent-1", 1, 6, 0), ("agent-2", 1, 1, 0)], hub=3)) == [
        ("agent-1", 1, 5, 5, False),
        ("agent-2", 1, 0, 0, False),
    ]


def test_a_reader_that_lost_an_agents_start_says_so_once_it_can_tell():
    """A reader whose first event of an agent is seq 40 cannot tell, then, a start it lost from one
    that came before it. Its baseline tells (the agent stood at 30 when it came: 30..39 lost), or,
    for an agent that began after it, a ledger's first seq does (0..39). Said after later events,
    the loss is `late`, and a model counts it on its own."""
    from swarmscope.core.hub.intake import Lost, lost_event
    from swarmscope.core.hub.ledger import Ledger, Tally
    from swarmscope.core.model.swarm import SwarmModel

    tally = Tally("me")
    assert tally.delivered("early", 1, 40, 45) == []  # before its baseline came
    (mine,) = _baseline([("early", 1, 30, 0), ("quiet", 1, 8, 0)])
    assert tally.lost(mine) == [("early", 1, 30, 39, True)]
    assert tally.delivered("quiet", 1, 12, 13) == [("quiet", 1, 8, 11, False)]  # said before it
    assert tally.delivered("fresh", 1, 40, 41) == []
    assert tally.lost(Ledger([("fresh", 1, 41, 0)], hub=3)) == [("fresh", 1, 0, 39, True)]
    assert tally.lost(Ledger([("fresh", 1, 43, 0)], hub=3)) == [("fresh", 1, 41, 42, False)]
    assert tally.delivered("zero", 1, 0, 5) == []  # began at 0: nothing before it to judge
    assert tally.lost(Ledger([("zero", 1, 5, 0)], hub=3)) == []

    model = SwarmModel()
    model.apply_many([Event(1, "fresh", seq, "log", {}, 1) for seq in (40, 41)])
    late = lost_event(Lost("fresh", 1, 0, 39, 40, 2, late=True), "never reached")
    model.apply_many([late, Event(3, "fresh", 42, "log", {}, 1)])
    assert model.agents["fresh"].gaps == 40 and model.agents["fresh"].next_seq == 43


def test_behind_a_chain_each_hubs_baseline_judges_its_own_agents():
    """A central hub's and a host hub's ledgers both reach a reader behind the chain, and each
    answers the reader's subscription (it travels up the chain) with a baseline of its own."""
    from swarmscope.core.hub.ledger import Ledger, Tally

    central, host = 11, 22
    tally = Tally("me")
    (first,) = _baseline([("known", 1, 5, 0)], hub=central)
    assert tally.lost(first) == []
    assert tally.lost(Ledger([("early", 1, 14, 0)], hub=host)) == []  # the host's not yet come
    (hosts,) = _baseline([("early", 1, 14, 0)], hub=host)
    assert tally.lost(hosts) == []  # passed the host before the reader joined
    assert tally.wholes == {central, host}
    assert tally.lost(Ledger([("late", 1, 2, 0)], hub=host)) == [("late", 1, 0, 1, False)]
    assert tally.lost(Ledger([("early", 1, 16, 0)], hub=central)) == [("early", 1, 14, 15, False)]


def test_a_ledger_reads_as_far_as_it_reads():
    import msgpack

    from swarmscope.core.hub.ledger import LEDGER_VERSION, Ledger, read_ledger

    assert read_ledger(msgpack.packb([LEDGER_VERSION, [["a", 1, 2, 0]], None])) == Ledger(
        [("a", 1, 2, 0)]
    )
    odd = [LEDGER_VERSION, [["a", 1, 2, 3], ["b", 1, 2]], None, "x", ["n", 7]]
    assert read_ledger(msgpack.packb(odd)) == Ledger([], None, 0, ("n",))
    assert read_ledger(msgpack.packb([1, [["a", 1, 2]], None])) == Ledger([])  # an older hub's


def test_a_reader_that_lost_an_agents_start_at_the_hub_says_so(endpoints):
    """End to end: a reader that misses an agent's first 100 events at the hub (here it is
    unsubscribed from the events meanwhile, keeping the ledger) writes them as lost, late, once the
    hub's ledger says where the agent began."""
    from swarmscope.core.hub.ledger import TOPIC_LEDGER
    from swarmscope.core.model.swarm import SwarmModel

    hub = Hub(*endpoints)
    hub.add_listener(lambda kept: None)
    with hub, Feed(hub.out_endpoint, intake=1_000_000) as feed:
        sock = _publisher(hub)
        wait_for(lambda: feed.poll_kept(50) == [] and feed.tally.whole)  # its baseline came
        feed._sock.setsockopt(zmq.SUBSCRIBE, TOPIC_LEDGER)
        feed._sock.setsockopt(zmq.UNSUBSCRIBE, TOPIC_EVENTS)
        wait_for(lambda: hub.stats.subscriptions >= 4)
        for b in range(10):
            sock.send_multipart(_batch("b", range(b * 10, b * 10 + 10)))
        wait_for(lambda: hub.stats.decode.messages >= 10)
        feed._sock.setsockopt(zmq.SUBSCRIBE, TOPIC_EVENTS)
        wait_for(lambda: hub.stats.subscriptions >= 5)
        got: list = []
        for b in range(10, 20):
            sock.send_multipart(_batch("b", range(b * 10, b * 10 + 10)))

        def told() -> bool:
            got.extend(ev for k in feed.poll_kept(50) for ev in events_kept(k))
            return any(ev.kind == LOST for ev in got)

        wait_for(told, timeout=20)
        sock.close(linger=0)
    model = SwarmModel()
    model.apply_many(got)
    (late,) = [e for e in got if e.kind == LOST]
    assert late.data["late"] and (late.data["first"], late.seq) == (0, 99)
    assert len(got) - 1 + model.agents["b"].gaps == 200


@pytest.mark.parametrize("within, written", [(10.0, 2000), (0.0, 0)], ids=["in-time", "given-up"])
def test_a_stopping_reader_writes_what_it_took_in_or_says_it_lost_it(
    endpoints, monkeypatch, within, written
):
    """A recorder told to stop with messages in its intake and at its socket writes them, as long as
    `within` allows; the rest come as lost events in their place, never as nothing."""
    monkeypatch.setattr(hub_module, "LEDGER_S", 3600)  # no ledger but the feed's baseline
    with Hub(*endpoints) as hub, Feed(hub.out_endpoint, intake=64 * 1024 * 1024) as feed:
        sock = _publisher(hub)
        wait_for(lambda: feed.poll_kept(20) == [] and feed.tally.whole)  # it is delivered to
        for b in range(20):
            sock.send_multipart(_batch("a", range(b * 100, b * 100 + 100)))
        wait_for(lambda: feed.intake.put_count >= 20)  # taken in, not yet read by anyone
        events = [e for kept in feed.last_kept(within) for k in kept for e in events_kept(k)]
        sock.close(linger=0)
    lost = [e for e in events if e.kind == LOST]
    assert len(events) - len(lost) == written
    assert sum(e.data["events"] for e in lost) == 2000 - written
    assert feed.intake.given_up == (0 if written else 20)


def test_an_intake_bounds_memory_for_a_flood_of_tiny_messages():
    """What a message costs is more than its frames: 100,000 tiny ones must not pass as 300 kB."""
    intake = Intake(100_000)
    for _ in range(100_000):
        intake.put([TOPIC_EVENTS, b"x"])
    assert intake.dropped_messages > 0
    held = 100_000 - intake.dropped_messages
    assert held * (len(TOPIC_EVENTS) + 1 + MESSAGE_BYTES) <= 100_000


def test_a_reader_counts_a_whole_ledger_once_its_last_part_has_come(endpoints):
    """What a stopping recorder waits for (recorder.LEDGER_WAIT_S): a whole ledger after the stop,
    which says any tail ZeroMQ dropped for it."""
    from swarmscope.core.hub.ledger import ledger_messages

    rows = [("a", 1, 5)]
    moved_only, whole = ledger_messages(rows, None, 7), ledger_messages(rows, 1, 7)
    with zmq.Context() as ctx, ctx.socket(zmq.PUB) as pub:
        pub.bind(endpoints[1])
        with Feed(endpoints[1], intake=1_000_000) as feed:

            def sent_and_taken(messages: list) -> bool:
                for frames in messages:
                    pub.send_multipart(frames)
                feed.poll_kept(20)
                return feed.stats.ledgers > 0

            wait_for(lambda: sent_and_taken(moved_only))  # the subscription is up
            assert feed.whole_ledgers == 0  # a ledger of the agents that moved only
            wait_for(lambda: sent_and_taken(whole) and feed.whole_ledgers >= 1)


def test_a_full_intake_keeps_room_for_the_hubs_ledger_but_not_without_bound():
    """A reader judges what it lost by the ledger: dropped while the reader is full, the ledger
    would leave the reader judging agents late. Anyone can send on its topic, so the room is
    bounded too."""
    from swarmscope.core.hub.intake import LEDGER_SPARE
    from swarmscope.core.hub.ledger import TOPIC_LEDGER

    intake = Intake(10_000)
    intake.put([TOPIC_EVENTS, b"x" * 9_000])
    intake.put([TOPIC_EVENTS, b"x" * 9_000])
    assert intake.dropped_messages == 1
    ledger = [TOPIC_LEDGER, b"y" * 1_000_000]
    for _ in range(LEDGER_SPARE // 1_000_000 + 5):
        intake.put(ledger)
    taken = intake.take(10**6, 0)
    # past the limit, as many as the spare room holds, then dropped as any message
    assert sum(i[0] == TOPIC_LEDGER for i in taken) == LEDGER_SPARE // 1_000_000
