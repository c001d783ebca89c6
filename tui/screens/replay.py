"""The replay screen: a recorded session scrubbed like a video.

Everything the live screen shows, drawn from the model at the cursor (health
as it was then), plus the timeline, transport keys and the state inspector.
A rewound live view is this screen over the session still being recorded:
it follows the file as it grows, and `l` goes back to live. A session some
other recorder is still writing, opened from the list or by name, grows the
same way.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Input, TabPane
from textual.worker import Worker

from swarmscope.core.errors import SessionError, SwarmscopeError
from swarmscope.core.live.source import INPUT_HOLD_S
from swarmscope.core.model.diff import behaviour, diff_values
from swarmscope.core.replay.blame import blame
from swarmscope.core.replay.finding import Finding, write_finding
from swarmscope.core.replay.playback import Playback
from swarmscope.core.replay.position import position_of
from swarmscope.core.replay.scan import UNKNOWN, SessionScan
from swarmscope.core.replay.session import Session, open_session
from swarmscope.tui.render import duration
from swarmscope.tui.screens.event import EventScreen
from swarmscope.tui.screens.lanes import ReplayLanes, task_start_index
from swarmscope.tui.screens.replay_profile import ReplayProfiler, starts_of, stretch
from swarmscope.tui.screens.scrubbing import (
    damage_note,
    events_around,
    steady,
    step_bindings,
    swarm_changes,
    timeline_data,
    unclosed_note,
)
from swarmscope.tui.screens.swarm import PANELS, SwarmScreen
from swarmscope.tui.widgets.agent_grid import AgentGrid
from swarmscope.tui.widgets.event_log import EventLog, event_matches, log_rows
from swarmscope.tui.widgets.inspector import Inspection, Inspector
from swarmscope.tui.widgets.lanes import LaneList, Lanes
from swarmscope.tui.widgets.line_list import LineList
from swarmscope.tui.widgets.profile import ProfileList
from swarmscope.tui.widgets.timeline import Timeline

SCANNED_JUMPS = {
    "next_error": ("errors", True),
    "prev_error": ("errors", False),
    "next_checkpoint": ("checkpoints", True),
    "prev_checkpoint": ("checkpoints", False),
}
"""Jumps the scan's marks answer by bisection (no block read), as (marks, forward)."""
SCAN_PAUSE_S = 0.001
"""The scan thread sleeps this long after each block, so the screen's thread gets the interpreter
lock at once instead of waiting out a switch interval behind a block's decoding."""


class ReplayScreen(SwarmScreen):
    """Scrub, step, play, jump; inspect any agent's state at any instant."""

    BINDINGS = [
        Binding("space", "play", "Play/pause", id="replay.play"),
        *step_bindings("replay"),
        Binding("left_square_bracket", "speed(-1)", "Slower", id="replay.slower"),
        Binding("right_square_bracket", "speed(1)", "Faster", id="replay.faster"),
        Binding("e", "jump('next_error')", "Next error", id="replay.next_error"),
        Binding("E", "jump('prev_error')", "Previous error", show=False, id="replay.prev_error"),
        Binding(
            "c",
            "jump('next_checkpoint')",
            "Next checkpoint",
            show=False,
            id="replay.next_checkpoint",
        ),
        Binding(
            "C",
            "jump('prev_checkpoint')",
            "Previous checkpoint",
            show=False,
            id="replay.prev_checkpoint",
        ),
        Binding("b", "bookmark", "Bookmark", id="replay.bookmark"),
        Binding(
            "m", "jump('next_bookmark')", "Next bookmark", show=False, id="replay.next_bookmark"
        ),
        Binding(
            "M", "jump('prev_bookmark')", "Previous bookmark", show=False, id="replay.prev_bookmark"
        ),
        Binding("n", "match(True)", "Next match", show=False, id="replay.next_match"),
        Binding("N", "match(False)", "Previous match", show=False, id="replay.prev_match"),
        Binding("g", "goto", "Go to", id="replay.goto"),
        Binding("d", "pin", "Pin for diff", id="replay.pin"),
        Binding("f", "fold", "Fold idle", show=False, id="replay.fold"),
        Binding("W", "blame_jump", "Jump to blamed event", show=False, id="replay.blame_jump"),
        Binding("x", "export", "Export a finding (markdown)", show=False, id="replay.export"),
        Binding("v", "view", "View this event in full", show=False, id="replay.view"),
        Binding("6", "panel('inspector')", "Inspector", show=False, id="replay.focus_inspector"),
        Binding("l", "live", "Live", id="replay.live"),
    ]
    DEFAULT_CSS = """
    ReplayScreen #goto { dock: bottom; display: none; }
    ReplayScreen #goto.-open { display: block; }
    """
    PANELS = (*PANELS, "inspector", "profile", "lanes")
    YIELDED_KEYS = frozenset({"step", "jump"})
    """LineList actions left to this screen: arrows and home/end move through time here."""

    def __init__(
        self,
        session: Session,
        name: str,
        *,
        live: bool = False,
        start: int | None = None,
        opened_from_list: bool = False,
    ) -> None:
        super().__init__(name)
        self.session = session
        self.live = live
        self.follows = live or session.meta["recording"]
        """The file is still being recorded: the screen takes in what is appended."""
        self.opened_from_list = opened_from_list
        """Pushed over the session browser: escape goes back to it."""
        self.cursor = session.cursor(len(session) - 1 if start is None else start)
        self.playback = Playback(self.cursor)
        self.pinned: int | None = None
        self._blame: dict | None = None
        self._drawn: tuple | None = None
        self._log_short = False
        """The event list stops short of its window (events_around's at_hand): the next frame
        fills it."""
        self._changed_cache: dict[tuple[str, int], frozenset[str]] = {}
        self._scan = SessionScan(session.file.path)
        self._scanner: Worker | None = None
        self._damage_said = ""
        self._profiler = ReplayProfiler(self, session.file.path)
        self._lanes = ReplayLanes()

    @classmethod
    def for_live(cls, path: Path, name: str) -> ReplayScreen:
        """Rewind: the session being recorded, cursor at its newest event."""
        return cls(open_session(path), name, live=True)

    # -- composition ----------------------------------------------------------------------

    def compose_top(self) -> ComposeResult:
        yield Timeline(timeline_data(self.session, self._scan.result), id="timeline")

    def compose_tabs(self) -> ComposeResult:
        with TabPane("Inspector [6]", id="tab-inspector"):
            yield Inspector(id="inspector")

    def compose_bottom(self) -> ComposeResult:
        yield Input(
            id="goto", placeholder="go to: event number, +N / -N events, +Ns / -Ns, or hh:mm:ss"
        )

    def on_mount(self) -> None:
        for lst in self.query(LineList):
            lst.yielded_actions = self.YIELDED_KEYS
        log = self.query_one(EventLog)
        log.follow = log.counts_new = False
        super().on_mount()
        self._no_input = self.app.no_input  # read on the scan's thread
        self._start_scan()
        # a rewind's file is still being written
        note = None if self.live else unclosed_note(self.session)
        if note:
            self.notify(note, severity="warning", timeout=10)

    def _scan_pause(self) -> None:
        """After each block: let the screen's thread have the interpreter, and wait while a key
        is answered (docs/benchmarks.md#scale has what the scan cost a drag before)."""
        time.sleep(SCAN_PAUSE_S)
        self._no_input.wait(INPUT_HOLD_S)

    def _start_scan(self) -> None:
        """Scan what is not scanned yet, on a worker thread (a pass over the file: seconds for a big
        one)."""
        if self._scanner is None or self._scanner.is_finished:
            self._scanner = self.run_worker(self._run_scan, thread=True, group="scan")

    def _run_scan(self) -> None:
        """On the worker thread. A file that cannot be read now keeps the timeline the index
        drew."""
        try:
            if self._scan.run(pause=self._scan_pause):
                self.app.call_from_thread(self._scanned)
        except SwarmscopeError as exc:
            self.app.call_from_thread(
                self.notify, f"timeline marks are approximate: {exc}", severity="warning"
            )

    def _scanned(self) -> None:
        """The scan read its own copy of the file, which may have grown past this screen's: follow
        first, so the timeline never marks an error the session here does not hold yet."""
        if not self._follow():
            self._show_timeline()

    def _follow(self) -> bool:
        """A file still being recorded: take in what was appended since; True if there was any.
        Done before every jump too: a key answers from the same blocks the timeline shows."""
        if not (self.follows and self.session.refresh()):
            return False
        self._show_timeline()
        self._start_scan()
        return True

    def _show_timeline(self) -> None:
        try:
            timeline = self.query_one(Timeline)
            timeline.update(
                data=timeline_data(self.session, self._scan.result, timeline.data.blocks)
            )
        except NoMatches:
            pass  # a scan that ends after `l` took the screen down, or before it is composed

    # -- the frame --------------------------------------------------------------------------

    @steady
    def frame(self) -> None:
        self._follow()
        self.playback.tick(time.monotonic())
        cur = self.cursor
        state = (
            cur.pos,
            self.sort,
            *self.filters.values(),
            len(self.session),
            self.playback.playing,
            self.playback.speed,
            self.pinned,
            self._selected_agent(),
            id(self._blame),
            self.shown_tab(),
            self.lanes_span,
            self.size.width,  # titles and labels are worded for the width
        )
        if state == self._drawn:
            if self._log_short:
                self._show_events(at_hand=False)
            return
        self._drawn = state
        view = self.read_model(cur.model, cur.clock)
        self.show(view, mode="REPLAY", position=self._position(), alerts=False)
        self.query_one(Timeline).update(cursor=(cur.pos, cur.clock), pinned=self.pinned)
        if self.shown_tab() == "tab-log":  # the tabs below are filled while shown (_tab_shown)
            self._show_events(at_hand=True)
        elif self.shown_tab() == "tab-inspector":
            self._inspect()
        elif self.shown_tab() == "tab-profile":
            self._profiler.want(*stretch(self.pinned, cur.pos))
        elif self.shown_tab() == "tab-lanes":
            lanes = self._lanes.frame(self.session, cur.pos, cur.clock, self.lanes_span)
            self.query_one(Lanes).show(lanes)

    def _position(self) -> str:
        pb, n = self.playback, len(self.session)
        play = "▶" if pb.playing else "❚❚"
        speed = pb.speed if pb.speed == "max" else f"{pb.speed:g}x"
        at = (
            f"{self.cursor.pos + 1:,}/{n:,}"
            if self.compact
            else f"event {self.cursor.pos + 1:,} of {n:,}"
        )
        text = f"{play} {speed} · {at}"
        if self.live and n:
            behind = (self.session[n - 1].ts - self.cursor.clock) / 1e9
            late = (
                f"live -{duration(behind)}" if self.compact else f"{duration(behind)} behind live"
            )
            text += f" · {late}" if behind >= 1 else " · at live"
        return text

    def _show_events(self, at_hand: bool) -> None:
        pos = self.cursor.pos
        lo, events, whole = events_around(self.session, pos, at_hand=at_hand)
        self._log_short = not whole
        rows = log_rows(events, self.filters["log"], skip_heartbeats=False)
        log = self.query_one(EventLog)
        log.set_rows(rows)
        at = (
            next(
                (
                    k
                    for k, r in enumerate(rows)
                    if r.seq == events[pos - lo].seq
                    and r.agent == events[pos - lo].agent
                    and r.ts == events[pos - lo].ts
                ),
                None,
            )
            if events
            else None
        )
        if at is not None:
            log.cursor = at

    def met_damage(self, exc: SessionError) -> None:
        """A move or a frame met a damaged block: stop playing and say so, once for each block."""
        self.playback.playing = False
        if str(exc) != self._damage_said:
            self._damage_said = str(exc)
            self.notify(damage_note(exc, self.cursor.pos), severity="error", timeout=8)

    def _selected_agent(self) -> str | None:
        row = self.query_one(AgentGrid).selected
        if row is not None:
            return row.id
        ev = self.cursor.event
        return ev.agent if ev else None

    # -- the inspector ------------------------------------------------------------------------

    def _inspect(self) -> None:
        agent_id = self._selected_agent()
        agent = self.cursor.model.agents.get(agent_id or "")
        if agent is None:
            return
        pos = self.cursor.pos
        pinned_diff, others = {}, ""
        if self.pinned is not None:
            whole = self.session.diff(self.pinned, pos)
            pinned_diff = {
                k: tuple(v) for k, v in behaviour(whole["agents"].get(agent.id, {})).items()
            }
            others = swarm_changes(whole, agent.id)
        self.query_one(Inspector).show(
            Inspection(
                agent.id,
                pos,
                agent.state,
                self._changed(agent.id, pos),
                self.pinned,
                pinned_diff,
                self._blame if self._blame and self._blame["agent"] == agent.id else None,
                others,
            )
        )

    def _changed(self, agent_id: str, pos: int) -> frozenset[str]:
        """State paths of `agent_id` that event `pos` changed (cached: it costs a seek)."""
        key = (agent_id, pos)
        if key not in self._changed_cache:
            ev = self.cursor.event
            changed: frozenset[str] = frozenset()
            if ev is not None and ev.agent == agent_id and ev.kind in ("state", "patch"):
                before = self.session.state_before(pos).agents.get(agent_id)
                after = self.cursor.model.agents[agent_id].state
                changed = frozenset(diff_values(before.state if before else {}, after))
            if len(self._changed_cache) > 256:
                self._changed_cache.clear()
            self._changed_cache[key] = changed
        return self._changed_cache[key]

    @on(Inspector.Blame)
    @steady
    def _blame_field(self, message: Inspector.Blame) -> None:
        agent = self._selected_agent()
        if agent is None:
            return
        self._blame = blame(self.session, agent, message.path, self.cursor.pos)
        if self._blame is None:
            before = self.session.continues
            self.notify(
                f"no event changed {message.path} up to here"
                + (
                    f": it comes from the session this one continues ({before[:8]})"
                    if before
                    else ""
                ),
                timeout=4,
            )
        self.frame()

    @steady
    def action_blame_jump(self) -> None:
        if self._blame:
            self._land(self.cursor.seek(self._blame["index"]))

    # -- transport ------------------------------------------------------------------------------

    def _move(self, _: int | None = None) -> None:
        self.frame()

    def _land(self, found: int | None) -> None:
        """After a jump that found its place, the grid's cursor (and so the inspector) goes to the
        agent of the event landed on: jumping to an error shows the agent that raised it."""
        ev = self.cursor.event if found is not None else None
        if ev is not None:
            self.query_one(AgentGrid).select(ev.agent)
        self.frame()

    def action_play(self) -> None:
        self.playback.toggle(time.monotonic())
        self.frame()

    @steady
    def action_step(self, n: int) -> None:
        self.playback.playing = False
        self._move(self.cursor.step(n))

    @steady
    def action_seek(self, i: int) -> None:
        self._move(self.cursor.seek(i if i >= 0 else len(self.session) - 1))

    def action_speed(self, direction: int) -> None:
        (self.playback.faster if direction > 0 else self.playback.slower)()
        self.frame()

    @steady
    def action_jump(self, what: str) -> None:
        self._follow()
        found = self._find_scanned(what)
        if found == UNKNOWN:
            found = getattr(self.cursor, what)()  # reads blocks until it finds one
        elif found is not None:
            self.cursor.seek(found)
        if found is None:
            self.notify(f"no {what.replace('_', ' ')} from here", timeout=2)
        self._land(found)

    def _find_scanned(self, what: str) -> int | None:
        """Where the scan's exact marks say the jump lands, once it has covered that far."""
        if what not in SCANNED_JUMPS:
            return UNKNOWN
        marks, forward = SCANNED_JUMPS[what]
        result = self._scan.result
        return result.find(getattr(result, marks), self.cursor.pos, forward, len(self.session))

    @steady
    def action_match(self, forward: bool) -> None:
        profile = self.query_one(ProfileList)
        if profile.has_focus:
            self._match_task(profile.follow_task(), forward)
            return
        flt = self.filters["log"]
        if not flt:
            self.notify(
                "set an event filter first: 3, then / (e.g. kind:error agent:coder-02)", timeout=3
            )
            return
        found = (self.cursor.next_match if forward else self.cursor.prev_match)(
            lambda ev: event_matches(flt, ev)
        )
        if found is None:
            self.notify(
                f"no {'later' if forward else 'earlier'} event matches {flt.text!r}", timeout=2
            )
        self._land(found)

    def _match_task(self, task: str | None, forward: bool) -> None:
        """n / N on the Profile tab: the next or previous start of the task under its cursor."""
        if task is None:
            self.notify("put the cursor on a task (j / k): n / N then go to its starts", timeout=3)
            return
        found = (self.cursor.next_match if forward else self.cursor.prev_match)(starts_of(task))
        if found is None:
            self.notify(f"no {'later' if forward else 'earlier'} start of {task!r}", timeout=2)
        self._land(found)

    def action_bookmark(self) -> None:
        pos = self.cursor.pos
        only_here = self.session.add_bookmark(pos, f"bookmark {len(self.session.bookmarks) + 1}")
        self._show_timeline()
        where = (
            f"kept in this replay only: {only_here}" if only_here else "saved in the session file"
        )
        self.notify(f"bookmarked event {pos + 1:,}, {where} (m / M: next / previous)", timeout=3)

    def action_pin(self) -> None:
        self.pinned = None if self.pinned == self.cursor.pos else self.cursor.pos
        profiling = self.shown_tab() == "tab-profile"
        panel = "the profile covers" if profiling else "the inspector shows what changed"
        self.notify(
            "unpinned"
            if self.pinned is None
            else f"pinned event {self.pinned + 1:,}: {panel} from here to the cursor",
            timeout=2,
        )
        self.action_panel("profile" if profiling else "inspector")
        self.frame()

    @steady
    def action_export(self) -> None:
        """Write what the screen shows at the cursor as markdown, where --findings says."""
        finding = Finding(self.cursor.pos, self._selected_agent(), self.pinned)
        folder = getattr(self.app, "findings", Path("."))
        try:
            path = write_finding(self.session, finding, folder)
        except OSError as exc:
            self.notify(
                f"cannot write the finding into {folder.resolve()}: {exc.strerror} (--findings "
                "chooses where)",
                severity="error",
                timeout=5,
            )
            return
        self.notify(f"wrote {path.resolve()}", timeout=5)

    def action_view(self) -> None:
        if self.cursor.event is not None:
            self.app.push_screen(EventScreen(self.cursor.event, self.cursor.pos))

    def action_fold(self) -> None:
        timeline = self.query_one(Timeline)
        timeline.fold = not timeline.fold
        timeline.refresh()

    def action_goto(self) -> None:
        box = self.query_one("#goto", Input)
        box.value = ""
        box.add_class("-open")
        box.focus()

    @on(Input.Submitted, "#goto")
    def _goto(self, event: Input.Submitted) -> None:
        box = self.query_one("#goto", Input)
        box.remove_class("-open")
        self.query_one(AgentGrid).focus()
        try:
            self._land(self.cursor.seek(position_of(event.value, self.session, self.cursor.pos)))
        except (ValueError, IndexError, SwarmscopeError) as exc:
            self.notify(str(exc), severity="warning", timeout=3)

    def action_clear(self) -> None:
        """Escape: close the go-to box, else what the swarm screen clears; with nothing left to
        clear, back to where this replay was opened from (the live view, or the session list)."""
        box = self.query_one("#goto", Input)
        if box.has_class("-open"):
            box.remove_class("-open")
            self.query_one(AgentGrid).focus()
        elif not self.clear_something() and (self.live or self.opened_from_list):
            self.app.pop_screen()

    def action_live(self) -> None:
        if self.live:
            self.app.pop_screen()
        else:
            self.notify("this is a recorded session: there is no live to go back to", timeout=2)

    @on(Timeline.Seek)
    @steady
    def _scrub(self, message: Timeline.Seek) -> None:
        """A click or a drag; of a drag's stream, queued ones fold into the newest
        (Seek.can_replace)."""
        self.playback.playing = False
        cur = self.cursor
        with self.app.answering():  # the drag's stream of seeks comes as messages, not as input
            self._move(
                cur.seek(message.index) if message.index is not None else cur.seek_time(message.ts)
            )

    @on(LineList.Opened, "#grid")
    def _open_agent(self, event: LineList.Opened) -> None:
        self.action_panel("inspector")
        self._drawn = None
        self.frame()

    @on(LaneList.Chosen)
    @steady
    def _seek_task(self, event: LaneList.Chosen) -> None:
        """Enter on a bar of the Lanes tab: the cursor goes to where its task began."""
        found = (
            None if event.bar is None else task_start_index(self.session, event.agent, event.bar)
        )
        if found is None:
            self.notify(f"no task of {event.agent} to go to here", timeout=2)
            return
        self.playback.playing = False
        self._land(self.cursor.seek(found))

    def on_unmount(self) -> None:
        self._scan.close()
        self._profiler.close()
        if self.live:
            self.session.close()
