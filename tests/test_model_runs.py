"""Runs of progress events fold as their last says, exactly as event by event, whatever is in
them."""

import random

import pytest
from helpers import exact_state

from swarmscope.core.events import Event
from swarmscope.core.model.reducers import HANDLERS
from swarmscope.core.model.swarm import SwarmModel

S = 1_000_000_000
FRACTIONS = (0.25, 0.5, 1, 2.5, -1.0, None, "half", True, float("nan"))
MESSAGES = ("reading", "writing", None, 7)
TASKS = ("t1", "t1", "t2", None, "", ["t1"])
BLOCKERS = ([], ["review"], "none")
COUNTS = (0, 3, 8, 2.5, None, "three")


def _progress_stream(seed: int, n: int = 6_000) -> list[Event]:
    """Agents reporting progress in runs (a fraction, or n of total), some uniform and some with one
    field varying, with tasks started and ended (by the same agent or another, on a shared id) in
    between."""
    rng = random.Random(seed)
    seqs: dict[str, int] = {}
    out: list[Event] = []

    def add(agent: str, kind: str, **data: object) -> None:
        seqs[agent] = seqs.get(agent, -1) + 1
        out.append(Event(len(out) * S // 100, agent, seqs[agent], kind, data, 1))

    while len(out) < n:
        agent = rng.choice("abcd")
        roll = rng.random()
        if roll < 0.1:
            add(agent, "task_start", task=rng.choice(("t1", "t2")), name="work")
        elif roll < 0.15:
            add(
                agent,
                "task_end",
                task=rng.choice(("t1", "t2")),
                result=rng.choice(("ok", "failed")),
            )
        elif roll < 0.2:
            add(
                agent, rng.choice(("hello", "heartbeat", "status")), status="running", heartbeat=2.0
            )
        else:  # what an agent in a loop sends, uniform or with one field varying
            counted = rng.random() < 0.3  # n of total, without a fraction (an agent not on our SDK)
            fields = {
                "fraction": (None if counted else rng.random(),),
                "message": (rng.choice(MESSAGES),),
                "task": (rng.choice(TASKS),),
                "blockers": ([],),
                "n": (rng.randrange(9),),
                "total": (8,),
            }
            varying = rng.choice((None, *fields))
            if varying is not None:
                fields[varying] = {
                    "fraction": FRACTIONS,
                    "message": MESSAGES,
                    "task": TASKS,
                    "blockers": BLOCKERS,
                    "n": COUNTS,
                    "total": COUNTS,
                }[varying]
            for _ in range(rng.randrange(1, 40)):
                add(
                    agent,
                    "progress",
                    **{name: rng.choice(values) for name, values in fields.items()},
                )
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("chunk", [None, 3, 17, 64, 1024])
def test_progress_runs_fold_as_event_by_event(seed, chunk):
    events = _progress_stream(seed)
    one_by_one, batched = SwarmModel(), SwarmModel()
    step = chunk or len(events)
    for k in range(0, len(events), step):
        batch = events[k : k + step]
        for e in batch:
            one_by_one.apply(e)
        batched.apply_many(batch)
        assert exact_state(batched) == exact_state(one_by_one), f"after event {k + len(batch) - 1}"


def test_an_agent_in_a_loop_costs_two_progress_folds_per_batch(monkeypatch):
    calls = []
    rule = HANDLERS["progress"]
    monkeypatch.setitem(HANDLERS, "progress", lambda *args: calls.append(1) or rule(*args))
    m = SwarmModel()
    m.apply_many(
        [
            Event(i, "a", i, "progress", {"fraction": i / 500, "task": "t", "message": f"{i}"}, 1)
            for i in range(500)
        ]
    )
    assert len(calls) == 2
    assert (m.agents["a"].progress, m.agents["a"].progress_msg, m.agents["a"].first_seen) == (
        499 / 500,
        "499",
        0,
    )
