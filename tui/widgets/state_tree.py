"""An agent's own state as a Textual tree: maps become branches, the rest leaves.

Shared by the live agent detail and the replay inspector; the inspector
also marks the leaves an event just changed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets.tree import TreeNode

MAX_NODES = 2_000


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
                Text.assemble(mark, (str(key), "bold")), data=path, expand=len(child) <= 8
            )
            fill_tree(branch, child, changed, path, budget)
        else:
            node.add_leaf(Text.assemble(mark, (f"{key}: ", "bold"), short(child, 200)), data=path)


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
