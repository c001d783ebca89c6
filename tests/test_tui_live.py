"""The live screen driven by keys, against a seeded swarm frozen at one instant."""

import msgpack
import zmq
from helpers import tab_title, toasts, wait_for
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
from swarmscope.tui.screens.live import LiveScreen
from swarmscope.tui.screens.replay import ReplayScreen
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.event_log import EventLog
from swarmscope.tui.widgets.header import Header
from swarmscope.tui.widgets.panels import LinkList


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


async def test_an_agent_going_failed_raises_an_alert():
    source = Source("test", clock=lambda: now[0])
    now = [10**18]
    source._fold([Event(now[0], "a", 0, "hello", {"heartbeat": 1.0}, 1)])
    app = SwarmscopeApp(source)
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        now[0] += 5 * 10**9  # five intervals of silence
        app.frame()
        await pilot.pause()
        alerts = app.screen.query_one("#alerts").rows
        assert alerts and alerts[0].agent == "a" and alerts[0].now is Health.FAILED
        assert any("FAILED" in toast for toast in toasts(app))


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
    row = AgentRow("late", "", "", "", 0.5, Health.HEALTHY, 0.1, "", None, None, 3, 0, 0)
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
