"""The key bar at the bottom of every screen: the keys that fit, most important first.

Textual's Footer scrolls what does not fit out of sight, cutting a key in half at the edge and
hiding Quit first (it comes last). This bar drops whole keys instead, least important first,
and always keeps quit and help: with those two, every other key is one `?` away.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

ALWAYS = ("app.quit", "app.help")
"""Binding ids shown at every width, before any other key is considered."""
PALETTE = "palette"
RANK_ALWAYS, RANK_SCREEN, RANK_PALETTE, RANK_APP = range(4)
"""Which keys go first when not all fit: quit and help, the screen's own, the palette, the rest
of the app's (the theme)."""


@dataclass(frozen=True)
class Key:
    """One key as the bar shows it."""

    key: str
    """What a click presses (the binding's first key)."""
    display: str
    description: str
    enabled: bool = True
    rank: int = RANK_SCREEN

    @property
    def width(self) -> int:
        return cell_len(self.display) + cell_len(self.description) + 3  # " k desc "


def fitting(keys: list[Key], width: int) -> list[Key]:
    """The keys to show in `width` cells, in their own order: by rank, then order, until one
    does not fit. A later, narrower key is not shown past a wider, more important one, so what
    is shown is always the most important."""
    ranked = sorted(range(len(keys)), key=lambda i: (keys[i].rank, i))
    shown: set[int] = set()
    used = 0
    for i in ranked:
        if used + keys[i].width > width:
            break
        shown.add(i)
        used += keys[i].width
    return [k for i, k in enumerate(keys) if i in shown]


def _rank(binding: Binding) -> int:
    if binding.id in ALWAYS:
        return RANK_ALWAYS
    return RANK_APP if (binding.id or "").startswith("app.") else RANK_SCREEN


class KeyBar(Widget, can_focus=False):
    """A one-line footer of whole keys. Clicking a key presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom; height: 1; width: 1fr;
        color: $footer-foreground; background: $footer-background;
        & > .keybar--key {
            color: $footer-key-foreground; background: $footer-key-background; text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground; background: $footer-description-background;
        }
    }
    """

    _keys: list[Key] | None = None
    """The keys last drawn from."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        """Textual says so after every action: repaint only when the keys shown change (a replay
        step cost a key bar's repaint, ~1 ms, for the same keys)."""
        keys = self.keys()
        if keys != self._keys:
            self._keys = keys
            self.refresh()

    def keys(self) -> list[Key]:
        """The screen's shown keys, one per action, the palette's last."""
        keys: list[Key] = []
        seen: set[str] = set()
        palette = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING and self.app.ENABLE_COMMAND_PALETTE:
                palette = self._key(binding, active.enabled, PALETTE, RANK_PALETTE)
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append(self._key(binding, active.enabled, binding.description, _rank(binding)))
        return keys + ([palette] if palette else [])

    def _key(self, binding: Binding, enabled: bool, description: str, rank: int) -> Key:
        display = self.app.get_key_display(binding)
        return Key(binding.key.split(",")[0].strip(), display, description, enabled, rank)

    def shown(self) -> list[Key]:
        return fitting(self.keys(), self.size.width)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        text_style = self.get_component_rich_style("keybar--description")
        text = Text(no_wrap=True, overflow="crop", end="")
        dim = Style(dim=True)
        for key in self.shown():
            text.append(f" {key.display} ", key_style if key.enabled else key_style + dim)
            text.append(f"{key.description} ", text_style if key.enabled else text_style + dim)
        return text

    def on_click(self, event: events.Click) -> None:
        x = 0
        for key in self.shown():
            if x <= event.x < x + key.width:
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
            x += key.width
