"""The live screen: the swarm as it is now, redrawn once a frame from a LiveSource."""

from __future__ import annotations

import time
from collections import deque

from textual import on
from textual.binding import Binding

from swarmscope.core.live.source import Source
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.tui.screens.lanes import LiveLanes
from swarmscope.tui.screens.swarm import SwarmScreen
from swarmscope.tui.widgets.event_log import EventLog, LogRow, log_rows
from swarmscope.tui.widgets.header import Header
from swarmscope.tui.widgets.lanes import LaneList, Lanes, LanesFrame
from swarmscope.tui.widgets.line_list import LineList
from swarmscope.tui.widgets.profile import TOP, ProfileList

LOG_KEEP = 5_000
LOG_INTAKE = 2_000
"""Newest events taken into the log per frame: at 100,000 events/s nobody reads them all,
and taking them all would cost the frame its budget (filter to see what matters)."""
PROFILE_EVERY_S = 1.0
"""How often the Profile tab reads the source's profile: a summary sorts every task's duration."""


class LiveScreen(SwarmScreen):
    """What an operator watches all day. Reads the source once a frame; never per event."""

    BINDINGS = [
        Binding("p", "pause", "Pause", id="live.pause"),
        Binding("r", "rewind", "Rewind", id="live.rewind"),
    ]

    def __init__(self, source: Source, name: str) -> None:
        super().__init__(name)
        self.source = source
        self.paused = False
        self._log: deque[LogRow] = deque(maxlen=LOG_KEEP)
        self._log_seen = 0
        self._log_missed = 0
        """Events the log's intake left out, over all frames (see header.Summary.unlisted)."""
        self._told: str | None = None
        self._profile_due = 0.0
        self._lanes = LiveLanes()

    def frame(self) -> None:
        """Pull from the model (held still briefly) and hand rows to the widgets."""
        if self.paused:
            return
        src = self.source
        with src.reading() as model:
            view = self.read_model(model, src.now())
            new_events, seen = src.newest(self._log_seen, LOG_INTAKE)
            if self._log_seen:  # what came before the first look is history, not a sample
                self._log_missed += seen - self._log_seen - len(new_events)
            self._log_seen = seen
            # events with fields the model could not use, or past MAX_AGENTS
            unfolded = model.refused
            lanes = self._read_lanes(model)
        self._log.extend(log_rows(new_events, self.filters["log"]))
        self.query_one(EventLog).set_rows(list(self._log))
        refused = {**src.refused, **({"not-folded": unfolded} if unfolded else {})}
        self.show(
            view,
            mode="LIVE",
            status=src.status,
            refused=refused,
            recording=src.recording,
            unlisted=src.unsent + self._log_missed,
        )
        self._show_profile()
        if lanes is not None:
            self.query_one(Lanes).show(lanes)
        # the header has room for only its start
        if src.turned_away and src.turned_away != self._told:
            self._told = src.turned_away
            self.notify(
                src.turned_away, title="turned away by the hub", severity="error", timeout=60
            )

    def _show_profile(self) -> None:
        """The profile, read only while its tab is shown, at most every PROFILE_EVERY_S (and at
        once when the tab comes into view)."""
        if self.shown_tab() != "tab-profile":
            self._profile_due = 0.0
            return
        now = time.monotonic()
        if now >= self._profile_due:
            self._profile_due = now + PROFILE_EVERY_S
            summary = self.source.profile_summary(TOP)
            self.query_one(ProfileList).show_profile(summary, "since this view began")

    def _read_lanes(self, model: SwarmModel) -> LanesFrame | None:
        """The Lanes tab's frame, folded only while the tab is shown. Call with the source held."""
        if self.shown_tab() != "tab-lanes":
            self._lanes.stop()
            return None
        return self._lanes.frame(self.source, model, self.lanes_span)

    def action_pause(self) -> None:
        """Freeze the view; the feed keeps being folded into the model (and recorded)."""
        self.paused = not self.paused
        header = self.query_one(Header)
        if header.summary:
            header.show(
                header.summary.__class__(
                    **{**header.summary.__dict__, "mode": "PAUSED" if self.paused else "LIVE"}
                )
            )
        self.frame()

    def action_rewind(self) -> None:
        """Replay everything recorded so far, while recording goes on; `l` comes back."""
        path = self.source.session_path()
        if path is None:
            self.notify(
                "nothing to rewind: this view is not being recorded "
                "(run the demo without --no-record, or watch with a hub that records)",
                severity="warning",
                timeout=5,
            )
            return
        from swarmscope.tui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen.for_live(path, self.swarm_name))

    def filters_changed(self) -> None:
        with self.source.reading():
            events = list(self.source.recent)[-LOG_KEEP * 4 :]
            self._log_seen = self.source.appended
        self._log.clear()
        self._log.extend(log_rows(events, self.filters["log"]))
        self.query_one(EventLog).follow = True

    @on(LineList.Opened, "#grid")
    def _open_agent(self, event: LineList.Opened) -> None:
        from swarmscope.tui.screens.detail import AgentDetailScreen

        self.app.push_screen(AgentDetailScreen(self.source, event.row.id))

    @on(LaneList.Zoomed)
    def _zoomed_while_paused(self) -> None:
        """A paused view still zooms: the lanes it froze, in the new window."""
        lanes = self._lanes.again(self.lanes_span) if self.paused else None
        if lanes is not None:
            self.query_one(Lanes).show(lanes)

    @on(LaneList.Chosen)
    def _open_lane(self, event: LaneList.Chosen) -> None:
        """Live, a bar has no past to seek to: enter opens its agent."""
        from swarmscope.tui.screens.detail import AgentDetailScreen

        self.app.push_screen(AgentDetailScreen(self.source, event.agent))
