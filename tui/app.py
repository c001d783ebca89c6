"""The Textual app: themes, the frame clock, help, the command palette, and clean exits.

Screens hold the views; the app only owns what is common to all of them:
a timer that asks the top screen to draw a frame (the UI pulls from the
model at a fixed rate, whatever the event rate), the theme, and key remaps.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from swarmscope.core.live.source import Source
from swarmscope.themes import THEMES, stylesheets
from swarmscope.themes.textual_themes import OWN_THEMES
from swarmscope.tui import collector
from swarmscope.tui.ascii import ascii_driver
from swarmscope.tui.screens.help import HelpScreen
from swarmscope.tui.screens.live import LiveScreen
from swarmscope.tui.screens.swarm import SwarmScreen, allowed

MOUSE_INPUT = (events.MouseDown, events.MouseUp, events.MouseScrollDown, events.MouseScrollUp)


def is_input(event: events.Event) -> bool:
    """A key, a click, a scroll, or a move with a button held (a drag); not a bare hover, which
    a terminal reports all the time the pointer moves."""
    return isinstance(event, (events.Key, *MOUSE_INPUT)) or (
        isinstance(event, events.MouseMove) and bool(event.button)
    )


class SwarmscopeApp(App):
    TITLE = "swarmscope"
    CSS_PATH = stylesheets()
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("t", "cycle_theme", "Theme", id="app.theme"),
    ]

    def __init__(
        self,
        source: Source | None = None,
        *,
        name: str = "swarm",
        refresh: float = 0.1,
        theme: str = "dark",
        readonly: bool = False,
        findings: str | Path = ".",
        keymap: dict[str, str] | None = None,
        start: Callable[[], Screen] | None = None,
        alert_toasts: bool = True,
    ) -> None:
        """Shows the live view of `source`, or the screen `start` builds (a replay, the browser)."""
        # With NO_COLOR, Textual drops colour altogether only for an app in ANSI colours (else it
        # sends greys): no-color.tcss marks by reverse video what colour marked
        driver = ascii_driver(os.environ)
        super().__init__(driver_class=driver, ansi_color=True if "NO_COLOR" in os.environ else None)
        self.ascii = driver is not None
        """Drawing for a terminal that shows ASCII only (tui/ascii.py)."""
        self.source = source
        self._start = start or (lambda: LiveScreen(source, name))
        self.swarm_name = name
        self.refresh_s = refresh
        self.no_input = source.no_input if source is not None else threading.Event()
        """Set except while a key is answered and painted: background work waits on it (the live
        source's feed, a replay's scan)."""
        self.no_input.set()
        self.ss_theme = theme
        self.readonly = readonly
        self.findings = Path(findings)
        """Where a replay's `x` writes its findings."""
        self._user_keymap = keymap or {}  # not `_keymap`: App keeps its own under that name
        self.alert_toasts = alert_toasts
        """Pop up a toast when an agent fails (--no-alert-toasts, settings.toml turn it off)."""
        self._held: dict[str, Any] | None = None
        """The newest toast asked for while a modal was up, shown when it closes."""
        self.on_hang_up: list[Callable[[], object]] = []
        """Run, newest first, when the terminal goes away (SIGHUP)."""

    def get_key_display(self, binding: Binding) -> str:
        """A key as Textual shows it, or by its name where that is a glyph ASCII cannot show
        (`enter`, not a stand-in for ⏎)."""
        shown = super().get_key_display(binding)
        return binding.key if self.ascii and not shown.isascii() else shown

    def on_mount(self) -> None:
        collector.start()
        for theme in OWN_THEMES:
            self.register_theme(theme)
        self.set_class(self.no_color, "-no-color")
        self.apply_theme(self.ss_theme)
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.push_screen(self._start())
        self.set_interval(self.refresh_s, self.frame)
        try:
            signal.signal(signal.SIGHUP, self._hang_up)
        except ValueError:
            pass  # not the main thread (tests): no terminal to lose

    def _hang_up(self, signum: int, frame: object) -> None:
        """The terminal went away. Textual's own shutdown would block writing to it, so
        run our cleanups (stop feeds, close the recording cleanly) and leave at once."""
        for cleanup in reversed(self.on_hang_up):
            try:
                cleanup()
            except Exception:  # one failed cleanup must not keep the others from running
                pass
        os._exit(128 + signum)

    def frame(self) -> None:
        if not self.screen_stack:
            return  # quitting: the timer may tick once more after the last screen went
        frame = getattr(self.screen, "frame", None)
        if frame is None or not self.screen.is_mounted:
            return
        try:
            frame()
        except NoMatches:
            pass  # the screen is still being composed, or already being torn down

    async def on_event(self, event: events.Event) -> None:
        """Input first: a key, a click, a drag or a scroll is answered while the background waits
        (see `answering`)."""
        if not is_input(event):
            await super().on_event(event)
            return
        with self.answering():
            await super().on_event(event)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """While input is answered and until it is painted, `no_input` is clear, and the live
        feed's thread and a replay's scan wait: the answer does not queue behind a push being
        unpickled or folded, nor behind a block being scanned. For input that arrives as a
        widget's message (a timeline drag) as well as for the terminal's events."""
        self.no_input.clear()
        try:
            yield
        finally:
            self.call_after_refresh(self.no_input.set)

    def collect_after_paint(self) -> None:
        """Collect garbage once the frame being drawn is on screen (see collector.py)."""
        self.call_after_refresh(self.set_timer, collector.AFTER_PAINT_S, collector.collect_due)

    # -- toasts --------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """One toast at a time, the newest, and never over a modal (help, the palette, a dialog):
        toasts land bottom right, on what is being read, and a pile of them hides a panel."""
        toast = {"title": title, "severity": severity, "timeout": timeout, "markup": markup}
        if self._modal_on_top():
            self._held = {"message": message, **toast}
            return
        self.clear_notifications()
        super().notify(message, **toast)

    def _modal_on_top(self) -> bool:
        return bool(self.screen_stack) and isinstance(self.screen, ModalScreen)

    def _screen_changed(self, screen: Screen) -> None:
        """A modal hides the toast under it; the toast held while it was up shows when it goes."""
        if isinstance(screen, ModalScreen):
            self.clear_notifications()
        elif self._held is not None:
            held, self._held = self._held, None
            self.notify(held.pop("message"), **held)

    # -- themes ----------------------------------------------------------------------

    def apply_theme(self, name: str) -> None:
        for other in THEMES:  # not "-theme-": Textual manages classes of that prefix itself
            self.remove_class(f"-ss-{other}")
        self.add_class(f"-ss-{name}")
        self.ss_theme = name
        self.theme = THEMES[name]
        for screen in self.screen_stack:
            for widget in screen.query("LineList"):
                widget.clear_cache()

    def action_cycle_theme(self) -> None:
        names = list(THEMES)
        self.apply_theme(names[(names.index(self.ss_theme) + 1) % len(names)])
        self.notify(f"theme: {self.ss_theme}", timeout=1.5)

    # -- help and palette ----------------------------------------------------------------

    def action_help(self) -> None:
        seen, rows = set(), []
        for active in self.active_bindings.values():
            b = active.binding
            # ours all have ids
            if b.id and b.description and (b.action, b.description) not in seen:
                seen.add((b.action, b.description))
                rows.append((b.key_display or self.get_key_display(b), b.description))
        self.push_screen(HelpScreen(rows))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Help: list every key", "Show the keys of this screen", self.action_help
        )
        yield SystemCommand("Cycle theme", "dark, light, ansi, colorblind", self.action_cycle_theme)
        if isinstance(screen, SwarmScreen):
            yield SystemCommand(
                "Sort agents", "Cycle health, status, id, activity", screen.action_cycle_sort
            )
            yield SystemCommand("Filter", "Narrow the focused list", screen.action_filter)
            for panel in screen.PANELS:
                yield SystemCommand(
                    f"Go to {panel}",
                    f"Focus the {panel} panel",
                    lambda p=panel: screen.action_panel(p),
                )
        if isinstance(screen, LiveScreen):
            yield SystemCommand(
                "Pause / resume the view", "The feed keeps being taken in", screen.action_pause
            )
            yield SystemCommand("Rewind", "Replay what was recorded so far", screen.action_rewind)
        yield from self._screen_commands(screen)

    def _screen_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every bound action of the screen, by its description (replay's transport, for one)."""
        if isinstance(screen, LiveScreen):
            return
        for binding in getattr(screen, "BINDINGS", []):
            if (
                isinstance(binding, Binding)
                and binding.description
                and binding.id
                and binding.id.split(".")[0] not in ("swarm", "app")
            ):
                yield SystemCommand(
                    binding.description,
                    f"key: {binding.key}",
                    lambda b=binding: self.run_action(b.action, screen),
                )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)
