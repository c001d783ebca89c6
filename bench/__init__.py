"""Benchmarks: every figure next to a floor measured in the same run (`swarmscope bench`).

Machines here are shared and noisy, so absolute numbers mean little; the
ratio to a floor taken seconds earlier on the same machine is what we
track. Each section is a module of this package, imported only when it runs:
the UI sections need Textual, the long sections (trust, scale) minutes. Figures and their
history: docs/benchmarks.md.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from swarmscope.bench.report import Report, figure

SECTIONS = ("emit", "e2e", "sessions", "ui", "replay", "otlp", "adapters", "ops")
"""What `swarmscope bench` runs by default, each section in a process of its own."""
LONG_SECTIONS = ("hostile", "soak", "scale")
"""Minutes each: run only when asked for by name (`--only hostile`)."""
_RUNNERS = {
    "emit": ("emit", "bench_emit"),
    "e2e": ("e2e", "bench_e2e"),
    "sessions": ("sessions", "bench_sessions"),
    "ui": ("ui", "bench_ui"),
    "replay": ("replay", "bench_replay"),
    "otlp": ("otlp", "bench_otlp"),
    "adapters": ("adapters", "bench_adapters"),
    "ops": ("ops", "bench_ops"),
    "scale": ("scale", "bench_scale"),
    "hostile": ("trust", "bench_hostile"),
    "soak": ("trust", "bench_soak"),
}
_TAKE_LINE = {"sessions", "hostile", "soak"}
"""Sections that print their figures through a `line` function (`figure` bound to the report)."""


def run_section(name: str, quick: bool = False, report: Report = print) -> dict[str, Any]:
    """Run one section and return its figures (what `--json` prints)."""
    module, function = _RUNNERS[name]
    run = getattr(importlib.import_module(f"swarmscope.bench.{module}"), function)
    if name in _TAKE_LINE:
        return run(functools.partial(figure, report), quick=quick, report=report)
    return run(quick=quick, report=report)
