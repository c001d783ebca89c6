"""One event in full: every field it carries, a traceback as it was written.

Lists show an event as one line; an error's traceback, a log's extra fields
or a state snapshot need the whole screen. Enter on the event log (or `v`
in a replay, for the event at the cursor) opens it; escape goes back.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from swarmscope.core.events import Event, in_full, summarize, utc_stamp
from swarmscope.tui.widgets.keybar import KeyBar

MAX_CHARS = 200_000
"""Of one field's text: past this, the rest is counted, not shown (an agent can send megabytes)."""


def event_text(ev: Event, index: int | None = None) -> Text:
    """The event as the screen shows it: what, who, when; then its fields; then its long texts."""
    when = utc_stamp(ev.ts)
    where = f"event {index + 1:,} · " if index is not None else ""
    text = Text.assemble(
        (f"{where}{ev.kind}", "bold"),
        f" from {ev.agent} · {when}\n",
        (f"seq {ev.seq} of incarnation {ev.inc:x}\n", "dim"),
        (summarize(ev), "italic"),
        "\n",
    )
    fields, long_text = in_full(ev.data)
    if fields != "{}":
        text.append("\n" + _clipped(fields) + "\n")
    for name, value in long_text.items():
        text.append(f"\n{name}\n", style="bold")
        text.append(_clipped(value) + "\n")
    return text


def _clipped(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return f"{text[:MAX_CHARS]}\n… {len(text) - MAX_CHARS:,} more characters"


class EventScreen(Screen):
    """Scroll with the arrows, page keys, home and end; escape goes back."""

    BINDINGS = [Binding("escape,backspace,q", "app.pop_screen", "Back", id="event.back")]
    DEFAULT_CSS = """
    EventScreen #event { padding: 0 1; }
    """

    def __init__(self, ev: Event, index: int | None = None) -> None:
        super().__init__()
        self.event = ev
        self.index = index

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="scroll"):
            yield Static(event_text(self.event, self.index), id="event")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#scroll").focus()
