"""A seeded, simulated swarm that behaves like a real one, for the demo, tests and benchmarks.

Agents of several roles take tasks, report progress, hand work to each
other, write state, and now and then stall (their heartbeats stop), fail with
a real traceback, restart as a new incarnation, and finish. Everything is
published through real Emitters, so the simulator exercises the SDK too.

Time is virtual: `Swarm.step()` runs the next scheduled action and sets the
clock every Emitter reads. A driver either paces steps against the wall
clock (the demo) or runs them as fast as it can against a fake clock (tests,
benchmarks): the same seed gives the same events either way.
"""

from __future__ import annotations

import heapq
import os
import random
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.sdk.emitter import Emitter

ROLES = ("planner", "researcher", "coder", "reviewer", "tester")
TASKS = {
    "planner": ("split the goal", "plan sprint", "re-plan after failure", "assign owners"),
    "researcher": ("fetch sources", "summarise papers", "survey APIs", "collect benchmarks"),
    "coder": ("write parser", "fix flaky test", "refactor storage", "add retry logic"),
    "reviewer": ("review patch", "check licences", "audit prompts", "approve merge"),
    "tester": ("run unit tests", "fuzz inputs", "load test", "verify fix"),
}
FAILURES = (
    (TimeoutError, "model call timed out after 30s"),
    (ConnectionError, "tool server refused the connection"),
    (ValueError, "could not parse the model's JSON answer"),
    (LookupError, "no citations in the answer"),
    (RuntimeError, "context window exceeded (131072 tokens)"),
)
NS = 1_000_000_000
_EVENTS_PER_STEP = 1.6
"""Events one work step emits on average (measured), to turn a target rate into step delays."""
BASE_TS = 1_767_225_600 * NS
"""2026-01-01T00:00:00Z: the fixed start of a simulated run on a fake clock."""


@dataclass(frozen=True)
class SimConfig:
    agents: int = 12
    rate: float = 200.0
    """Target events per second across the whole swarm (virtual time)."""
    seed: int = 7
    heartbeat: float = 2.0
    """Announced heartbeat interval in seconds."""
    fail_every: float = 60.0
    """Mean seconds between failures of one agent (it errors, fails, restarts later)."""
    stall_every: float = 90.0
    """Mean seconds between stalls of one agent (it goes silent for a few intervals)."""
    tasks_per_run: tuple[int, int] = (4, 12)


class MemorySink:
    """Stands where a Publisher stands and keeps the events in a list (for sessions and benches)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.dropped = 0

    def put(self, item: tuple, urgent: bool = False) -> None:
        self.events.append(Event(*item))

    def add_ticker(self, tick: Callable[[float], None]) -> None:
        """The simulator beats for its agents itself; nothing to tick."""


class _Agent:
    """One simulated agent: its emitter, its mood, and its life as a generator of delays."""

    def __init__(self, swarm: Swarm, index: int) -> None:
        self.swarm = swarm
        self.index = index
        self.id = f"{ROLES[index % len(ROLES)]}-{index:0{swarm.id_width}d}"
        self.role = ROLES[index % len(ROLES)]
        self.rng = random.Random(swarm.cfg.seed * 1_000_003 + index)
        self.silent = False
        self.em = self._incarnate()

    def _incarnate(self) -> Emitter:
        cfg = self.swarm.cfg
        return Emitter(
            self.id,
            role=self.role,
            agent_type="llm-agent",
            tags={"run": f"sim-{cfg.seed}"},
            heartbeat=cfg.heartbeat,
            auto_heartbeat=False,
            clock=self.swarm.clock,
            publisher=self.swarm.publisher,
            incarnation=self.rng.getrandbits(62),
            host=f"sim-node-{self.index % 4}",
            pid=self.rng.randrange(1000, 60000),
        )

    def beats(self) -> Generator[float, None, None]:
        """Heartbeats at the announced interval, except while silent."""
        interval = self.swarm.cfg.heartbeat
        yield self.rng.uniform(0, interval)
        while True:
            if not self.silent:
                self.em.heartbeat(
                    cpu=round(self.rng.uniform(2, 95), 1), rss=self.rng.randrange(80, 900) << 20
                )
            yield interval

    def life(self) -> Generator[float, None, None]:
        """Runs of tasks, separated by restarts; never ends (the driver decides when to stop)."""
        while True:
            yield from self._run()
            self.em = self._incarnate()

    def _step(self) -> float:
        return self.rng.expovariate(1.0) * self.swarm.step_mean

    def _run(self) -> Generator[float, None, None]:
        em, rng, cfg = self.em, self.rng, self.swarm.cfg
        em.status("idle")
        yield self._step()
        memory: list[str] = []
        for n in range(rng.randint(*cfg.tasks_per_run)):
            task_id = f"{self.id}/t{n}-{rng.randrange(1 << 16):04x}"
            name = rng.choice(TASKS[self.role])
            em.status("running")
            em.task_start(task_id, name)
            steps = rng.randint(3, 10)
            for i in range(1, steps + 1):
                delay = self._step()
                if rng.random() < delay / cfg.fail_every:
                    yield from self._fail(task_id)
                    return
                yield from self._work(task_id, i, steps, memory, delay)
            em.task_end(task_id, "ok", tokens=rng.randrange(500, 9000))
            memory = (memory + [f"did {name}"])[-5:]
            em.patch({"memory": memory, "last_task": name})
            self._hand_off(task_id, name)
            yield self._step()
        em.status("done")
        em.close("done")
        yield rng.uniform(5, 20) * self.swarm.step_mean

    def _work(
        self, task_id: str, i: int, steps: int, memory: list[str], delay: float
    ) -> Generator[float, None, None]:
        em, rng = self.em, self.rng
        em.progress(
            n=i,
            total=steps,
            task=task_id,
            message=f"step {i} of {steps}",
            blockers=["waiting for review"] if rng.random() < 0.05 else None,
        )
        roll = rng.random()
        if roll < 0.25:
            em.patch({"context_tokens": rng.randrange(1_000, 120_000), "step": i})
        elif roll < 0.45:
            em.log(
                rng.choice(("info", "info", "debug", "warning")), f"{task_id}: step {i} ok", step=i
            )
        elif roll < 0.55:
            em.metric("tokens", rng.randrange(100, 4000), model="sim-large")
        elif roll < 0.62:
            em.state(
                {
                    "plan": f"finish {task_id}",
                    "memory": memory,
                    "step": i,
                    "context_tokens": rng.randrange(1_000, 120_000),
                }
            )
        elif roll < 0.66:
            em.checkpoint(f"{task_id}@{i}")
        elif roll < 0.72:
            em.message(
                self.swarm.peer(self, rng),
                topic="question",
                summary=f"need input on {task_id}",
                size=rng.randrange(200, 4000),
            )
        if rng.random() < delay / self.swarm.cfg.stall_every:
            yield from self._stall()
        yield delay

    def _stall(self) -> Generator[float, None, None]:
        """Go silent for 1.5x to 4x the interval: DEGRADED, CRITICAL, sometimes FAILED, then
        back."""
        self.silent = True
        yield self.rng.uniform(1.5, 4.0) * self.swarm.cfg.heartbeat
        self.silent = False
        self.em.log("warning", "recovered after a stall")

    def _fail(self, task_id: str) -> Generator[float, None, None]:
        exc_type, message = self.rng.choice(FAILURES)
        try:
            _call_tool(exc_type, message)
        except Exception as exc:
            self.em.error(exc, task=task_id, traceback=_portable_traceback(exc))
        self.em.task_end(task_id, "failed")
        self.em.status("failed")
        yield self.rng.uniform(2, 6) * self.swarm.cfg.heartbeat
        self.em.close("failed")

    def _hand_off(self, task_id: str, name: str) -> None:
        nxt = ROLES[(ROLES.index(self.role) + 1) % len(ROLES)]
        self.em.message(
            self.swarm.peer(self, self.rng, nxt),
            topic="handoff",
            summary=f"{name}: results of {task_id}",
            size=self.rng.randrange(500, 20_000),
        )


def _portable_traceback(exc: Exception) -> str:
    """The traceback with this package's folder cut from its paths: a seeded run is the same bytes
    wherever swarmscope is installed (snapshots and session sizes depend on it)."""
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    return "".join(traceback.format_exception(exc)).replace(here, "swarmscope/core/")


def _call_tool(exc_type: type[Exception], message: str) -> None:
    """A real raise from a real frame, so tracebacks in the demo look like the real thing."""

    def parse_answer() -> None:
        raise exc_type(message)

    parse_answer()


class Swarm:
    """The simulated swarm: a heap of agents' next actions on a virtual clock."""

    def __init__(self, cfg: SimConfig, publisher: Any, start_ns: int = BASE_TS) -> None:
        """`publisher` is a core Publisher (real sockets) or a MemorySink."""
        self.cfg = cfg
        self.publisher = publisher
        self.start_ns = start_ns
        self.now_ns = start_ns
        self.step_mean = max(cfg.agents, 1) / max(cfg.rate, 1e-3) * _EVENTS_PER_STEP
        self.id_width = max(2, len(str(cfg.agents - 1)))
        self._rng = random.Random(cfg.seed)
        self._heap: list[tuple[int, int, Iterator[float]]] = []
        self.agents = [_Agent(self, i) for i in range(cfg.agents)]
        self._by_role = {r: [a.id for a in self.agents if a.role == r] for r in ROLES}
        for i, agent in enumerate(self.agents):
            self._schedule(2 * i, agent.life(), 0.0)
            self._schedule(2 * i + 1, agent.beats(), 0.0)

    def clock(self) -> int:
        """The virtual time every simulated Emitter stamps its events with."""
        return self.now_ns

    def peer(self, me: _Agent, rng: random.Random, role: str | None = None) -> str:
        pool = self._by_role.get(role or rng.choice(ROLES)) or [a.id for a in self.agents]
        choice = rng.choice(pool)
        return (
            choice
            if choice != me.id or len(self.agents) == 1
            else rng.choice([a.id for a in self.agents if a is not me])
        )

    def _schedule(self, key: int, proc: Iterator[float], delay: float) -> None:
        heapq.heappush(self._heap, (self.now_ns + int(delay * NS), key, proc))

    def next_time(self) -> int:
        """Virtual time of the next action."""
        return self._heap[0][0]

    def step(self) -> None:
        """Run the next action and schedule its process again."""
        at, key, proc = heapq.heappop(self._heap)
        self.now_ns = max(self.now_ns, at)
        delay = next(proc)
        self._schedule(key, proc, delay)

    def run_until(self, t_ns: int) -> None:
        """Every action up to virtual time `t_ns`."""
        while self._heap[0][0] <= t_ns:
            self.step()

    def close(self) -> None:
        """Every agent says bye, as a swarm being shut down would."""
        for agent in self.agents:
            agent.em.close("done")


def simulate(cfg: SimConfig, events: int) -> list[Event]:
    """The first `events` events of a seeded run on a fake clock, without any socket."""
    return [ev for chunk in simulated(cfg, events) for ev in chunk]


def simulated(cfg: SimConfig, events: int, chunk: int = 100_000) -> Iterator[list[Event]]:
    """The same events, `chunk` at a time: a run of any length in bounded memory (the scale
    bench's 10,000,000-event session)."""
    sink = MemorySink()
    swarm = Swarm(cfg, sink)
    while events > 0:
        want = min(chunk, events)
        while len(sink.events) < want:
            swarm.step()
        out, sink.events = sink.events[:want], sink.events[want:]
        events -= want
        yield out


def run_paced(
    swarm: Swarm, stop: Callable[[], bool], duration: float | None = None, tick: float = 0.01
) -> None:
    """Drive `swarm` against the wall clock (virtual time = elapsed real time) until stop() or
    duration."""
    t0 = time.monotonic()
    while not stop():
        elapsed = time.monotonic() - t0
        if duration is not None and elapsed >= duration:
            break
        swarm.run_until(swarm.start_ns + int(elapsed * NS))
        time.sleep(tick)
