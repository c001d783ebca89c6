"""An agent's own state as a Textual tree: maps become branches, the rest leaves.

Shared by the live agent detail and the replay inspector; the inspector
also marks the leaves an event just changed. Values read as people write them
(core.words.plain), and a label too long for the tree's width ends in an
ellipsis rather than at the edge, where a cut value looks whole.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from swarmscope.core.words import plain

MAX_NODES = 2_000
MAX_LEAF = 200
"""Characters of a leaf's value kept in its label, whatever the width."""


class StateTree(Tree):
    """Labels cut to the width the tree shows, with an ellipsis: a plain Tree crops them at its
    edge, where a cut value looks whole (and the rest is off to the side, out of sight)."""

    def render_label(self, node: TreeNode, base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        guides = _depth(node) - (0 if self.show_root else 1)
        room = self.scrollable_content_region.width - self.guide_depth * guides
        if room > 0 and label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label


def _depth(node: TreeNode) -> int:
    depth, parent = 0, node.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


def fill_tree(
    node: TreeNode,
    value: Any,
    changed: frozenset[str] = frozenset(),
    prefix: str = "",
    budget: list[int] | None = None,
) -> None:
    """Add `value` under `node`; each node's data is its dotted path; paths in `changed` get a ●."""
    budget = [MAX_NODES] if budget is None else budget
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        budget[0] -= 1
        if budget[0] < 0:
            node.add_leaf("… (more)")
            return
        path = f"{prefix}.{key}" if prefix else str(key)
        hot = any(p == path or p.startswith(path + ".") for p in changed)
        mark = ("● ", "bold yellow") if hot else ("", "")
        if isinstance(child, dict) and child:
            branch = node.add(
                Text.assemble(mark, (plain(str(key)), "bold")), data=path, expand=len(child) <= 8
            )
            fill_tree(branch, child, changed, path, budget)
        else:
            label = Text.assemble(mark, (f"{plain(str(key))}: ", "bold"), plain(child, MAX_LEAF))
            node.add_leaf(label, data=path)
