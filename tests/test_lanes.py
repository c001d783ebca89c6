"""Lanes (key 8): the fold of events into per-agent timelines, checked against a scripted run
whose truth is known; how a lane is painted in cells; and the tab in the live view and in a
replay, driven by keys."""

from collections import Counter
from itertools import count
from pathlib import Path

import pytest
from replay_fixtures import replay_app, write_session
from tui_fixtures import size_id

from swarmscope.core.events import Event
from swarmscope.core.live.source import RECENT_EVENTS, FrozenSource
from swarmscope.core.model import lanes as lanes_module
from swarmscope.core.model.lanes import (
    ABANDONED,
    MAX_BARS,
    PAST_LANES,
    Arrow,
    Bar,
    LaneFold,
    Mark,
    Stretch,
)
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.replay.session import open_session
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.ascii import to_ascii
from swarmscope.tui.screens.detail import AgentDetailScreen
from swarmscope.tui.screens.lanes import LIVE_INTAKE, LiveLanes, ReplayLanes
from swarmscope.tui.widgets.lanes import (
    ArrowLayout,
    LaneAxis,
    LaneList,
    LanesFrame,
    cursor_column,
    paint,
)

S = 1_000_000_000
T = 1_767_225_600 * S
"""2026-01-01 00:00:00 UTC: the scripted run starts here."""


def script() -> list[Event]:
    """Three agents, ten seconds: alpha runs t1 (ok, 1-4 s) and t2 (failed, 5-9 s, blocked
    6-8 s) and messages bravo at 2 s; bravo, idle until 3 s, runs t3 (cancelled, 3-7 s),
    messages charlie at 3.5 s and checkpoints at 5 s; charlie raises an error at 6 s and starts
    t4 at 8 s, still running at the end. Between them, events of every hostile shape."""
    seqs: dict[str, count] = {}

    def ev(at: float, agent: str, kind: str, data) -> Event:
        seq = next(seqs.setdefault(agent, count()))
        return Event(T + int(at * S), agent, seq, kind, data, 1)

    return [
        ev(0, "alpha", "status", {"status": "running"}),
        ev(0, "bravo", "status", {"status": "idle"}),
        ev(0, "charlie", "status", {"status": "running"}),
        ev(1, "alpha", "task_start", {"task": "t1", "name": "fetch"}),
        ev(1.5, "alpha", "progress", {"task": "t1", "fraction": 0.5}),
        ev(2, "alpha", "message", {"to": "bravo", "topic": "handoff"}),
        ev(3, "bravo", "status", {"status": "running"}),
        ev(3, "bravo", "task_start", {"task": "t3", "name": "review"}),
        ev(3.5, "bravo", "message", {"to": "charlie", "topic": "pass-on"}),
        ev(4, "alpha", "task_end", {"task": "t1", "result": "ok"}),
        ev(5, "alpha", "task_start", {"task": "t2", "name": "merge"}),
        ev(5, "bravo", "checkpoint", {"label": "half"}),
        ev(6, "alpha", "status", {"status": "blocked"}),
        ev(6, "charlie", "error", {"type": "ValueError", "message": "bad"}),
        ev(7, "bravo", "task_end", {"task": "t3", "result": "cancelled"}),
        ev(8, "alpha", "status", {"status": "running"}),
        ev(8, "charlie", "task_start", {"task": "t4"}),
        ev(9, "alpha", "task_end", {"task": "t2", "result": "failed"}),
        # hostile shapes: each ignored, none raised
        ev(9.1, "alpha", "task_start", {"task": 5}),
        ev(9.1, "alpha", "task_end", {"task": None, "result": "ok"}),
        ev(9.1, "alpha", "status", {"status": ["blocked"]}),
        ev(9.1, "alpha", "message", {"to": {"agent": "bravo"}}),
        ev(9.1, "alpha", "message", {"to": ""}),
        ev(10, "charlie", "log", {"message": "still going"}),
    ]


EVENTS = script()
NOT_EVEN_EVENTS = [
    Event(at, "alpha", 99, kind, data, 1)
    for at, kind, data in (
        (T + 9 * S, "checkpoint", "not a map"),
        (T + 9 * S, "error", ["not", "a", "map"]),
        ("late", "status", {"status": "idle"}),
    )
]
"""What no gate would pass (data not a map, a time not an int): the fold ignores them too."""


def at(seconds: float) -> int:
    return T + int(seconds * S)


def index(agent: str, kind: str, task: str | None = None) -> int:
    return next(
        i
        for i, e in enumerate(EVENTS)
        if e.agent == agent and e.kind == kind and (task is None or e.data.get("task") == task)
    )


def folded(events=EVENTS, first: int | None = 0) -> dict:
    fold = LaneFold()
    fold.apply_many(events, first)
    return {lane.agent: lane for lane in fold.lanes()}, fold


# -- the fold ---------------------------------------------------------------------------------


def test_tasks_are_bars_from_start_to_end_with_how_they_ended():
    lanes, fold = folded(EVENTS + NOT_EVEN_EVENTS)
    assert list(lanes) == ["alpha", "bravo", "charlie"]
    t1s, t1e = index("alpha", "task_start", "t1"), index("alpha", "task_end", "t1")
    t2s, t2e = index("alpha", "task_start", "t2"), index("alpha", "task_end", "t2")
    assert lanes["alpha"].bars == (
        Bar("t1", "fetch", at(1), at(4), "ok", t1s, t1e),
        Bar("t2", "merge", at(5), at(9), "failed", t2s, t2e),
    )
    t3s, t3e = index("bravo", "task_start", "t3"), index("bravo", "task_end", "t3")
    assert lanes["bravo"].bars == (Bar("t3", "review", at(3), at(7), "cancelled", t3s, t3e),)
    t4s = index("charlie", "task_start", "t4")
    assert lanes["charlie"].bars == (Bar("t4", "t4", at(8), None, None, t4s, None),)
    assert fold.said() == ""  # the hostile events were ignored, not counted as left out


def test_statuses_are_stretches_the_blocked_one_inside_a_task():
    lanes, _ = folded()
    assert lanes["alpha"].stretches == (
        Stretch("running", at(0), at(6)),
        Stretch("blocked", at(6), at(8)),
        Stretch("running", at(8), None),
    )
    assert lanes["bravo"].stretches == (
        Stretch("idle", at(0), at(3)),
        Stretch("running", at(3), None),
    )


def test_messages_are_arrows_a_chain_from_alpha_to_bravo_to_charlie():
    _, fold = folded()
    assert list(fold.arrows) == [
        Arrow("alpha", "bravo", at(2), "handoff", index("alpha", "message")),
        Arrow("bravo", "charlie", at(3.5), "pass-on", index("bravo", "message")),
    ]
    assert fold.arrows_in(at(3), at(10)) == [fold.arrows[1]]


def test_errors_and_checkpoints_are_marks():
    lanes, _ = folded()
    assert lanes["bravo"].marks == (
        Mark("checkpoint", at(5), "half", index("bravo", "checkpoint")),
    )
    assert lanes["charlie"].marks == (
        Mark("error", at(6), "ValueError", index("charlie", "error")),
    )
    assert lanes["alpha"].marks == ()


def test_live_events_carry_no_index_and_unchanged_lanes_keep_their_snapshot():
    fold = LaneFold()
    fold.apply_many(EVENTS[:10])
    before = {lane.agent: lane for lane in fold.lanes()}
    assert before["alpha"].bars[0].start_at is None
    fold.apply_many([Event(at(11), "charlie", 50, "status", {"status": "waiting"}, 1)])
    after = {lane.agent: lane for lane in fold.lanes()}
    assert after["alpha"] is before["alpha"] and after["charlie"] is not before["charlie"]


def test_an_end_without_its_start_a_bye_and_a_restart():
    events = [
        Event(at(1), "a", 0, "task_end", {"task": "old", "result": 7}),  # result of a wrong type
        Event(at(2), "a", 1, "task_start", {"task": "left"}),
        Event(at(3), "a", 2, "bye", {"status": "failed"}),
        Event(at(4), "b", 0, "task_start", {"task": "x"}),
        Event(at(5), "b", 1, "hello", {}),
    ]
    lanes, _ = folded(events, None)
    assert lanes["a"].bars == (
        Bar("old", "old", None, at(1), "ok", None, None),
        Bar("left", "left", at(2), at(3), ABANDONED, None, None),
    )
    assert lanes["a"].stretches == (Stretch("failed", at(3), None),)
    assert lanes["b"].bars == (Bar("x", "x", at(4), at(5), ABANDONED, None, None),)
    assert lanes["b"].stretches == (Stretch("starting", at(5), None),)


def test_seeded_from_the_swarm_at_the_window_start():
    model = SwarmModel()
    model.apply_many(EVENTS[:10])  # up to alpha's t1 ending, bravo running t3
    fold = LaneFold()
    fold.seed(model)
    fold.apply_many(EVENTS[10:], 10)
    lanes = {lane.agent: lane for lane in fold.lanes()}
    t3e = index("bravo", "task_end", "t3")
    assert lanes["bravo"].bars == (Bar("t3", "review", at(3), at(7), "cancelled", None, t3e),)
    assert lanes["bravo"].stretches[0] == Stretch("running", None, None)
    assert lanes["alpha"].stretches[0] == Stretch("running", None, at(6))


def test_memory_is_bounded_and_what_was_left_out_is_said(monkeypatch):
    n = MAX_BARS + 36
    events = [
        Event(at(i), "busy", 2 * i + k, kind, {"task": f"t{i}"})
        for i in range(n)
        for k, kind in enumerate(("task_start", "task_end"))
    ]
    lanes, fold = folded(events)
    assert len(lanes["busy"].bars) == MAX_BARS and lanes["busy"].bars[-1].task == f"t{n - 1}"
    assert fold.left_out == Counter({"older bar": 36}) and fold.said() == "left out: 36 older bars"
    monkeypatch.setattr(lanes_module, "MAX_LANES", 2)
    _, fold = folded()
    assert [lane.agent for lane in fold.lanes()] == ["alpha", "bravo"]
    charlie = sum(1 for e in EVENTS if e.agent == "charlie" and e.kind in lanes_module.READ)
    # bravo's message to charlie has no lane to land on
    assert fold.left_out == Counter({PAST_LANES: charlie}) and len(fold.arrows) == 1
    assert fold.said() == f"left out: {charlie} events of agents past 2"


def test_trim_forgets_what_ended_before_the_window():
    _, fold = folded()
    fold.trim(at(4.5))
    lanes = {lane.agent: lane for lane in fold.lanes()}
    assert [b.task for b in lanes["alpha"].bars] == ["t2"]
    assert [s.status for s in lanes["alpha"].stretches] == ["running", "blocked", "running"]
    assert [s.status for s in lanes["bravo"].stretches] == ["running"]
    assert list(fold.arrows) == [] and lanes["bravo"].marks[0].label == "half"


# -- the painting ------------------------------------------------------------------------------


def frame_of(lanes, t0=0, t1=10, cursor=5, arrows=()) -> LanesFrame:
    return LanesFrame(at(t0), at(t1), at(cursor), list(lanes.values()), list(arrows))


def test_a_lane_in_cells_shapes_not_only_colours():
    lanes, fold = folded()
    frame = frame_of(lanes)
    # a cell a second: t1 1-4 ok, t2 5-9 failed and blocked 6-8; alpha is running, drawn blank
    assert "".join(paint(lanes["alpha"], frame, 10).glyphs) == " ━━━✔━■■━✖"
    assert "".join(paint(lanes["bravo"], frame, 10).glyphs) == "···━━◇━⊘  "
    assert "".join(paint(lanes["charlie"], frame, 10).glyphs) == "      ⚠ ━▶"
    ascii_lanes = [to_ascii("".join(paint(lane, frame, 10).glyphs)) for lane in lanes.values()]
    assert ascii_lanes == [" ---+-==-x", "...--o-/  ", "      ! ->"]


def test_a_message_is_an_arrow_down_or_up_across_the_lanes_between():
    lanes, fold = folded()
    frame = frame_of(lanes, arrows=[Arrow("alpha", "charlie", at(3), "", None), *fold.arrows])
    layout = ArrowLayout(frame.arrows, frame, {"alpha": 0, "bravo": 1, "charlie": 2}, 10)
    assert sorted(layout.ends[0]) == [(2, "•"), (3, "•")]
    assert sorted(layout.ends[1]) == [(2, "▼"), (3, "•")]
    assert layout.ends[2] == [(3, "▼"), (3, "▼")]
    assert layout.crossing(1) == [3] and layout.crossing(0) == [] == layout.crossing(2)
    up = ArrowLayout(
        [Arrow("charlie", "alpha", at(3), "", None)], frame, {"alpha": 0, "charlie": 2}, 10
    )
    assert up.ends[0] == [(3, "▲")] and to_ascii("•▼▲│") == "*v^|"


def test_the_window_cursor_is_a_column_live_at_the_right_edge():
    lanes, _ = folded()
    assert cursor_column(frame_of(lanes), 10) == 5
    assert cursor_column(frame_of(lanes, cursor=10), 10) == 9


# -- the tab ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scripted(tmp_path_factory) -> Path:
    return write_session(tmp_path_factory.mktemp("lanes") / "lanes.swarm", EVENTS, name="lanes")


def cells_of(lanes: LaneList, y: int) -> str:
    """What line `y` of the lanes shows past the id column."""
    return lanes.render_line(y).text[lanes.geometry.label + 1 :]


async def test_8_shows_a_lane_per_agent_with_the_cursor_line(scripted):
    app = replay_app(scripted, start=index("alpha", "task_end", "t1"))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("8")
        lanes = app.screen.query_one(LaneList)
        assert app.focused is lanes and app.screen.query_one("#tabs").active == "tab-lanes"
        assert [r.lane.agent for r in lanes.rows] == ["alpha", "bravo", "charlie"]
        col = cursor_column(lanes.frame, lanes.geometry.width)
        for y in range(3):
            x = lanes.geometry.label + 1 + col
            (cell,) = list(lanes.render_line(y).crop(x, x + 1))
            assert cell.style.reverse and cell.text == cells_of(lanes, y)[col] != " "
        axis = str(app.screen.query_one(LaneAxis).render())
        assert axis.startswith("30s wide") and "00:00:04.0" in axis and "▼" in axis
        assert "✔" in cells_of(lanes, 0) and "✖" in cells_of(lanes, 0)


async def test_plus_and_minus_halve_and_double_the_window(scripted):
    app = replay_app(scripted, start=index("alpha", "task_end", "t1"))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("8", "minus")
        lanes = app.screen.query_one(LaneList)
        assert lanes.span == 60 * S and lanes.frame.t1 - lanes.frame.t0 == 60 * S
        await pilot.press("plus", "plus", "equals_sign")
        assert lanes.span == lanes.frame.span == 7_500_000_000
        assert str(app.screen.query_one(LaneAxis).render()).startswith("7s wide")


async def test_enter_on_a_bar_seeks_the_cursor_to_its_start(scripted):
    app = replay_app(scripted, start=index("alpha", "task_end", "t1"))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("8", "plus", "plus")  # 7.5 s: both of alpha's tasks in view
        lanes = app.screen.query_one(LaneList)
        assert lanes.chosen_bar().task == "t1"  # the one at the cursor's instant
        await pilot.press("right", "enter")
        assert app.screen.cursor.pos == index("alpha", "task_start", "t2")
        await pilot.press("down", "enter")  # bravo: t3, begun before the cursor
        assert app.screen.cursor.pos == index("bravo", "task_start", "t3")
        assert app.focused is lanes and lanes.selected.lane.agent == "bravo"


async def test_a_task_begun_before_the_folded_window_is_found_in_the_session(tmp_path):
    path = write_session(tmp_path / "long.swarm", EVENTS, name="lanes")
    app = replay_app(path, start=index("alpha", "task_end", "t2"))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("8", *["plus"] * 4)  # 1.9 s around 9 s: t2 began at 5 s
        lanes = app.screen.query_one(LaneList)
        bar = lanes.chosen_bar()
        assert (bar.task, bar.start_at, bar.start) == ("t2", None, at(5))
        await pilot.press("enter")
        assert app.screen.cursor.pos == index("alpha", "task_start", "t2")


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=size_id)
async def test_the_demo_in_lanes_with_no_color(monkeypatch, tmp_path, size):
    monkeypatch.setenv("NO_COLOR", "1")
    app = replay_app(write_session(tmp_path / "sim.swarm"), start=2000)
    async with app.run_test(size=size) as pilot:
        await pilot.press("8", "down", "down", "right", "a", "minus")
        await pilot.pause()
        lanes = app.screen.query_one(LaneList)
        shown = [cells_of(lanes, y) for y in range(lanes.size.height)]
        assert len(shown) >= 6 and all(len(s) == lanes.geometry.width for s in shown)
        assert any("✔" in s for s in shown) and any("▼" in s or "▲" in s for s in shown)
        assert app.screen.query_one("#tabs").active == "tab-lanes"


def test_a_window_past_the_bound_folds_the_events_around_the_cursor(scripted, monkeypatch):
    monkeypatch.setattr("swarmscope.tui.screens.lanes.MAX_WINDOW_EVENTS", 10)
    with open_session(scripted) as session:
        pos = index("alpha", "task_end", "t1")
        frame = ReplayLanes().frame(session, pos, EVENTS[pos].ts, 30 * S)
    assert frame.note == f"drew 10 of the {len(EVENTS)} events around here"


async def test_live_lanes_follow_new_events_zoom_paused_and_enter_opens_the_agent():
    source = FrozenSource(EVENTS[:10], now_ns=at(10))
    app = SwarmscopeApp(source, name="scripted")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8")
        lanes = app.screen.query_one(LaneList)
        assert lanes.frame.live and lanes.frame.t1 == at(10)
        assert [b.task for b in lanes.rows[0].lane.bars] == ["t1"]
        source._fold(EVENTS[10:18])  # alpha starts and fails t2
        app.screen.frame()
        assert [b.result for b in lanes.rows[0].lane.bars] == ["ok", "failed"]
        assert "━✖" in cells_of(lanes, 0)
        await pilot.press("p", "minus")  # paused, it still zooms, and takes in nothing new
        source._fold(EVENTS[18:])
        assert lanes.frame.span == 60 * S and len(lanes.rows[0].lane.bars) == 2
        await pilot.press("enter")
        assert isinstance(app.screen, AgentDetailScreen) and app.screen.agent_id == "alpha"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    """The seeded simulated run the replay snapshots show (replay_fixtures)."""
    return write_session(tmp_path_factory.mktemp("lanes-sim") / "sim-3.swarm")


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=size_id)
def test_how_the_lanes_look(snap_compare, simulated, size):
    """A lane chosen (its messages drawn across the others) and a bar on it."""
    assert snap_compare(
        replay_app(simulated, start=2000), terminal_size=size, press=["8", "down", "right"]
    )


def test_live_lanes_say_how_many_events_they_never_got():
    """More new events in a frame than the lanes take in, or a source whose child sent only the
    newest: the lanes are sampled, and say by how many."""
    events = [Event(T + k * 1_000, "flood", k, "progress", {"fraction": 0.5}, 1) for k in range(10)]
    source = FrozenSource(events)
    lanes = LiveLanes()
    assert "sampled" not in lanes.frame(source, source.model, 60 * S).note
    flood = [
        Event(T + k * 1_000, "flood", k, "progress", {"fraction": 0.5}, 1)
        for k in range(10, 10 + LIVE_INTAKE + 5)
    ]
    source._fold(flood)
    source.unsent += 7
    drawn = min(LIVE_INTAKE, RECENT_EVENTS)  # what a frame takes, of what the source keeps
    said = f"sampled: {len(flood) - drawn + 7:,} events not drawn"
    assert said in lanes.frame(source, source.model, 60 * S).note
