"""Markdown tables, as every report swarmscope writes for people makes them (the export, a
finding, the health report, the profile): one place that makes a value safe in a cell."""

from __future__ import annotations


def md_cell(text: str) -> str:
    """Text safe inside a markdown table cell: one line, no column breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_row(*cells: object) -> str:
    """A markdown table row, every cell made safe; counts with thousands separators, as
    elsewhere."""
    return "| " + " | ".join(md_cell(f"{c:,}" if type(c) is int else str(c)) for c in cells) + " |"
