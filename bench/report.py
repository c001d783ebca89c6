"""How a bench prints a figure: value, unit, its ratio to a floor from the same run, and whether it
met its target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Report = Callable[[str], None] | None
"""Where a section's lines go: `print`, or None when only its figures (JSON) are wanted."""

MISSED: list[str] = []
"""The figures of this process that missed their target, by label (`swarmscope bench --check`
exits 1 if there are any)."""


@dataclass(frozen=True)
class Target:
    """What a figure must come to: at most (or at least) `bound`, in the figure's unit, or for the
    unit "x" as a ratio to its floor (the figure itself when it has none: it is a ratio)."""

    op: str
    bound: float
    unit: str
    says: str = ""
    """How the line puts it, where the bound alone would not ("must beat the hub")."""

    def met(self, value: float, floor: float | None) -> bool:
        x = value / floor if self.unit == "x" and floor else value
        return x <= self.bound if self.op == "<=" else x >= self.bound

    def __str__(self) -> str:
        if self.says:
            return self.says
        space = "" if self.unit == "x" else " "
        return f"target {self.op} {self.bound:,g}{space}{self.unit}"


def at_most(bound: float, unit: str, says: str = "") -> Target:
    return Target("<=", bound, unit, says)


def at_least(bound: float, unit: str, says: str = "") -> Target:
    return Target(">=", bound, unit, says)


def figure(
    report: Report,
    label: str,
    value: float,
    unit: str,
    floor: float | None = None,
    target: Target | str | None = None,
) -> None:
    """One figure as the benches print it: value, unit, its ratio to a floor from the same run,
    and its target, met or NOT met (a miss is kept in MISSED, printed or not), or a note."""
    verdict = target if isinstance(target, str) else ""
    if isinstance(target, Target):
        met = target.met(value, floor)
        verdict = f"{target}: {'met' if met else 'NOT met'}"
        if not met:
            MISSED.append(label)
    if report is None:
        return
    ratio = f"  {value / floor:5.2f}x floor" if floor else ""
    report(f"  {label:<44} {value:>12,.2f} {unit:<8}{ratio}  {verdict}")
