"""How a bench prints a figure: value, unit, and its ratio to a floor from the same run."""

from __future__ import annotations

from collections.abc import Callable

Report = Callable[[str], None] | None
"""Where a section's lines go: `print`, or None when only its figures (JSON) are wanted."""


def figure(
    report: Report,
    label: str,
    value: float,
    unit: str,
    floor: float | None = None,
    target: str = "",
) -> None:
    """One figure as the benches print it: value, unit, and its ratio to a floor from the same
    run."""
    if report is None:
        return
    ratio = f"  {value / floor:5.2f}x floor" if floor else ""
    report(f"  {label:<44} {value:>12,.2f} {unit:<8}{ratio}  {target}")
