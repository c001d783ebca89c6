"""The model's one field list (core/model/fields.py): it names every field the model and its views
have, and every field travels every path a model leaves itself by.

A field added to SwarmModel or a view and not to the tables fails the first tests, by name. Once
in the tables, the paths are derived from them, and the rest send a model with every field set
through each path: a field that `busy_model` leaves at its default fails `test_every_field_is_set`,
so the check cannot pass by comparing two empty values.
"""

import pickle
from dataclasses import fields

import msgpack
import pytest

from swarmscope.core.events import Event
from swarmscope.core.live.process import PUSH_LINKS, _sent, _taken
from swarmscope.core.live.sim import SimConfig, simulate
from swarmscope.core.model import swarm
from swarmscope.core.model.fields import MODEL_FIELDS, PUSHED, VIEW_FIELDS, Push
from swarmscope.core.model.kinds import Derived, Local
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session.keyframes import carried_over

STORED = [f.name for f in MODEL_FIELDS if f.key is not None]
SNAPSHOT = [f.name for f in MODEL_FIELDS if f.snap is not None]
DERIVED = [f.name for f in MODEL_FIELDS if isinstance(f.kind, Derived)]
LOCAL = {f.name for f in MODEL_FIELDS if isinstance(f.kind, Local)}


def busy_model() -> SwarmModel:
    """A simulated run with failures, then what a run of one never shows: a gap, a restart, an
    event out of order and one the model refuses."""
    m = SwarmModel()
    m.apply_many(simulate(SimConfig(agents=6, rate=400, seed=5, fail_every=5.0), 4_000))
    t = m.now + 1
    m.apply(Event(t, "extra", 0, "hello", {"role": "coder"}, 1))
    m.apply(Event(t, "extra", 3, "heartbeat", {}, 1))  # seqs 1 and 2 never came: a gap
    m.apply(Event(t, "extra", 2, "heartbeat", {}, 1))  # ...then one came late
    m.apply(Event(t, "extra", 0, "hello", {"role": "coder"}, 2))  # a new incarnation
    with pytest.MonkeyPatch.context() as limit:
        limit.setattr(swarm, "MAX_AGENTS", len(m.agents))
        m.apply(Event(t, "one-too-many", 0, "hello", {}, 1))  # refused
    return m


@pytest.fixture(scope="module")
def busy() -> SwarmModel:
    return busy_model()


def test_the_table_names_every_field_of_the_model():
    assert sorted(f.name for f in MODEL_FIELDS) == sorted(vars(SwarmModel())), (
        "SwarmModel.__init__ and MODEL_FIELDS (core/model/fields.py) must name the same fields"
    )


@pytest.mark.parametrize("table", VIEW_FIELDS, ids=lambda t: t.view.__name__)
def test_the_tables_name_every_field_of_each_view(table):
    named = table.shared + table.owned + table.counted
    assert sorted(named) == sorted(f.name for f in fields(table.view))
    assert len(set(named)) == len(named), "a field named twice"


def test_every_field_is_set(busy):
    fresh = SwarmModel()
    unset = [
        f.name
        for f in MODEL_FIELDS
        if f.name not in LOCAL and getattr(busy, f.name) == getattr(fresh, f.name)
    ]
    assert unset == [], "make busy_model() set these, so the tests below check them"


def same_fields(a: SwarmModel, b: SwarmModel, names: list[str]) -> list[str]:
    """The names among `names` whose values differ between `a` and `b`."""
    return [n for n in names if getattr(a, n) != getattr(b, n)]


def test_compact_rows_through_msgpack_give_every_stored_field_back(busy):
    rows = msgpack.unpackb(msgpack.packb(busy.compact()), strict_map_key=False)
    back = SwarmModel.from_compact(rows)
    assert same_fields(busy, back, STORED + DERIVED) == []


def test_a_snapshot_gives_every_field_it_names_back(busy):
    back = SwarmModel.restore(msgpack.unpackb(msgpack.packb(busy.snapshot())))
    assert same_fields(busy, back, SNAPSHOT + DERIVED) == []


def test_a_copy_has_every_field_and_owns_what_the_model_changes_in_place(busy):
    twin = busy.copy()
    assert same_fields(busy, twin, [f.name for f in MODEL_FIELDS if f.name not in LOCAL]) == []
    for table in VIEW_FIELDS:
        for name in table.owned:
            pairs = zip(busy.agents.values(), twin.agents.values())
            assert all(getattr(a, name) is not getattr(b, name) for a, b in pairs)


def test_a_continued_session_keeps_what_the_swarm_is_and_restarts_what_it_counts(busy):
    fresh, carried = SwarmModel(), carried_over(busy)
    counted = [f.name for f in MODEL_FIELDS if f.counted]
    kept = [f.name for f in MODEL_FIELDS if not f.counted and f.name not in LOCAL]
    assert same_fields(fresh, carried, counted) == []
    assert same_fields(busy, carried, ["now", "_done", "_failed"]) == []
    assert list(carried.agents) == list(busy.agents) and kept
    agent_table = VIEW_FIELDS[0]
    for a, b in zip(busy.agents.values(), carried.agents.values()):
        assert all(getattr(b, n) == agent_table.defaults[n] for n in agent_table.counted)
        assert all(getattr(a, n) == getattr(b, n) for n in agent_table.shared)


def test_the_live_process_sends_every_field_a_screen_reads(busy):
    screen = SwarmModel()
    for f in PUSHED:
        sent = pickle.loads(pickle.dumps(_sent(f, getattr(busy, f.name), {})))
        taken = _taken(f, getattr(screen, f.name), getattr(SwarmModel(), f.name), sent)
        setattr(screen, f.name, taken)
    whole = [f.name for f in PUSHED if f.push in (Push.WHOLE, Push.CHANGED, Push.NEWEST)]
    assert same_fields(busy, screen, whole) == []
    running = [t for t in busy.tasks.values() if t.result is None]
    in_view = running + [t for t in busy.tasks.values() if t.result not in (None, "ok")]
    assert list(screen.tasks.values()) == in_view and in_view


def test_only_bookkeeping_stays_in_the_child():
    """What the model shows is public; a public field the child kept would be stale on screen."""
    kept = [f.name for f in MODEL_FIELDS if f.push is Push.NOT]
    assert [n for n in kept if not n.startswith("_") and n not in DERIVED] == []


def test_a_second_push_sends_only_the_agents_that_moved(busy):
    agents = next(f for f in PUSHED if f.name == "agents")
    sent_at: dict[str, int] = {}
    assert len(_sent(agents, busy.agents, sent_at)) == len(busy.agents)
    assert _sent(agents, busy.agents, sent_at) == {}


def test_a_push_sends_the_pairs_that_talked_since_the_last_and_the_screen_keeps_the_newest(busy):
    links = next(f for f in PUSHED if f.name == "links")
    sent_at: dict = {}
    screen = _taken(links, {}, {}, pickle.loads(pickle.dumps(_sent(links, busy.links, sent_at))))
    assert _sent(links, busy.links, sent_at) == [] and len(busy.links) > 1
    oldest = next(iter(busy.links))  # talks again: the model moves it to the newest end
    link = busy.links.pop(oldest)
    link.count, link.last = link.count + 1, link.last + 1
    busy.links[oldest] = link
    [(key, sent)] = _sent(links, busy.links, sent_at)
    assert key == oldest and sent.count == link.count
    screen = _taken(links, screen, {}, [(key, sent)])
    assert list(screen) == list(busy.links)[-PUSH_LINKS:]
    assert [(v.count, v.last) for v in screen.values()] == [
        (v.count, v.last) for v in list(busy.links.values())[-PUSH_LINKS:]
    ]
