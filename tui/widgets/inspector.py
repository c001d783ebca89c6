"""The state inspector: one agent's own state at the cursor, what just changed, and why.

Fed plain data by the replay screen (the state, the paths that changed since
the previous event, the diff against a pinned instant, a blame answer); it
never reads the session itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree

from swarmscope.core.words import plain
from swarmscope.tui.widgets.state_tree import StateTree, fill_tree


@dataclass(frozen=True)
class Inspection:
    agent: str
    index: int
    state: Any
    changed: frozenset[str] = frozenset()
    """Dotted paths under `state` that changed since the previous event."""
    pinned: int | None = None
    pinned_diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """This agent's fields that differ between the pinned instant and the cursor."""
    blame: dict | None = None
    others: str = ""
    """What else changed in the swarm since the pinned instant (agents changed, appeared, gone)."""


class Inspector(Horizontal, can_focus=False):
    """A tree of the state (changed leaves marked ●) beside the pinned diff and the last blame."""

    BINDINGS = [
        Binding("w", "blame", "Who changed it", id="inspector.blame"),
    ]
    DEFAULT_CSS = """
    Inspector #inspect-tree { width: 1fr; height: 1fr; }
    Inspector #inspect-side { width: 1fr; height: 1fr; background: $panel; padding: 0 1; }
    """

    class Blame(Message):
        """Asked who last changed the field under the tree's cursor."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.inspection: Inspection | None = None

    def compose(self) -> ComposeResult:
        yield StateTree("state", id="inspect-tree")
        with VerticalScroll(id="inspect-side"):
            yield Static("select an agent and press enter", id="inspect-notes")

    def show(self, inspection: Inspection) -> None:
        if inspection == self.inspection:
            return
        old, self.inspection = self.inspection, inspection
        if old is None or (
            old.state is not inspection.state
            or old.changed != inspection.changed
            or old.agent != inspection.agent
        ):
            self._fill(inspection)
        self.query_one(Tree).root.set_label(
            Text.assemble((inspection.agent, "bold"), f" at event {inspection.index + 1:,}")
        )
        self.query_one("#inspect-notes", Static).update(self._notes(inspection))

    def _fill(self, ins: Inspection) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.root.expand()
        fill_tree(tree.root, ins.state, ins.changed)

    def _notes(self, ins: Inspection) -> Text:
        text = Text()
        if ins.changed:
            text.append(
                f"● changed by this event: {', '.join(sorted(ins.changed))}\n", style="bold"
            )
        if ins.pinned is not None:
            text.append(f"since pinned event {ins.pinned + 1:,}: ", style="bold")
            if ins.others:
                text.append(f"\n  {ins.others}", style="italic")
            if not ins.pinned_diff:
                text.append(f"\n  {ins.agent}: no change" if ins.others else "no change")
            for path, (before, after) in sorted(ins.pinned_diff.items()):
                text.append(f"\n  {path}: {plain(before, 60)} → {plain(after, 60)}")
            text.append("\n")
        if ins.blame:
            b = ins.blame
            ev = b["event"]
            text.append(
                f"{b['field']} set by event {b['index'] + 1:,} ({ev['kind']} from {ev['agent']})",
                style="bold",
            )
            if b.get("caused_by"):
                c = b["caused_by"]
                text.append(
                    f", after message {c['index'] + 1:,} from {c['agent']} "
                    f"[{c.get('topic') or '-'}]"
                )
            text.append("  W jumps there")
        return text or Text("w on a field: who changed it", style="dim")

    def action_blame(self) -> None:
        node = self.query_one(Tree).cursor_node
        path = node.data if node is not None else None
        if path:
            self.post_message(self.Blame(f"state.{path}"))
