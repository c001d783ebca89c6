"""What the model and the hub keep bounded: tasks left running (abandoned when their agent says bye
or starts again), kinds by name, agents the hub counts gaps for, states, texts, tags and labels."""

from helpers import exact_state

from swarmscope.core.events import MAX_LABELS_CHARS, Event
from swarmscope.core.hub import gaps as hub_gaps
from swarmscope.core.hub.hub import Hub
from swarmscope.core.model import reducers
from swarmscope.core.model.reducers import MAX_TASKS
from swarmscope.core.model.swarm import MAX_KINDS, OTHER_KINDS, SwarmModel
from swarmscope.core.wire.format import TOPIC_EVENTS, encode_batch


class Stream:
    """Events of several agents, each numbered in its own incarnation."""

    def __init__(self):
        self.events: list[Event] = []
        self.seqs: dict[str, int] = {}

    def __call__(self, agent, kind, inc=1, **data):
        seq = self.seqs[(agent, inc)] = self.seqs.get((agent, inc), -1) + 1
        self.events.append(
            Event(1_000_000_000 * (len(self.events) + 1), agent, seq, kind, data, inc)
        )
        return self


def folded(events):
    m = SwarmModel()
    m.apply_many(events)
    return m


def test_bye_abandons_what_the_agent_left_running_and_keeps_what_it_ended():
    s = Stream()
    s("a", "hello")("a", "task_start", task="t1")("a", "task_start", task="t2")(
        "a", "task_start", task="t3"
    )
    s("a", "task_end", task="t2", result="ok")("a", "bye", status="failed")
    m = folded(s.events)
    assert {t.id: t.result for t in m.tasks.values()} == {
        "t1": "abandoned",
        "t2": "ok",
        "t3": "abandoned",
    }
    assert m.tasks["t1"].ended == s.events[-1].ts and m.agents["a"].running == []
    # no task_end said it failed
    assert m.agents["a"].task is None and m.agents["a"].tasks_failed == 0


def test_a_restart_abandons_the_tasks_of_the_incarnation_before():
    s = Stream()
    s("a", "hello")("a", "task_start", task="t1")  # then killed: no bye
    s("a", "hello", inc=2)("a", "task_start", inc=2, task="t2")
    m = folded(s.events)
    assert m.tasks["t1"].result == "abandoned" and m.tasks["t2"].result is None
    assert m.agents["a"].running == ["t2"] and m.agents["a"].task == "t2"


def test_a_task_another_agent_took_over_is_not_abandoned_with_the_first():
    s = Stream()
    s("a", "hello")("b", "hello")("a", "task_start", task="t1")("b", "task_start", task="t1")(
        "a", "bye"
    )
    m = folded(s.events)
    assert m.tasks["t1"].result is None and m.tasks["t1"].agent == "b"
    assert m.agents["a"].running == [] and m.agents["b"].running == ["t1"]


def test_tasks_never_ended_stay_bounded_oldest_forgotten_first():
    s = Stream()
    s("a", "hello")
    for k in range(MAX_TASKS + 500):
        s("a", "task_start", task=f"t{k}")
    m = folded(s.events)
    assert len(m.tasks) == MAX_TASKS
    assert "t0" not in m.tasks and "t499" not in m.tasks and "t500" in m.tasks
    assert m.agents["a"].running == list(m.tasks)  # what it runs is exactly what the model holds


def test_folding_in_batches_or_one_by_one_gives_the_same_tasks():
    s = Stream()
    for agent in "abc":
        s(agent, "hello")
    for k in range(60):
        agent = "abc"[k % 3]
        s(agent, "task_start", task=f"{agent}{k}")
        if k % 4 == 0:
            s(agent, "task_end", task=f"{agent}{k}", result="ok")
        if k % 17 == 0:
            s(agent, "bye", status="failed")
            s(agent, "hello", inc=k + 2)
    one_by_one = SwarmModel()
    for ev in s.events:
        one_by_one.apply(ev)
    batched = SwarmModel()
    for k in range(0, len(s.events), 7):
        batched.apply_many(s.events[k : k + 7])
    assert exact_state(batched) == exact_state(one_by_one)
    assert any(t.result == "abandoned" for t in batched.tasks.values())
    restored = SwarmModel.from_compact(batched.compact())
    assert exact_state(restored) == exact_state(batched) and exact_state(
        batched.copy()
    ) == exact_state(batched)


def test_kinds_past_the_bound_count_together_and_errors_stay_errors():
    s = Stream()
    for k in range(MAX_KINDS + 300):
        s("a", f"custom-{k}")
        if k % 100 == 99:
            s("a", "error", type="E", message="boom")
    s("a", "checkpoint", label="first seen past the bound")
    one_by_one = SwarmModel()
    for ev in s.events:
        one_by_one.apply(ev)
    batched = folded(s.events)
    assert exact_state(batched) == exact_state(one_by_one)
    # kept by name
    assert len(batched.by_kind) == MAX_KINDS + 1 and batched.by_kind["checkpoint"] == 1
    assert batched.errors == (MAX_KINDS + 300) // 100
    custom_by_name = len(batched.by_kind) - 3  # less error, checkpoint and the other kinds
    assert batched.by_kind[OTHER_KINDS] == MAX_KINDS + 300 - custom_by_name
    assert sum(batched.by_kind.values()) == len(s.events)


def test_the_hub_remembers_a_bounded_number_of_agents(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_gaps, "MAX_AGENTS", 50)
    # never started: only its worker's counting
    hub = Hub(f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out")
    for k in range(80):
        hub._count(
            [TOPIC_EVENTS, encode_batch([Event(1, f"agent-{k}", s, "log", {}, 1) for s in (0, 5)])]
        )
    assert len(hub._gaps.seqs) == 50 and sum(hub.stats.gaps.values()) == 50 * 4
    assert hub.stats.decode.events == 160  # every event still counted as passed


def test_metric_series_differing_by_a_label_are_kept_apart_and_bounded():
    s = Stream()
    s("a", "metric", name="tokens", value=100, labels={"model": "large"})
    s("a", "metric", name="tokens", value=7, labels={"model": "small"})
    s("a", "metric", name="tokens", value=150, labels={"model": "large"})
    s("a", "metric", name="latency_ms", value=20, labels={})
    for k in range(100):
        s("a", "metric", name=f"m{k}", value=k)
    metrics = folded(s.events).agents["a"].metrics
    assert metrics["tokens{model=large}"] == 150 and metrics["tokens{model=small}"] == 7
    assert metrics["latency_ms"] == 20 and len(metrics) == 64


def test_an_agents_state_past_its_bound_is_a_note_and_takes_no_patches_until_a_state_fits(
    monkeypatch,
):
    monkeypatch.setattr(reducers, "MAX_STATE_ITEMS", 100)
    s = Stream()
    s("a", "state", state={"k": list(range(10))})("a", "patch", patch={"more": list(range(200))})
    s("a", "patch", patch={"x": 1})
    m = folded(s.events)
    a = m.agents["a"]
    assert list(a.state) == [reducers.NOT_KEPT] and "over 100" in a.state[reducers.NOT_KEPT]
    assert m.state_items == a.state_items == 0
    s("a", "state", state={"small": 1})("a", "patch", patch={"x": 2})
    a = folded(s.events).agents["a"]
    # a patch counts as if it only added
    assert a.state == {"small": 1, "x": 2} and a.state_items == 3 + 3


def test_patches_that_replace_keys_keep_a_state_that_stays_small(monkeypatch):
    """A patch is counted as if it only added; past the bound the state is weighed again, as it
    is."""
    monkeypatch.setattr(reducers, "MAX_STATE_ITEMS", 100)
    s = Stream()
    for i in range(500):
        s("a", "patch", patch={"step": i, "note": "x" * 10})
    a = folded(s.events).agents["a"]
    assert a.state == {"step": 499, "note": "x" * 10} and a.state_items <= 100


def test_all_states_together_stay_within_the_models_bound(monkeypatch):
    monkeypatch.setattr(reducers, "MAX_STATE_TOTAL", 1_000)
    s = Stream()
    for k in range(50):
        s(f"agent-{k}", "state", state={"memory": list(range(30))})
    m = folded(s.events)
    kept = [a for a in m.agents.values() if reducers.NOT_KEPT not in a.state]
    assert 25 <= len(kept) < 50 and m.state_items <= 1_000
    assert m.state_items == sum(a.state_items for a in m.agents.values())
    assert SwarmModel.from_compact(m.compact()).state_items == m.state_items == m.copy().state_items


def test_what_the_model_keeps_of_long_texts_names_tags_blockers_and_labels_is_bounded():
    s = Stream()
    huge = "x" * 100_000
    s("a", "hello", role=huge, tags={f"t{i}": huge for i in range(10)})
    s("a", "task_start", task=huge, name=huge)("a", "message", to=huge, topic=huge)
    s("a", "progress", fraction=0.5, message=huge, blockers=[huge] * 1000)
    s("a", "error", type=huge, message=huge)("a", "checkpoint", label=huge)
    s("a", "metric", name=huge, value=1, labels={f"l{i}": huge for i in range(1000)})
    m = folded(s.events)
    a = m.agents["a"]
    assert len(a.role) == reducers.MAX_NAME and a.role.endswith("…")
    assert list(a.tags) == [reducers.NOT_KEPT]
    assert len(a.progress_msg) == reducers.MAX_TEXT and len(a.blockers) == reducers.MAX_BLOCKERS
    assert all(len(b) <= reducers.MAX_NAME for b in a.blockers)
    assert len(a.task) == len(a.task_name) == reducers.MAX_NAME and all(
        len(t) <= reducers.MAX_NAME for t in m.tasks
    )
    assert all(
        len(to) <= reducers.MAX_NAME and len(link.topic) <= reducers.MAX_NAME
        for (_, to), link in m.links.items()
    )
    assert (
        len(a.last_error["type"]) == reducers.MAX_NAME
        and len(a.last_error["message"]) == reducers.MAX_TEXT
    )
    assert len(a.checkpoint) == reducers.MAX_NAME
    assert all(len(name) <= 2 * MAX_LABELS_CHARS + 2 for name in a.metrics)
