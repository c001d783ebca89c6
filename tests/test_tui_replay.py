"""The replay screen driven by keys over a real session file from the seeded simulator."""

import shutil
from pathlib import Path

import pytest
from helpers import tab_title, toasts
from replay_fixtures import EVENTS, replay_app, write_session
from textual.app import App
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import Static

from swarmscope.core.events import Event
from swarmscope.core.replay.playback import Playback
from swarmscope.core.replay.scan import SessionScan
from swarmscope.core.replay.session import open_session
from swarmscope.core.words import NOTHING
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.screens.browser import BrowserScreen
from swarmscope.tui.screens.compare import CompareScreen
from swarmscope.tui.screens.event import EventScreen
from swarmscope.tui.screens.replay import ReplayScreen
from swarmscope.tui.screens.scrubbing import WINDOW, swarm_changes, timeline_data
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.event_log import EventLog
from swarmscope.tui.widgets.header import Header
from swarmscope.tui.widgets.inspector import Inspection, Inspector
from swarmscope.tui.widgets.timeline import Timeline

S = 1_000_000_000


@pytest.fixture(scope="module")
def session_path(tmp_path_factory) -> Path:
    return write_session(tmp_path_factory.mktemp("replay") / "sim.swarm")


def indices(kind):
    return [i for i, e in enumerate(EVENTS) if e.kind == kind]


async def test_stepping_keys_move_the_cursor(session_path):
    app = replay_app(session_path, start=100)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        for keys, expected in (
            (["right"], 101),
            (["left", "left"], 99),
            (["shift+right"], 199),
            (["shift+left"], 99),
            (["end"], len(EVENTS) - 1),
            (["home"], 0),
        ):
            await pilot.press(*keys)
            assert screen.cursor.pos == expected, keys
        header = screen.query_one(Header).summary
        assert header.mode == "REPLAY" and "event 1 of 6,000" in header.position


async def test_the_event_tab_counts_nothing_new_after_a_jump(session_path):
    """The replay's list is a window around the cursor: rows entering it are not news."""
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("shift+right", "shift+right")
        assert tab_title(app.screen, "tab-log") == "Events [3]"


async def test_a_jump_selects_the_agent_it_lands_on_and_the_grid_keeps_it_selected(session_path):
    error = indices("error")[0]
    agent = EVENTS[error].agent
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        await pilot.press("e", "6")
        await pilot.pause()
        assert app.screen.cursor.pos == error and grid.selected.id == agent
        assert app.screen.query_one(Inspector).inspection.agent == agent
        chosen = grid.rows[len(grid.rows) // 2].id
        grid.select(chosen)
        places = set()
        # the grid re-sorts by health as time moves: the cursor moves with its agent
        for _ in range(20):
            await pilot.press("shift+right")
            places.add(grid.cursor)
            assert grid.selected.id == chosen
        assert len(places) > 1


async def test_at_80_columns_all_six_tabs_fit(session_path):
    app = replay_app(session_path, start=len(EVENTS) - 1)  # by the end, tasks have failed
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tabs = app.screen.query_one("#tabs")
        assert "✖" in tab_title(app.screen, "tab-tasks")
        assert tabs.get_tab("tab-inspector").region.right <= 80


async def test_at_60_columns_every_tab_is_in_sight_without_its_key(session_path):
    app = replay_app(session_path, start=len(EVENTS) - 1)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        tabs = app.screen.query_one("#tabs")
        assert tabs.get_tab("tab-inspector").region.right <= 60
        assert tab_title(app.screen, "tab-log") == "Events"
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.3)
        assert tab_title(app.screen, "tab-log") == "Events [3]"
        assert tab_title(app.screen, "tab-inspector") == "Inspector [6]"


async def test_x_writes_down_a_finding_where_the_cursor_is(session_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = replay_app(session_path, start=100)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        await pilot.press("d", "shift+right", "x")
        await pilot.pause()
        session_id = app.screen.session.id[:8]
        said = toasts(app)
    written = list(tmp_path.glob("finding-*.md"))
    assert [p.name for p in written] == [f"finding-{session_id}-201.md"]
    assert any(f"wrote {written[0]}" in toast for toast in said), said
    text = written[0].read_text()
    assert "at event 201 of 6,000" in text and "## What changed since event 101" in text


async def test_findings_go_where_the_setting_says_or_say_why_they_cannot(session_path, tmp_path):
    (tmp_path / "a-file").write_text("where a folder would be")
    for folder, wrote in ((tmp_path / "notes", True), (tmp_path / "a-file", False)):
        app = replay_app(session_path, start=100, findings=folder)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.press("x")
            await pilot.pause()
            said = " ".join(toasts(app))
        if wrote:
            assert [p.name for p in folder.glob("finding-*.md")] and str(folder) in said
        else:
            assert "cannot write the finding into" in said and "--findings" in said


async def test_the_grid_shows_the_swarm_as_it_was(session_path):
    app = replay_app(session_path, start=100)
    async with app.run_test(size=(120, 35)):
        expected = open_session(session_path).state_at(100)
        grid = app.screen.query_one(AgentGrid)
        assert {r.id for r in grid.rows} == set(expected.agents)
        for row in grid.rows:
            assert row.status == (expected.agents[row.id].status or "")
            assert row.health == expected.agents[row.id].health(expected.now)


@pytest.mark.parametrize("scanned", [True, False], ids=["by-the-scan", "by-reading-blocks"])
async def test_jumps_to_errors_checkpoints_bookmarks_and_matches(
    session_path, scanned, monkeypatch, tmp_path
):
    errors, checkpoints = indices("error"), indices("checkpoint")
    if not scanned:  # every jump reads blocks, as before a scan has covered the file
        monkeypatch.setattr(SessionScan, "run", lambda self, pause=None: False)
    own = shutil.copy(session_path, tmp_path / "own.swarm")  # b writes the bookmark into the file
    app = replay_app(own, start=0)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        screen = app.screen
        await app.workers.wait_for_complete()
        assert screen._scan.result.events == (len(EVENTS) if scanned else 0)
        await pilot.press("e")
        assert screen.cursor.pos == errors[0]
        await pilot.press("e")
        assert screen.cursor.pos == errors[1]
        await pilot.press("E")
        assert screen.cursor.pos == errors[0]
        await pilot.press("c")
        assert screen.cursor.pos == next(i for i in checkpoints if i > errors[0])
        await pilot.press("C")
        assert screen.cursor.pos == max(i for i in checkpoints if i <= errors[0])
        here = screen.cursor.pos
        await pilot.press("b", "home", "m")
        assert screen.cursor.pos == here
        assert any("saved in the session file" in toast for toast in toasts(app))
        await pilot.press("end", "M")
        assert screen.cursor.pos == here
        await pilot.press("home", "3", "slash", *"kind:metric", "enter", "n")
        assert screen.cursor.pos == indices("metric")[0]
        await pilot.press("n")
        assert screen.cursor.pos == indices("metric")[1]
        await pilot.press("N")
        assert screen.cursor.pos == indices("metric")[0]
    with open_session(own) as reopened:
        assert [b[0] for b in reopened.bookmarks] == [here]


async def test_goto_takes_numbers_offsets_and_times(session_path):
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        screen = app.screen
        await pilot.press("g", *"1234", "enter")
        assert screen.cursor.pos == 1233
        await pilot.press("g", *"-33", "enter")
        assert screen.cursor.pos == 1200
        await pilot.press("g", *"00:00:10", "enter")
        assert (
            EVENTS[screen.cursor.pos].ts <= EVENTS[0].ts + 10 * S < EVENTS[screen.cursor.pos + 1].ts
        )
        await pilot.press("g", *"nonsense", "enter")
        assert any("event number" in toast for toast in toasts(app))


async def test_inspector_shows_state_changes_pin_diff_and_blame(session_path):
    patch = next(i for i in indices("patch") if i > 200)
    agent = EVENTS[patch].agent
    app = replay_app(session_path, start=patch)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        await pilot.press("s", "s")  # by id
        grid = screen.query_one(AgentGrid)
        grid.cursor = [r.id for r in grid.rows].index(agent)
        await pilot.press("enter")
        await pilot.pause()
        ins = screen.query_one(Inspector).inspection
        assert ins.agent == agent and ins.changed == frozenset(EVENTS[patch].data["patch"])
        await pilot.press("d")  # pin here
        next_patch = next(i for i in indices("patch") if i > patch and EVENTS[i].agent == agent)
        screen.cursor.seek(next_patch)
        screen.frame()
        await pilot.pause()
        ins = screen.query_one(Inspector).inspection
        assert ins.pinned == patch and any(k.startswith("state.") for k in ins.pinned_diff)
        assert ins.others.startswith("other agents changed: ") and agent not in ins.others
        field = sorted(EVENTS[next_patch].data["patch"])[0]
        screen.post_message(Inspector.Blame(f"state.{field}"))
        await pilot.pause()
        assert screen.query_one(Inspector).inspection.blame["index"] == next_patch
        await pilot.press("home", "W")
        assert screen.cursor.pos == next_patch


def test_playing_at_4x_follows_recorded_time_on_a_fake_clock(session_path):
    cursor = open_session(session_path).cursor(0)
    play = Playback(cursor, fold_gaps_s=None)
    play.speed = 4.0
    t0 = EVENTS[0].ts
    play.toggle(wall_now=100.0)
    play.tick(wall_now=100.5)  # half a second of wall time: two seconds recorded
    assert EVENTS[cursor.pos].ts <= t0 + 2 * S < EVENTS[cursor.pos + 1].ts
    play.tick(wall_now=101.0)
    assert EVENTS[cursor.pos].ts <= t0 + 4 * S < EVENTS[cursor.pos + 1].ts
    play.slower()
    play.tick(wall_now=102.0)  # 2x for one second
    assert EVENTS[cursor.pos].ts <= t0 + 6 * S < EVENTS[cursor.pos + 1].ts


def test_idle_stretches_are_folded_when_playing(tmp_path):
    events = [
        Event(i * S if i < 5 else (i + 600) * S, "a", i, "heartbeat", {}, 1) for i in range(10)
    ]
    cursor = open_session(write_session(tmp_path / "idle.swarm", events)).cursor(0)
    play = Playback(cursor, fold_gaps_s=2.0)
    play.toggle(0.0)
    play.tick(4.0)
    assert cursor.pos == 4
    play.tick(7.0)  # a ten-minute silence plays as two seconds
    assert cursor.pos >= 5


async def test_browser_lists_sessions_and_opens_one(tmp_path):
    write_session(tmp_path / "one.swarm")
    write_session(tmp_path / "two.swarm", EVENTS[:500], name="short-run")
    app = SwarmscopeApp(start=lambda: BrowserScreen(tmp_path))
    async with app.run_test(size=(120, 35)) as pilot:
        rows = app.screen.query_one("#sessions").rows
        assert {r.name for r in rows} == {"sim-3", "short-run"}
        await pilot.press("slash", *"name:short", "enter")
        assert [r.name for r in app.screen.query_one("#sessions").rows] == ["short-run"]
        await pilot.press("enter")
        assert isinstance(app.screen, ReplayScreen) and len(app.screen.session) == 500
        # escape clears the filter first
        await pilot.press("slash", *"role:coder", "enter", "escape")
        assert isinstance(app.screen, ReplayScreen) and not app.screen.filters["grid"]
        await pilot.press("escape")  # then goes back to the list
        assert isinstance(app.screen, BrowserScreen)


async def test_the_browser_tells_a_session_being_recorded_from_one_not_closed(tmp_path):
    """A file without an end is either still being written or left by a recorder that died:
    only the second wants a repair, and the browser says which (the writer's lock tells)."""
    from swarmscope.core.session.writer import SessionWriter, being_recorded, new_header

    write_session(tmp_path / "done.swarm", EVENTS[:300], name="done")
    writer = SessionWriter(tmp_path / "now.swarm", new_header("now"))
    writer.append(EVENTS[:300])
    writer.flush()
    # the same bytes with no writer behind them: what a killed recorder leaves
    shutil.copy(tmp_path / "now.swarm", tmp_path / "crashed.swarm")
    try:
        assert being_recorded(tmp_path / "now.swarm")
        assert not being_recorded(tmp_path / "crashed.swarm")
        app = SwarmscopeApp(start=lambda: BrowserScreen(tmp_path))
        async with app.run_test(size=(120, 35)):
            listing = app.screen.query_one("#sessions")
            shown = {
                Path(r.path).stem: listing.render_row(r, 120, 0, False).plain for r in listing.rows
            }
        assert shown["now"].startswith("● recording")
        assert shown["crashed"].startswith("⚠ not closed")
        assert shown["done"].startswith("✖ failed")  # a closed file says its outcome
    finally:
        writer.close()
    assert not being_recorded(tmp_path / "now.swarm")


async def test_a_session_still_being_recorded_grows_in_a_replay_opened_from_the_list(tmp_path):
    """Another recorder's file, opened from the list, is followed as it grows (as a rewound live
    view is), and the replay says so rather than asking for a repair."""
    from swarmscope.core.session.writer import SessionWriter, new_header

    writer = SessionWriter(tmp_path / "now.swarm", new_header("now"))
    writer.append(EVENTS[:300])
    writer.flush()
    app = SwarmscopeApp(refresh=3600, start=lambda: BrowserScreen(tmp_path))
    try:
        async with app.run_test(size=(120, 35), notifications=True) as pilot:
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, ReplayScreen) and len(screen.session) == 300
            assert any("grows with it" in toast for toast in toasts(app))
            writer.append(EVENTS[300:500])
            writer.flush()
            screen.frame()
            assert len(screen.session) == 500
            assert screen.query_one(Timeline).data.events == 500
    finally:
        writer.close()


async def test_escape_in_a_replay_opened_directly_stays(session_path):
    app = replay_app(session_path, start=100)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, ReplayScreen)


async def test_compare_finds_a_planted_divergence(tmp_path):
    planted = next(i for i, e in enumerate(EVENTS) if i > 1000 and e.kind == "status")
    changed = EVENTS[planted]._replace(data={"status": "blocked"})
    a = write_session(tmp_path / "a.swarm")
    b = write_session(
        tmp_path / "b.swarm", EVENTS[:planted] + [changed] + EVENTS[planted + 1 :], name="sim-3b"
    )
    app = SwarmscopeApp(start=lambda: CompareScreen(open_session(a), open_session(b)))
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        d = screen.report["divergence"]
        assert (d["agent"], d["index_a"], d["field"], d["b"]) == (
            changed.agent,
            planted,
            "data.status",
            "blocked",
        )
        assert screen.cur_a.pos == planted and screen.cur_b.pos == planted
        await pilot.press("right")
        assert screen.cur_a.pos == planted + 1


async def test_rewind_from_live_and_back_while_recording_goes_on(tmp_path):
    import asyncio
    import threading
    import time

    from swarmscope.core.live.demo import Demo
    from swarmscope.core.live.sim import SimConfig
    from swarmscope.core.live.source import LiveSource
    from swarmscope.core.session.recorder import Recorder
    from swarmscope.tui.screens.live import LiveScreen

    async def until(condition, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not met in time"
            await asyncio.sleep(0.02)

    ins, outs = f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out"
    recorder = Recorder(tmp_path / "sessions", name="live", source="test")
    done = threading.Event()
    source = LiveSource(outs)
    source.recording = True
    source.session_path = lambda: next(iter(recorder.current), None)
    with Demo(SimConfig(agents=6, rate=300, seed=2), ins, outs):
        thread = threading.Thread(target=recorder.run_feed, args=(outs, done.is_set), daemon=True)
        thread.start()
        source.start()
        try:
            app = SwarmscopeApp(source)
            async with app.run_test(size=(120, 35)) as pilot:
                await until(lambda: recorder.events > 300 and recorder.current)

                def recorded() -> int:
                    with open_session(recorder.current[0]) as s:
                        return len(s)

                await until(lambda: recorded() > 100)
                await pilot.press("r")
                screen = app.screen
                assert isinstance(screen, ReplayScreen) and screen.live
                first_len = len(screen.session)
                await until(lambda: (screen.frame(), len(screen.session))[1] > first_len)
                assert "live" in screen.query_one(Header).summary.position
                await pilot.press("l")
                assert isinstance(app.screen, LiveScreen)
                await pilot.press("r", "escape")  # escape goes back to live too
                assert isinstance(app.screen, LiveScreen)
                so_far = recorder.events
                await until(lambda: recorder.events > so_far)
        finally:
            done.set()
            thread.join(5)
            recorder.close()
            source.stop()


async def test_a_drag_seeks_only_where_the_mouse_is_now(session_path):
    from swarmscope.tui.widgets.timeline import Timeline

    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        timeline = screen.query_one(Timeline)
        seeks = []
        real_seek = screen.cursor.seek_time
        screen.cursor.seek_time = lambda ts: (seeks.append(ts), real_seek(ts))[1]
        for k in range(1, 21):  # a burst of mouse moves, as a drag sends them
            timeline.post_message(Timeline.Seek(ts=EVENTS[0].ts + k * S))
        await pilot.pause()
        assert seeks == [EVENTS[0].ts + 20 * S]
        assert (
            EVENTS[screen.cursor.pos].ts <= EVENTS[0].ts + 20 * S < EVENTS[screen.cursor.pos + 1].ts
        )


async def test_the_timeline_marks_where_events_were_lost(tmp_path):
    from swarmscope.tui.widgets.timeline import Timeline

    first = EVENTS[0]
    events = [
        e
        for e in EVENTS
        if e.kind != "error"  # so no ✖ can sit on the mark
        and not (e.agent == first.agent and e.inc == first.inc and 50 <= e.seq < 55)
    ]
    app = replay_app(write_session(tmp_path / "lossy.swarm", events), start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.data.scan.gaps and "⋯" in timeline.render_line(1).text


async def test_a_file_the_scan_cannot_read_keeps_the_indexs_timeline(session_path, monkeypatch):
    from swarmscope.core.errors import SessionError

    def unreadable(self, pause=None):
        raise SessionError("sim.swarm: no longer readable")

    monkeypatch.setattr(SessionScan, "run", unreadable)
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("approximate" in toast for toast in toasts(app))
        await pilot.press("e")  # the jumps read blocks instead
        assert app.screen.cursor.pos == indices("error")[0]


def test_a_scan_that_ends_after_the_screen_went_away_draws_nothing(session_path):
    screen = ReplayScreen(open_session(session_path), "sim-3")  # as after `l` popped a rewound view
    screen._show_timeline()  # what the scan's worker calls when it finishes: no NoMatches raised


async def test_the_inspector_is_drawn_when_its_tab_comes_into_view(session_path):
    """6 on a replay standing still: the inspector shows the agent at once, not after the next
    step."""
    app = replay_app(session_path, start=100)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert app.screen.query_one(Inspector).inspection is not None


def test_the_timeline_of_a_grown_session_builds_on_the_blocks_it_had(session_path):
    session = open_session(session_path)
    scan = SessionScan(session_path).result
    whole = timeline_data(session, scan)
    assert len(whole.blocks) > 3
    assert timeline_data(session, scan, whole.blocks[:3]) == whole


async def test_e_then_v_shows_the_error_in_full(session_path):
    error = indices("error")[0]
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e", "v")
        assert isinstance(app.screen, EventScreen) and app.screen.index == error
        shown = str(app.screen.query_one("#event").render())
        assert f"event {error + 1:,} · error from {EVENTS[error].agent}" in shown
        assert EVENTS[error].data["traceback"].strip().splitlines()[0] in shown
        await pilot.press("escape")
        assert isinstance(app.screen, ReplayScreen) and app.screen.cursor.pos == error


def test_what_else_changed_since_the_pin_names_agents_changed_appeared_and_gone():
    diff = {
        "agents": {
            "a": {"status": (1, 2)},
            "b": {"last_seen": (1, 2)},
            **{f"c{k}": {"task": (1, 2)} for k in range(7)},
        },
        "added": ["new"],
        "removed": ["old"],
    }
    # b changed bookkeeping only; a is the one shown
    assert swarm_changes(diff, "a") == (
        "other agents changed: c0, c1, c2, c3, c4 and 2 more; appeared: new; gone: old"
    )
    assert swarm_changes({"agents": {"a": {"task": (1, 2)}}, "added": [], "removed": []}, "a") == ""


async def test_the_colorblind_theme_draws_failures_in_vermillion_not_crimson(session_path):
    app = replay_app(session_path, theme="colorblind")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert near(app.get_css_variables()["error"], "#D55E00")  # Okabe-Ito's vermillion
        await pilot.press("t")  # the next theme has its own
        await pilot.pause()
        assert not near(app.get_css_variables()["error"], "#D55E00")


def near(color: str, wanted: str) -> bool:
    """Within rounding (Textual's colour arithmetic moves a channel by one)."""
    got, want = Color.parse(color).rgb, Color.parse(wanted).rgb
    return all(abs(a - b) <= 2 for a, b in zip(got, want))


async def test_the_replay_help_shows_every_key_at_80x24(session_path):
    """The replay has the most keys of any screen: they fit too, in columns, without scrolling."""
    app = replay_app(session_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one(VerticalScroll)
        assert len(app.screen.bindings) > 30 and box.max_scroll_y == 0
        assert box.region.y >= 0 and box.region.bottom <= app.size.height


class _Inspecting(App):
    def compose(self):
        yield Inspector()


async def test_the_pinned_diff_reads_in_words_not_python():
    app = _Inspecting()
    async with app.run_test(size=(80, 24)) as pilot:
        diff = {"health": ("healthy", "failed"), "task": ("fetch", None), "checkpoint": (None, "x")}
        app.query_one(Inspector).show(Inspection("a", 9, {}, pinned=0, pinned_diff=diff))
        await pilot.pause()
        notes = str(app.query_one("#inspect-notes", Static).render())
        assert "health: healthy → failed" in notes and "task: fetch → —" in notes
        assert "checkpoint: — → x" in notes
        assert "'" not in notes and "None" not in notes, notes


async def test_e_right_after_a_rewind_finds_the_error_the_timeline_marks(tmp_path):
    """A rewound live view and its scan read the growing file each on their own: the scan can
    have marked an error (drawn on the timeline) that the screen's session has not taken in yet.
    `e` must land on it, not stop short at the last event it knew of."""
    from swarmscope.core.session.writer import SessionWriter

    errors = indices("error")
    path, cut = tmp_path / "growing.swarm", errors[1] + 2
    writer = SessionWriter(path)
    writer.append(EVENTS[:cut])
    writer.flush()
    # no frame timer: the session here grows only when the screen itself follows the file
    app = SwarmscopeApp(name="g", refresh=3600, start=lambda: ReplayScreen.for_live(path, "g"))
    try:
        async with app.run_test(size=(120, 35), notifications=True) as pilot:
            screen = app.screen
            await app.workers.wait_for_complete()
            assert screen.cursor.pos == cut - 1
            writer.append(EVENTS[cut : errors[2] + 10])
            writer.flush()
            screen._start_scan()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert errors[2] in screen.query_one(Timeline).data.scan.errors.index
            await pilot.press("e")
            assert screen.cursor.pos == errors[2]
            assert not any("no next error" in toast for toast in toasts(app))
    finally:
        writer.close()


async def test_compare_at_100_columns_shows_whole_task_names(session_path):
    """Each side of a compare is half the terminal: the grid's lines size their columns to the
    ids and tasks they show, and what other columns repeat (bar, heartbeat, status word) gives
    way before a task name is cut."""
    app = SwarmscopeApp(
        start=lambda: CompareScreen(open_session(session_path), open_session(session_path))
    )
    async with app.run_test(size=(100, 35)) as pilot:
        await pilot.press("end")
        grid = app.screen.query_one("#grid-a", AgentGrid)
        width = grid.scrollable_content_region.width
        assert width < 50 and grid.rows
        for row in grid.rows:
            line = grid.render_row(row, width, 0, False)
            assert line.cell_len <= width and f" {row.task or NOTHING} " in line.plain, line.plain


async def test_a_key_holds_the_files_scan_until_its_answer_is_painted(session_path):
    """Keys first: the scan of the file (a worker thread) waits while a key is answered."""
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        screen, held = app.screen, []
        step = screen.action_step

        def stepping(n: int) -> None:
            held.append(app.no_input.is_set())
            step(n)

        screen.action_step = stepping
        await pilot.press("right")
        await pilot.pause()
        assert held == [False] and app.no_input.is_set()
        assert screen._no_input is app.no_input  # what the scan waits on after each block


async def test_a_click_on_the_timeline_holds_the_scan_until_its_answer_is_painted(session_path):
    """A click or a drag on the timeline is input too: it reaches the screen as the timeline's
    Seek message, after the terminal's mouse event, and still the scan waits."""
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        screen, held = app.screen, []
        seek_time = screen.cursor.seek_time

        def seeking(ts: int) -> int:
            held.append(app.no_input.is_set())
            return seek_time(ts)

        screen.cursor.seek_time = seeking
        await pilot.click(Timeline, offset=(60, 0))
        await pilot.pause()
        assert held and not any(held) and app.no_input.is_set()
        assert screen.cursor.pos > 0


async def test_a_jump_lists_the_events_at_hand_and_the_rest_of_the_window_a_frame_later(
    session_path,
):
    """Landing next to a block not decoded yet, the event list shows the landing block's events
    at once (no second decode in the jump's answer) and the whole window the next frame."""
    app = replay_app(session_path, start=0)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("3")  # the list is filled while its tab is shown
        screen = app.screen
        f, log = screen.session.file, screen.query_one(EventLog)
        pos = f.block_info(4).first + 5
        assert screen.session.keyframe_at_or_before(pos + 1) >= f.block_info(4).first
        screen.cursor.seek(pos)
        assert not f.at_hand(3)
        screen.frame()
        assert len(log.rows) == 5 + 1 + WINDOW  # from the block's first event
        assert log.rows[log.cursor].event == screen.cursor.event
        screen.frame()  # the next frame, with nothing else moved
        assert len(log.rows) == 2 * WINDOW + 1 and f.at_hand(3)
        assert log.rows[log.cursor].event == screen.cursor.event
