"""The live screen driven by keys, against a seeded swarm frozen at one instant."""

import msgpack
import pytest
import zmq
from helpers import tab_title, toasts, wait_for
from rich.cells import cell_len
from textual.containers import VerticalScroll
from tui_fixtures import frozen_app

from swarmscope.core.events import Event
from swarmscope.core.live.source import FrozenSource, LiveSource, Source
from swarmscope.core.model.health import Health
from swarmscope.core.wire.format import TOPIC_EVENTS, WIRE_VERSION
from swarmscope.tui.app import SwarmscopeApp
from swarmscope.tui.rows import AgentRow
from swarmscope.tui.screens.detail import AgentDetailScreen
from swarmscope.tui.screens.event import EventScreen
from swarmscope.tui.screens.help import HelpScreen
from swarmscope.tui.screens.live import LOG_INTAKE, LiveScreen
from swarmscope.tui.screens.replay import ReplayScreen
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.event_log import EventLog
from swarmscope.tui.widgets.header import Header
from swarmscope.tui.widgets.keybar import KeyBar
from swarmscope.tui.widgets.panels import LinkList
from swarmscope.tui.widgets.state_tree import StateTree


async def test_grid_shows_every_agent_sorted_worst_first():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        assert len(grid.rows) == 24
        ranks = [r.health.rank for r in grid.rows]
        assert ranks == sorted(ranks)
        await pilot.press("s")  # status
        await pilot.press("s")  # id
        assert [r.id for r in grid.rows] == sorted(r.id for r in grid.rows)


async def test_filter_narrows_the_grid_and_escape_clears_it():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("slash", *"role:coder", "enter")
        grid = app.screen.query_one(AgentGrid)
        assert grid.rows and all(r.role == "coder" for r in grid.rows)
        await pilot.press("escape")
        assert len(grid.rows) == 24


async def test_filter_on_the_event_log_by_kind():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("3", "slash", *"kind:error", "enter")
        log = app.screen.query_one(EventLog)
        assert log.rows and {r.kind for r in log.rows} == {"error"}


async def test_enter_on_an_error_in_the_log_shows_its_traceback_as_written():
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "slash", *"kind:error", "enter")
        log = app.screen.query_one(EventLog)
        error = log.selected.event
        await pilot.press("enter")
        assert isinstance(app.screen, EventScreen) and app.screen.event == error
        shown = str(app.screen.query_one("#event").render())
        assert error.data["traceback"].strip().splitlines()[-1] in shown
        # its lines as written, not one squeezed line
        assert "Traceback (most recent call last):\n" in shown
        assert f"error from {error.agent}" in shown and '"type": "' in shown
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_enter_opens_the_agent_and_escape_comes_back():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        # sort by id: nothing chosen yet, so the cursor stays at the top
        await pilot.press("s", "s")
        first = min(r.id for r in grid.rows)
        await pilot.press("enter")
        assert isinstance(app.screen, AgentDetailScreen) and app.screen.agent_id == first
        facts = str(app.screen.query_one("#facts").render())
        assert first in facts and "health" in facts
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_moving_the_cursor_with_keys():
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        assert grid.columns == 1  # one line per agent at 80 columns
        await pilot.press("j", "j", "down", "k")
        assert grid.cursor == 2
        await pilot.press("end")
        assert grid.cursor == 23


async def test_help_lists_the_keys_and_closes():
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {k for k, _ in app.screen.bindings}
        assert {"/", "s", "p", "q", "t"} <= keys
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def help_box(app: SwarmscopeApp, pilot) -> VerticalScroll:
    await pilot.press("question_mark")
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    return app.screen.query_one(VerticalScroll)


async def every_key_is_in_sight(app: SwarmscopeApp, pilot) -> None:
    """Every key of the help is on screen at once: the box needs no scrolling, and it fits."""
    box = await help_box(app, pilot)
    assert box.max_scroll_y == 0 and app.screen.columns > 1
    assert box.region.y >= 0 and box.region.bottom <= app.size.height


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_help_shows_every_key_at_once(size: tuple[int, int]):
    app = frozen_app()
    async with app.run_test(size=size) as pilot:
        await every_key_is_in_sight(app, pilot)


async def test_help_too_tall_for_the_terminal_scrolls_by_keyboard_and_says_so():
    app = frozen_app()
    async with app.run_test(size=(40, 14)) as pilot:
        box = await help_box(app, pilot)
        assert box.max_scroll_y > 0 and "pgdn scroll" in str(
            app.screen.query_one("#help-title").render()
        )
        for _ in range(box.max_scroll_y):  # a bound: each pgdn moves at least a line
            if box.scroll_y == box.max_scroll_y:
                break
            await pilot.press("pagedown")
        assert box.scroll_y == box.max_scroll_y  # the last key (ctrl+p) in sight
        await pilot.press("up")
        assert box.scroll_y == box.max_scroll_y - 1


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120])
async def test_the_key_bar_shows_whole_keys_quit_and_help_always(width: int):
    app = frozen_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        line = str(app.screen.query_one(KeyBar).render())
        assert cell_len(line) <= width
        assert "q Quit" in line and "? Help" in line
        shown = [f" {k.display} {k.description} " for k in app.screen.query_one(KeyBar).shown()]
        assert line == "".join(shown)  # nothing cut in half
        if width >= 80:
            assert "⏎ Open" in line and "/ Filter" in line and "r Rewind" in line


async def test_pause_theme_and_panel_keys():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("p")
        assert app.screen.paused and app.screen.query_one(Header).summary.mode == "PAUSED"
        await pilot.press("p", "t")
        assert app.ss_theme == "light" and app.has_class("-ss-light")
        for key, panel in (
            ("2", "tasks"),
            ("3", "log"),
            ("4", "alerts"),
            ("5", "messages"),
            ("1", "grid"),
        ):
            await pilot.press(key)
            assert app.focused.id == panel
        await pilot.press("tab")
        assert app.focused.id == "tasks"


async def test_the_messages_tab_says_who_talks_to_whom():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("5")
        model = app.source.model
        rows = app.screen.query_one(LinkList).rows
        assert (
            app.screen.query_one("#tabs").active == "tab-messages"
            and len(rows) == len(model.links) > 5
        )
        assert [r.count for r in rows] == [model.links[r.src, r.dst].count for r in rows]
        lasts = [model.links[r.src, r.dst].last for r in rows]
        assert lasts == sorted(lasts, reverse=True)  # the most recently active pair first
        await pilot.press("slash", *"to:tester -topic:question", "enter")
        narrowed = app.screen.query_one(LinkList).rows
        assert narrowed and all("tester" in r.dst and r.topic != "question" for r in narrowed)
        assert len(narrowed) < len(rows) and app.screen.filters["grid"].text == ""


async def test_message_counts_keep_their_column_and_say_1_message():
    """A pair that sends its first message must not push its row's size, age and topic a column
    left of the others' ("1 msg" beside "12 msgs")."""
    from dataclasses import replace

    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("5")
        links = app.screen.query_one(LinkList)
        row = links.rows[0]
        lines = [
            links.render_row(replace(row, count=n), 118, 0, False).plain for n in (1, 12, 1234)
        ]
    assert "      1 message  " in lines[0] and "     12 messages " in lines[1]
    tails = {line.index(" messages" if "messages" in line else " message") for line in lines}
    assert len(tails) == 1 and len({len(line.rstrip()) for line in lines}) == 1, lines


def silent_swarm(*agents: str) -> tuple[SwarmscopeApp, list[int]]:
    """An app over agents that said hello (1 s heartbeats) and then nothing, and its clock: move
    the clock on and call app.frame() to age them (over 2 intervals critical, over 3 failed)."""
    now = [10**18]
    source = Source("test", clock=lambda: now[0])
    source._fold([Event(now[0], a, 0, "hello", {"heartbeat": 1.0}, 1) for a in agents])
    return SwarmscopeApp(source), now


async def age(app: SwarmscopeApp, pilot, now: list[int], seconds: float) -> None:
    now[0] += int(seconds * 1e9)
    app.frame()
    await pilot.pause()


async def test_an_agent_going_failed_raises_an_alert():
    app, now = silent_swarm("a")
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        await age(app, pilot, now, 5)  # five intervals of silence
        alerts = app.screen.query_one("#alerts").rows
        assert alerts and alerts[0].agent == "a" and alerts[0].health is Health.FAILED
        assert any("FAILED" in toast for toast in toasts(app))


async def test_only_a_failed_agent_pops_up_and_one_toast_at_a_time():
    """At 80x24 a toast hides the events being read: a critical agent is said in the header and
    the Alerts tab only, and a second failure replaces the first toast instead of piling on."""
    app, now = silent_swarm("a", "b")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await age(app, pilot, now, 2.5)  # both critical
        assert len(app.screen.query_one("#alerts").rows) == 2
        # at 80 columns the live tabs fit with their keys
        assert tab_title(app.screen, "tab-alerts") == "Alerts [4] 2"
        assert toasts(app) == []
        app.notify("an answer to a key")
        await pilot.pause()
        await age(app, pilot, now, 1)  # both failed in the same frame: one toast says both
        assert len(toasts(app)) == 1 and "FAILED (and 1 more)" in toasts(app)[0]


async def test_no_toast_over_help_and_the_one_held_shows_when_it_closes():
    app, now = silent_swarm("a")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await age(app, pilot, now, 5)
        assert toasts(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and toasts(app) == []
        app.notify("said while help was open")
        await pilot.pause()
        assert toasts(app) == []
        await pilot.press("escape")
        await pilot.pause()
        assert toasts(app) == ["said while help was open"]


async def test_alert_toasts_can_be_turned_off():
    app, now = silent_swarm("a")
    app.alert_toasts = False  # --no-alert-toasts, or alert_toasts = false in settings.toml
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await age(app, pilot, now, 5)
        assert app.screen.query_one("#alerts").rows and toasts(app) == []


async def test_a_missing_hub_is_said_on_screen(tmp_path):
    source = LiveSource(f"ipc://{tmp_path}/nobody")
    app = SwarmscopeApp(source)
    source.start()
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            app.frame()
            await pilot.pause()
            header = app.screen.query_one(Header)
            assert "waiting for a hub" in header.summary.status
    finally:
        source.stop()


async def test_the_header_says_why_frames_were_refused(hub):
    source = LiveSource(hub.out_endpoint)
    source.start()
    sock = zmq.Context.instance().socket(zmq.XPUB)
    try:
        sock.connect(hub.in_endpoint)
        sock.recv()  # the hub subscribed
        # an agent on wire 3.x
        too_new = msgpack.packb([WIRE_VERSION + 2000, [[1, "a", 0, "log", {}, 1]]])

        def refused():
            sock.send_multipart([TOPIC_EVENTS, too_new])
            return source.refused.get("version", 0) > 0

        wait_for(refused)
        app = SwarmscopeApp(source)
        async with app.run_test(size=(120, 35)) as pilot:
            app.frame()
            await pilot.pause()
            header = app.screen.query_one(Header)
            assert header.summary.refused_why == "version"
            assert "refused: version" in str(header.render())
    finally:
        sock.close(linger=0)
        source.stop()


async def test_events_the_model_could_not_fold_are_counted_in_the_header(monkeypatch):
    from swarmscope.core.model import swarm as model_module

    monkeypatch.setattr(model_module, "MAX_AGENTS", 5)
    source = FrozenSource([Event(10**18 + i, f"a{i}", 0, "hello", {}, 1) for i in range(8)])
    async with SwarmscopeApp(source).run_test(size=(120, 35)) as pilot:
        pilot.app.frame()
        await pilot.pause()
        header = pilot.app.screen.query_one(Header).summary
        assert (header.refused, header.refused_why) == (3, "not-folded")


async def test_readonly_refuses_writing_actions(tmp_path):
    from replay_fixtures import replay_app, write_session

    app = replay_app(write_session(tmp_path / "s.swarm"), start=10, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b", "right")
        assert app.screen.session.bookmarks == [] and app.screen.cursor.pos == 11


async def test_the_log_counts_what_arrives_while_scrolled_up():
    now = [10**18]
    source = Source("test", clock=lambda: now[0])
    source._fold(
        [Event(now[0], "a", i, "log", {"level": "info", "message": f"m{i}"}, 1) for i in range(50)]
    )
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("3", "up", "up")
        log = app.screen.query_one(EventLog)
        assert not log.follow
        source._fold(
            [
                Event(now[0], "a", i, "log", {"level": "info", "message": f"m{i}"}, 1)
                for i in range(50, 80)
            ]
        )
        app.frame()
        await pilot.pause()
        assert log.pending == 30 and "30 new" in tab_title(app.screen, "tab-log")
        await pilot.press("end")
        app.frame()
        assert log.follow and log.pending == 0


async def test_the_tasks_tab_says_how_many_run_and_finish_a_minute():
    now = [10**18]
    source = Source("test", clock=lambda: now[0])
    source._fold([Event(now[0], "a", 0, "task_start", {"task": "t0"}, 1)])
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35)) as pilot:
        for i in range(1, 11):  # a task finishes every 6 s and the next one starts
            now[0] += 6 * 10**9
            source._fold(
                [
                    Event(now[0], "a", 2 * i - 1, "task_end", {"task": f"t{i - 1}"}, 1),
                    Event(now[0], "a", 2 * i, "task_start", {"task": f"t{i}"}, 1),
                ]
            )
            app.frame()
        await pilot.pause()
        label = tab_title(app.screen, "tab-tasks")
        assert "1 running" in label and "10/min" in label


async def test_a_frame_after_the_last_screen_went_does_nothing():
    app = SwarmscopeApp(Source("test", clock=lambda: 10**18))
    async with app.run_test(size=(80, 24)):
        assert app.screen_stack
    assert app.screen_stack == []  # what quitting leaves when the frame timer ticks once more
    app.frame()


async def test_a_filter_typed_right_after_a_panel_key_narrows_that_panel():
    """Keys arriving together (a fast typist, a paste, a slow link): `5` then `/` filters the
    messages."""
    from textual import events

    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.post_message(events.Key("5", "5"))
        app.post_message(events.Key("slash", "/"))
        await pilot.pause()
        assert app.screen._filter_target == "messages"
        assert "filter messages" in app.screen.query_one("#filter").placeholder


async def test_the_grid_keeps_its_top_until_an_agent_is_chosen_then_keeps_that_agent():
    app = frozen_app()
    async with app.run_test(size=(120, 35)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        await pilot.press("s", "s")  # by id
        assert grid.cursor == 0 and grid.selected.id == min(r.id for r in grid.rows)
        await pilot.press("down")
        chosen, place = grid.selected.id, grid.cursor
        # back to health: the chosen agent keeps the cursor, elsewhere
        await pilot.press("s", "s", "s")
        assert grid.selected.id == chosen and grid.cursor != place


async def test_at_80_columns_every_tab_fits_even_with_failed_tasks():
    now = 10**18
    events = [
        Event(now, "a", 0, "task_start", {"task": "t0"}, 1),
        Event(now, "a", 1, "task_end", {"task": "t0", "result": "failed"}, 1),
        Event(now, "a", 2, "task_start", {"task": "t1"}, 1),
    ]
    app = SwarmscopeApp(FrozenSource(events, now))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tabs = app.screen.query_one("#tabs")
        assert "▶  1 ✖  1" in tab_title(app.screen, "tab-tasks")
        assert tabs.get_tab("tab-messages").region.right <= 80


def test_an_agent_seen_after_its_hello_shows_its_status_as_unknown():
    row = AgentRow("late", "", "", "", 0.5, Health.HEALTHY, "", None, None, 3, 0, 0, 0)
    assert AgentGrid()._status(row, 10).plain.strip() == "? unknown"


async def test_r_rewinds_into_the_file_a_recording_hub_named(tmp_path):
    from replay_fixtures import EVENTS, write_session

    source = FrozenSource(EVENTS)
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("r")  # nothing recorded here, and no hub said where it records
        assert isinstance(app.screen, LiveScreen)
        source.hub_session = write_session(tmp_path / "hub.swarm")
        await pilot.press("r")
        assert isinstance(app.screen, ReplayScreen)


async def test_a_key_holds_the_feed_until_its_answer_is_painted():
    """Keys first: a push being unpickled or folded must not make a key wait behind it."""
    source = FrozenSource([Event(10**18, "a", 0, "hello", {}, 1)])
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35)) as pilot:
        screen, held = app.screen, []
        sort = screen.action_cycle_sort

        def sorting() -> None:
            held.append(not source.no_input.is_set())
            sort()

        screen.action_cycle_sort = sorting
        await pilot.press("s")
        await pilot.pause()
        assert held == [True] and source.no_input.is_set()


def _failed_and_finished(now: int) -> list[Event]:
    """`a` failed at 75% of "fetch sources" and is still beating; `b` finished and said bye."""
    beat = {"cpu": 70.0, "rss": 512 << 20}
    return [
        Event(now, "a", 0, "hello", {}, 1),
        Event(now, "a", 1, "task_start", {"task": "t1", "name": "fetch sources"}, 1),
        Event(now, "a", 2, "progress", {"task": "t1", "fraction": 0.75}, 1),
        Event(now, "a", 3, "task_end", {"task": "t1", "result": "failed"}, 1),
        Event(now, "a", 4, "status", {"status": "failed"}, 1),
        Event(now, "a", 5, "heartbeat", beat, 1),
        Event(now, "b", 0, "hello", {}, 1),
        Event(now, "b", 1, "heartbeat", beat, 1),
        Event(now, "b", 2, "status", {"status": "done"}, 1),
        Event(now, "b", 3, "bye", {"status": "done"}, 1),
    ]


def _line(widget, y: int) -> str:
    return "".join(segment.text for segment in widget.render_line(y))


async def test_a_failed_agent_shows_where_it_failed_and_a_finished_one_no_live_resources():
    now = 10**18
    app = SwarmscopeApp(FrozenSource(_failed_and_finished(now), now))
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        await pilot.pause()
        failed = _line(grid, [r.id for r in grid.rows].index("a"))
        assert "fetch sources" in failed and "✖░  75%" in failed, failed
        await pilot.press("enter")  # the failed agent, worst first: its cpu is still current
        facts = str(app.screen.query_one("#facts").render())
        assert "task fetch sources" in facts and "failed at 75%" in facts
        assert "cpu 70% rss 512M" in facts
        await pilot.press("escape")
        grid.select("b")
        await pilot.press("enter")
        facts = str(app.screen.query_one("#facts").render())
        assert "cpu — rss —" in facts and "70%" not in facts


async def test_a_card_shows_cpu_for_an_agent_still_beating_and_none_for_one_that_finished():
    now = 10**18
    app = SwarmscopeApp(FrozenSource(_failed_and_finished(now), now))
    async with app.run_test(size=(120, 35)) as pilot:
        grid = app.screen.query_one(AgentGrid)
        await pilot.pause()
        assert [r.id for r in grid.rows] == ["a", "b"]  # side by side, a first
        beats = _line(grid, 2)  # the cards' third lines: heartbeat, cpu and rss
        assert beats.count("cpu") == 1 and beats.index("cpu") < beats.index("♥", 3), beats


async def test_the_state_tree_cuts_a_long_value_with_an_ellipsis_and_no_quotes():
    now = 10**18
    state = {"plan": "finish " + "the long task " * 10, "note": None, "memory": ["did x"]}
    events = [Event(now, "a", 0, "hello", {}, 1), Event(now, "a", 1, "state", {"state": state}, 1)]
    app = SwarmscopeApp(FrozenSource(events, now))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        tree = app.screen.query_one(StateTree)
        await pilot.pause()
        lines = [_line(tree, y).rstrip() for y in range(4)]
        plan = next(line for line in lines if "plan:" in line)
        assert plan.endswith("…") and "'" not in plan and "plan: finish the long task" in plan
        assert len(plan) <= tree.scrollable_content_region.width
        assert any(line.endswith("note: —") for line in lines), lines
        assert tree.virtual_size.width <= tree.scrollable_content_region.width  # nothing hidden


async def test_the_header_says_when_the_event_log_is_a_sample():
    """More events between two frames than the log takes in, or a source whose ingest process
    sent only the newest: the header says the log is a sample, and by how many."""
    first = [Event(1_000 + k, "busy", k, "progress", {"fraction": 0.5}, 1) for k in range(10)]
    source = FrozenSource(first)
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(Header)
        assert header.summary.unlisted == 0  # the first look takes what came before as history
        flood = [
            Event(2_000 + k, "busy", k, "progress", {"fraction": 0.5}, 1)
            for k in range(10, 10 + LOG_INTAKE + 300)
        ]
        source._fold(flood)
        source.unsent += 5
        app.screen.frame()
        await pilot.pause()
        assert header.summary.unlisted == 305
        assert "≈ log sampled, 305 unlisted" in str(header.render())
