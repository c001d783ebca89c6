"""The Profile tab (7), live and in a replay, over a scripted swarm whose profile is known by
construction:

- beta (coder) runs "slow build" three times, 4 s each: 12 s in all;
- gamma (tester) runs "mid review" twice, 2 s and 3 s (the second fails), and is blocked 5 s;
- alpha (planner) runs "quick lookup" four times, 0.5 s each, and waits 2 s.

So the tasks rank slow build, mid review, quick lookup, and the agents gamma, alpha, beta.
"""

from pathlib import Path

import pytest
from helpers import tab_title
from replay_fixtures import replay_app
from session_helpers import Script
from tui_fixtures import frozen_app

from swarmscope.tui.widgets.event_log import EventLog
from swarmscope.tui.widgets.profile import AgentLine, PathLine, ProfileList, TaskLine

TASKS = {
    "slow build": ("beta", [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0)]),
    "mid review": ("gamma", [(1.0, 3.0), (4.0, 7.0)]),
    "quick lookup": ("alpha", [(0.0, 0.5), (1.0, 1.5), (2.0, 2.5), (3.0, 3.5)]),
}
ROLES = {"alpha": "planner", "beta": "coder", "gamma": "tester"}
PIN_AT = 4.5
"""A log line of alpha's, after the first slow build and quick lookups ended, while the second
mid review runs."""


def scripted() -> Script:
    plan: list[tuple[float, str, str, dict]] = []
    for agent, role in ROLES.items():
        plan += [(0.0, agent, "hello", {"role": role}), (15.0, agent, "bye", {"status": "done"})]
    for name, (agent, spans) in TASKS.items():
        for k, (start, end) in enumerate(spans):
            task = f"{agent}/{k}"
            result = "failed" if name == "mid review" and k == 1 else "ok"
            plan.append((start, agent, "task_start", {"task": task, "name": name}))
            plan.append((end, agent, "task_end", {"task": task, "result": result}))
    plan += [
        (0.0, "alpha", "status", {"status": "running"}),
        (0.0, "beta", "status", {"status": "running"}),
        (0.0, "gamma", "status", {"status": "running"}),
        (4.0, "alpha", "status", {"status": "waiting"}),
        (6.0, "alpha", "status", {"status": "running"}),
        (7.0, "gamma", "status", {"status": "blocked"}),
        (12.0, "gamma", "status", {"status": "running"}),
        (PIN_AT, "alpha", "log", {"level": "info", "message": "pin here"}),
        (9.5, "alpha", "message", {"to": "beta", "topic": "handoff"}),
    ]
    script = Script()
    for at, agent, kind, data in sorted(plan, key=lambda p: p[0]):
        script(agent, kind, at=at, **data)
    return script


SCRIPT = scripted()
EVENTS = SCRIPT.events
SLOW_STARTS = [
    i for i, e in enumerate(EVENTS) if e.kind == "task_start" and e.data["name"] == "slow build"
]
PIN = next(i for i, e in enumerate(EVENTS) if e.kind == "log")


@pytest.fixture(scope="module")
def session_path(tmp_path_factory) -> Path:
    return SCRIPT.write(tmp_path_factory.mktemp("profile") / "scripted.swarm")


def tasks(app) -> list[tuple[str, int | None, int]]:
    rows = app.screen.query_one(ProfileList).rows
    return [(r.name, r.count, r.failed) for r in rows if isinstance(r, TaskLine)]


def agents(app) -> list[str]:
    return [r.agent for r in app.screen.query_one(ProfileList).rows if isinstance(r, AgentLine)]


def shown_lines(app) -> list[str]:
    """What the Profile tab shows now, line by line, as plain text."""
    profile = app.screen.query_one(ProfileList)
    return [profile.render_line(y).text for y in range(profile.size.height)]


async def settle(app, pilot) -> None:
    """Wait out the workers: a fold's answer may start the next fold (bounded, not timed)."""
    for _ in range(50):
        if all(w.is_finished for w in app.workers):
            break
        await app.workers.wait_for_complete()
    await pilot.pause()


# -- live -------------------------------------------------------------------------------------


async def test_live_profile_ranks_tasks_by_total_time_and_agents_by_time_stuck():
    app = frozen_app(events=EVENTS)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert app.screen.query_one("#tabs").active == "tab-profile"
        assert tasks(app) == [("slow build", 3, 0), ("mid review", 2, 1), ("quick lookup", 4, 0)]
        assert agents(app) == ["gamma", "alpha", "beta"]
        rows = app.screen.query_one(ProfileList).rows
        slow = next(r for r in rows if isinstance(r, TaskLine))
        assert (slow.total_s, slow.p50_s, slow.max_s) == (12.0, 4.0, 4.0)
        gamma = next(r for r in rows if isinstance(r, AgentLine))
        assert (gamma.blocked_s, gamma.failed) == (5.0, 1)
        path = next(r for r in rows if isinstance(r, PathLine))
        assert path.steps[-1] == "beta:slow build"
        assert tab_title(app.screen, "tab-profile") == "Profile [7]"


async def test_enter_on_a_task_filters_the_event_log_to_its_starts():
    app = frozen_app(events=EVENTS)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("7", "enter")
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#tabs").active == "tab-log"
        assert screen.filters["log"].text == "task:slow build"
        log = screen.query_one(EventLog)
        assert log.has_focus
        assert [r.event.data.get("name") for r in log.rows] == ["slow build"] * 3


# -- replay -----------------------------------------------------------------------------------


async def test_replay_profile_covers_the_run_up_to_the_cursor(session_path):
    app = replay_app(session_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("7")
        await settle(app, pilot)
        assert tasks(app) == [("slow build", 3, 0), ("mid review", 2, 1), ("quick lookup", 4, 0)]
        assert agents(app) == ["gamma", "alpha", "beta"]
        await pilot.press("g", *str(PIN + 1), "enter", "7")  # back: folds afresh
        await settle(app, pilot)
        assert tasks(app) == [("slow build", 1, 0), ("mid review", 1, 0), ("quick lookup", 4, 0)]
        await pilot.press("end")  # forward: folds only what it adds
        await settle(app, pilot)
        assert tasks(app)[0] == ("slow build", 3, 0)


async def test_n_and_N_go_to_the_starts_of_the_selected_task(session_path):
    app = replay_app(session_path)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        await pilot.press("7")
        await settle(app, pilot)
        profile = screen.query_one(ProfileList)
        assert profile.has_focus and profile.selected_task == "slow build"
        for start in reversed(SLOW_STARTS):
            await pilot.press("N")
            assert screen.cursor.pos == start
        await pilot.press("N")  # none earlier: it stays
        assert screen.cursor.pos == SLOW_STARTS[0]
        await pilot.press("home")
        await settle(app, pilot)  # nothing has ended there: the task stays listed, and selected
        assert profile.selected_task == "slow build"
        await pilot.press("n", "n")
        assert screen.cursor.pos == SLOW_STARTS[1]
        await pilot.press("end")
        await settle(app, pilot)
        await pilot.press("j", "N")  # the next row: mid review, whose second run began before
        assert EVENTS[screen.cursor.pos].data == {"task": "gamma/1", "name": "mid review"}


async def test_the_pin_limits_the_profile(session_path):
    app = replay_app(session_path, start=PIN)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("7", "d", "end")
        await settle(app, pilot)
        assert app.screen.query_one("#tabs").active == "tab-profile"
        # the second mid review began before the pin: it counts, from where it began
        assert tasks(app) == [("slow build", 2, 0), ("mid review", 1, 1)]
        title = app.screen.query_one(ProfileList).rows[0].text
        assert f"events {PIN + 2:,}–{len(EVENTS):,}, between the pin and the cursor" in title
        await pilot.press("d")  # pinned here instead: nothing between the pin and the cursor
        await settle(app, pilot)
        assert tasks(app) == []
        assert "the pin is at the cursor" in app.screen.query_one(ProfileList).rows[0].text
        await pilot.press("d")  # unpinned: from the start again
        await settle(app, pilot)
        assert [t[0] for t in tasks(app)] == ["slow build", "mid review", "quick lookup"]


# -- small and colourless -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["live", "replay"])
async def test_at_80x24_with_no_color_the_rows_are_shown(where, session_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = frozen_app(events=EVENTS) if where == "live" else replay_app(session_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        await settle(app, pilot)
        lines = shown_lines(app)
        assert tab_title(app.screen, "tab-profile").startswith("Profile")
        assert 0 <= app.screen.query_one("#tabs").get_tab("tab-profile").region.x
        assert app.screen.query_one("#tabs").get_tab("tab-profile").region.right <= 80
        assert lines[1].split()[:4] == ["tasks", "by", "total", "time"]
        slow, mid = lines[2], lines[3]
        assert slow.startswith("slow build") and "12.0s" in slow and "4.00s" in slow
        assert mid.startswith("mid review") and "✖ 1" in mid  # failed: a shape, not a colour
        assert "█" in slow  # every duration in one bin
