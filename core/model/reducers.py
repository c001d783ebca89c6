"""How each kind of event changes an agent, its tasks and its links: one method per kind.

A mixin of SwarmModel, apart from the folding and snapshot machinery in
model.py, so each rule reads on its own. Fields come from the network and
are untrusted: a wrong type is ignored (as_str / as_num), never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any

from swarmscope.core.events import series
from swarmscope.core.model.patch import merge_patch, weight
from swarmscope.core.model.views import AgentView, LinkView, TaskView

MAX_DONE_TASKS = 100
"""Tasks finished ok that the model keeps, newest first. No screen lists them (the tasks panel
shows tasks in flight and failed ones), and every keyframe and model copy carries them: at
2,000 they were three quarters of a keyframe and of its restore time."""
MAX_FAILED_TASKS = 100
"""Tasks that failed or were cancelled that the model keeps, so they stay in view."""
MAX_TASKS = 10_000
"""Tasks the model holds, running ones included: past it, the oldest running task is forgotten
(an agent that starts tasks and never ends them must not grow every viewer's memory)."""
MAX_LINKS = 20_000
"""Pairs of agents that talked, most recent kept: a thousand agents could make a million pairs."""
MAX_METRICS_PER_AGENT = 64
"""Series per agent (a name and its labels, see events.series); values of more are not kept."""
MAX_NAME = 256
"""Characters kept of a name the model holds (a role, a task id, a topic, a status): past it,
cut."""
MAX_TEXT = 1000
"""Characters kept of a text the model holds (a progress or error message); the event keeps it
all."""
MAX_BLOCKERS = 32
MAX_TAGS = 256
"""What an agent's tags may weigh (patch.weight) for the model to keep them."""
MAX_STATE_ITEMS = 20_000
"""What one agent's state may weigh (patch.weight): past it, the model keeps a note instead (the
events still hold every state and patch, for the event log, exports and files)."""
MAX_STATE_TOTAL = 2_000_000
"""What all agents' states may weigh together (a few hundred MB): the bound on a model's memory,
whatever a swarm or a hostile sender puts in states."""
NOT_KEPT = "(not kept)"


def as_str(value: Any, default: str | None = None, limit: int = MAX_NAME) -> str | None:
    """A text field as the model keeps it: cut past `limit` characters (with an ellipsis)."""
    if not isinstance(value, str):
        return default
    return value if len(value) <= limit else value[: limit - 1] + "…"


def as_num(value: Any, default: float | None = None) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def from_counts(d: dict) -> float | None:
    """A progress's fraction from its n and total, for one that gives no fraction (the SDK derives
    it before sending; another agent may send n of total alone)."""
    n, total = as_num(d.get("n")), as_num(d.get("total"))
    return n / total if n is not None and total else None


class KindReducers:
    """The `_on_<kind>` rules; SwarmModel supplies tasks, links, _done, _failed, _shared and
    recent_errors."""

    def _on_hello(self, a: AgentView, d: dict, ts: int) -> None:
        a.role = as_str(d.get("role"), a.role)
        a.type = as_str(d.get("type"), a.type)
        a.host = as_str(d.get("host"), a.host)
        pid = d.get("pid")
        a.pid = pid if type(pid) is int else a.pid
        tags = d.get("tags", a.tags)
        a.tags = (
            tags
            if weight(tags, MAX_TAGS) <= MAX_TAGS
            else {NOT_KEPT: f"tags weighing over {MAX_TAGS}"}
        )
        interval = as_num(d.get("heartbeat"))
        if interval and interval > 0:
            a.interval = float(interval)
        a.status, a.said_bye = "starting", False
        a.task = a.task_name = a.failed_task = a.progress = None
        self._abandon(a, ts)  # a (re)started agent runs none of what it ran before

    def _on_bye(self, a: AgentView, d: dict, ts: int) -> None:
        a.said_bye = True
        a.status = as_str(d.get("status"), "done")
        if a.running:
            if a.status == "failed" and a.task is not None:
                a.failed_task = a.task_name  # it went with its task unfinished
            a.task = a.task_name = None
            self._abandon(a, ts)

    def _abandon(self, a: AgentView, ts: int) -> None:
        """End the tasks `a` left running, as "abandoned": it said bye, or started again (a crash,
        a restart), without ending them. They join the failed ones, which stay in view."""
        for task_id in a.running:
            task = self.tasks.get(task_id)
            if task is not None and task.result is None:
                task = self._own_task(task_id) if task_id in self._shared else task
                task.ended, task.result = ts, "abandoned"
                self._forget_old_tasks(task_id, False)
        a.running = []

    def _on_status(self, a: AgentView, d: dict, ts: int) -> None:
        a.status = as_str(d.get("status"), a.status)

    def _on_progress(self, a: AgentView, d: dict, ts: int) -> None:
        # The most frequent kind: type checks are inlined here, with the same rules as as_num and
        # as_str.
        frac = d.get("fraction")
        if not (type(frac) is float or as_num(frac) is not None):
            frac = from_counts(d)
        if frac is not None:
            f = float(frac)
            # the clamp also maps NaN, -0.0 to 0.0
            a.progress = f if 0.0 < f <= 1.0 else min(1.0, max(0.0, f))
        message = d.get("message")
        if isinstance(message, str):
            a.progress_msg = (
                message if len(message) <= MAX_TEXT else as_str(message, None, MAX_TEXT)
            )
        blockers = d.get("blockers")
        a.blockers = (
            (blockers if not blockers or _few_names(blockers) else _names(blockers))
            if isinstance(blockers, list)
            else []
        )
        task_id = d.get("task")
        if not task_id or not isinstance(task_id, str):
            task_id = a.task or ""
        task = self.tasks.get(task_id)
        if task is not None:
            if task_id in self._shared:
                task = self._own_task(task_id)
            task.progress, task.message, task.blockers = a.progress, a.progress_msg, a.blockers

    def _on_task_start(self, a: AgentView, d: dict, ts: int) -> None:
        task_id = as_str(d.get("task"))
        if task_id is None:
            return
        a.task, a.task_name, a.progress, a.progress_msg = (
            task_id,
            as_str(d.get("name"), task_id),
            0.0,
            None,
        )
        a.failed_task = None
        before = self.tasks.get(task_id)
        if before is not None and before.result is None and before.agent != a.id:
            self._not_running(before.agent, task_id)  # taken over by another agent
        self.tasks[task_id] = TaskView(task_id, a.id, a.task_name or task_id, ts)
        self._shared.discard(task_id)
        self.tasks.move_to_end(task_id)
        if task_id not in a.running:
            a.running = [*a.running, task_id]
        oldest = (
            next((t for t in self.tasks.values() if t.result is None), None)
            if len(self.tasks) > MAX_TASKS
            else None
        )
        if oldest is not None:
            del self.tasks[oldest.id]
            self._shared.discard(oldest.id)
            self._not_running(oldest.agent, oldest.id)

    def _not_running(self, agent_id: str, task_id: str) -> None:
        owner = self.agents.get(agent_id)
        if owner is not None and task_id in owner.running:
            owner.running = [t for t in owner.running if t != task_id]

    def _on_task_end(self, a: AgentView, d: dict, ts: int) -> None:
        task_id = as_str(d.get("task"))
        result = as_str(d.get("result"), "ok")
        if result == "ok":
            a.tasks_ok += 1
        else:
            a.tasks_failed += 1
        if a.task == task_id:
            if result == "failed":
                a.failed_task = a.task_name  # its progress stays where it failed
            a.task = a.task_name = None
            a.progress = 1.0 if result == "ok" else a.progress
        task = self.tasks.get(task_id or "")
        self._not_running(task.agent if task is not None else a.id, task_id or "")
        if task is not None:
            if task.id in self._shared:
                task = self._own_task(task.id)
            task.ended, task.result = ts, result
            tokens = d.get("tokens")
            task.tokens = tokens if type(tokens) is int else task.tokens
            if result == "ok":
                task.progress = 1.0
            self._forget_old_tasks(task.id, result == "ok")

    def _forget_old_tasks(self, finished: str, ok: bool) -> None:
        """Keep every running task, the newest MAX_DONE_TASKS finished ok and MAX_FAILED_TASKS
        not."""
        kept, limit = (self._done, MAX_DONE_TASKS) if ok else (self._failed, MAX_FAILED_TASKS)
        kept.append(finished)
        while len(kept) > limit:
            old = self.tasks.get(kept.popleft())
            if old is not None and old.result is not None and (old.result == "ok") == ok:
                del self.tasks[old.id]
                self._shared.discard(old.id)

    def _own_task(self, task_id: str) -> TaskView:
        """A private copy of a shared TaskView, in its place (the order of tasks is kept)."""
        task = self.tasks[task_id] = replace(self.tasks[task_id])
        self._shared.discard(task_id)
        return task

    def _on_heartbeat(self, a: AgentView, d: dict, ts: int) -> None:
        a.cpu = as_num(d.get("cpu"), a.cpu)
        rss = d.get("rss")
        a.rss = rss if type(rss) is int else a.rss
        handles = d.get("handles")
        a.handles = handles if type(handles) is int else a.handles

    def _on_message(self, a: AgentView, d: dict, ts: int) -> None:
        to = as_str(d.get("to"))
        if to is None:
            return
        links, key = self.links, (a.id, to)
        link = links.pop(key, None)
        if link is None:
            link = LinkView()
            if len(links) >= MAX_LINKS:
                del links[next(iter(links))]  # the pair quiet for longest goes
        links[key] = link  # re-inserted: the dict's order is recency
        link.count += 1
        size = d.get("size")
        link.bytes += size if type(size) is int else 0
        link.topic, link.last = as_str(d.get("topic"), link.topic), ts
        a.msgs_out += 1
        target = self.agents.get(to)
        if target is not None:
            target.msgs_in += 1

    def _on_state(self, a: AgentView, d: dict, ts: int) -> None:
        state = d.get("state")
        if isinstance(state, dict):
            self._keep_state(a, state, weight(state, MAX_STATE_ITEMS))

    def _on_patch(self, a: AgentView, d: dict, ts: int) -> None:
        delta = d.get("patch")
        if isinstance(delta, dict) and NOT_KEPT not in a.state:  # a state not kept takes no patches
            state = merge_patch(a.state, delta)
            # at most: a patch replaces as well as adds
            items = a.state_items + weight(delta, MAX_STATE_ITEMS)
            self._keep_state(
                a, state, items if items <= MAX_STATE_ITEMS else weight(state, MAX_STATE_ITEMS)
            )

    def _keep_state(self, a: AgentView, state: dict, items: int) -> None:
        """`state` as the agent's own, or a note saying why not (too big for it, or for the
        model)."""
        if items > MAX_STATE_ITEMS:
            state, items = (
                {NOT_KEPT: f"a state weighing over {MAX_STATE_ITEMS:,}; the events hold it"},
                0,
            )
        elif self.state_items - a.state_items + items > MAX_STATE_TOTAL:
            state, items = {NOT_KEPT: f"the model holds {MAX_STATE_TOTAL:,} of states already"}, 0
        self.state_items += items - a.state_items
        a.state, a.state_items = state, items

    def _on_checkpoint(self, a: AgentView, d: dict, ts: int) -> None:
        a.checkpoint = as_str(d.get("label"), a.checkpoint)

    def _on_error(self, a: AgentView, d: dict, ts: int) -> None:
        a.errors += 1
        a.last_error = {
            "ts": ts,
            "type": as_str(d.get("type"), "Error"),
            "message": as_str(d.get("message"), "", MAX_TEXT),
            "task": as_str(d.get("task")),
        }
        self.recent_errors.append({"agent": a.id, **a.last_error})

    def _on_metric(self, a: AgentView, d: dict, ts: int) -> None:
        name, value = as_str(d.get("name")), as_num(d.get("value"))
        if name is not None and value is not None:
            name = series(name, d.get("labels"))
            if name in a.metrics or len(a.metrics) < MAX_METRICS_PER_AGENT:
                a.metrics[name] = value


def _few_names(blockers: list) -> bool:
    return len(blockers) <= MAX_BLOCKERS and all(
        type(b) is str and len(b) <= MAX_NAME for b in blockers
    )


def _names(blockers: list) -> list:
    """Blockers as the model keeps them: the first MAX_BLOCKERS, each a name of at most MAX_NAME."""
    return [as_str(b, None) or str(b)[:MAX_NAME] for b in blockers[:MAX_BLOCKERS]]


def without_superseded(batch: Sequence) -> Sequence:
    """The batch less the progress events that change nothing the next one does not overwrite.

    An agent reporting progress in a loop sends runs of progress events; of a run, the model
    keeps what the last says. Folding only the first (which may bring the agent into the model,
    seen first then) and the last is exact when every event of the run names the same task and
    the type of each field it reads does not vary: whether `_on_progress` takes a fraction or a
    message depends on its type alone, and blockers are always replaced. Anything else in the
    run, and any other kind, is folded event by event.
    """
    if not _in_runs(batch):
        return batch
    needed: list = []
    for (_, kind), run in groupby(batch, _AGENT_AND_KIND):
        run = list(run)
        if kind == "progress" and len(run) > 2 and _last_says_it_all(list(map(_DATA, run))):
            needed += run[0], run[-1]
        else:
            needed.extend(run)
    return needed


_AGENT_AND_KIND = itemgetter(1, 3)
_DATA = itemgetter(4)
_PROBES = 8


def _in_runs(batch: Sequence) -> bool:
    """Whether most neighbours share agent and kind (one agent's messages, in a row) rather than
    interleave (a simulator's agents sharing one socket). A guess from a few neighbouring
    pairs, which only picks the quicker of two exact ways to fold."""
    step = (len(batch) - 1) // _PROBES
    if step < 1:
        return False
    same = sum(
        _AGENT_AND_KIND(batch[i]) == _AGENT_AND_KIND(batch[i + 1])
        for i in range(0, step * _PROBES, step)
    )
    return same * 2 > _PROBES


def _last_says_it_all(datas: list[dict]) -> bool:
    """True when folding the last of these progress payloads leaves what folding all of them does.
    Without a numeric fraction, whether one comes from n and total is checked event by event
    (the SDK always sends a fraction, so its runs stay on the checks made in C)."""

    def one_type(values: Iterable) -> bool:
        return len(set(map(type, values))) == 1

    fractions = list(map(dict.get, datas, repeat("fraction")))
    try:
        same = (
            one_type(fractions)
            and one_type(map(dict.get, datas, repeat("message")))
            and len(set(map(dict.get, datas, repeat("task")))) == 1
        )
    except TypeError:  # a task id that is a list or a map: not one we can compare
        return False
    return same and (as_num(fractions[0]) is not None or one_type(map(from_counts, datas)))


HANDLERS: dict[str, Callable[[Any, AgentView, dict, int], None]] = {
    name[len("_on_") :]: fn for name, fn in vars(KindReducers).items() if name.startswith("_on_")
}
"""kind -> rule; a kind with none is still counted and kept."""
