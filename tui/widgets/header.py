"""The header: the state of the whole swarm in two lines."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from swarmscope.core.model.health import Health
from swarmscope.core.words import counted
from swarmscope.tui.render import duration, sparkline


@dataclass(frozen=True)
class Summary:
    """Everything the header shows, read from the model once a frame."""

    name: str
    mode: str
    """LIVE, PAUSED, or a replay position."""
    status: str
    health: dict[Health, int]
    rate: float
    rates: tuple[int, ...]
    errors: int
    error_rate: float
    gaps: int
    refused: int
    refused_why: str
    """The commonest reason frames were refused (wire.DecodeStats), "" if none were."""
    recording: bool | None
    clock: str
    eta_s: float | None
    agents: int
    position: str = ""
    """In a replay: where the cursor is (event, speed, how far behind live)."""
    unlisted: int = 0
    """Live: events folded into the model that the event log never got (it takes the newest of
    each frame, as the ingest process sends the newest of each push): the log is a sample."""


class Header(Widget):
    """Two lines: swarm, mode and clock; then health counts, rate sparkline, errors, gaps,
    recording."""

    COMPONENT_CLASSES = {
        *(f"health--{h.value}" for h in Health),
        "header--mode",
        "header--warn",
        "header--muted",
    }
    DEFAULT_CSS = """
    Header { height: 2; background: $panel; padding: 0 1; }
    Header > .health--healthy { color: $success; }
    Header > .health--degraded { color: $warning; }
    Header > .health--critical { color: $error; }
    Header > .health--failed { color: $error; text-style: bold; }
    Header > .health--stopped { color: $text-muted; }
    Header > .header--mode { background: $accent; color: $text; text-style: bold; }
    Header > .header--warn { color: $warning; text-style: bold; }
    Header > .header--muted { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary: Summary | None = None

    def cstyle(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def on_resize(self) -> None:
        self.refresh()

    def show(self, summary: Summary) -> None:
        if summary != self.summary:
            self.summary = summary
            self.refresh()

    def render(self) -> Text:
        s = self.summary
        if s is None:
            return Text("swarmscope")
        style = self.cstyle
        rec = {True: "● REC", False: "○ not recording", None: ""}[s.recording]
        right = f"{rec}  ETA {duration(s.eta_s)}  {s.clock}"
        top = Text.assemble(("swarmscope ", "bold"), (f" {s.mode} ", style("header--mode")), " ")
        if s.position:
            top.append(f"{s.position}  ", style="bold")
        note = (
            (f"⚠ {s.status}", style("header--warn"))
            if s.status != "live"
            else (counted(s.agents, "agent"), None)
        )
        width = self.content_size.width
        top.append_text(Text.assemble(s.name, "  ", note))
        top.truncate(max(10, width - len(right) - 1), overflow="ellipsis")
        top.append(" " * max(1, width - top.cell_len - len(right)) + right)
        top.truncate(width)
        bottom = Text()
        for h in Health:
            bottom.append(f"{h.glyph} {s.health.get(h, 0)} ", style=style(f"health--{h.value}"))
        bottom.append(
            f" {s.rate:,.0f} ev/s {sparkline(list(s.rates), 20 if width >= 100 else 8)}  "
        )
        bottom.append(
            f"✖ {s.errors} err ({s.error_rate:.1f}/s)  ",
            style=style("header--warn") if s.error_rate else None,
        )
        bottom.append(f"⋯ {s.gaps} lost", style=style("header--warn") if s.gaps else None)
        if s.unlisted:
            bottom.append(f"  ≈ log sampled, {s.unlisted:,} unlisted", style=style("header--warn"))
        if s.refused:
            bottom.append(f"  ⚠ {s.refused} refused: {s.refused_why}", style=style("header--warn"))
        bottom.truncate(width, overflow="ellipsis")
        return Text("\n").join([top, bottom])
