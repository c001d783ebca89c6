"""Python's cyclic garbage collector, run between frames instead of inside them.

Left to itself, CPython collects when new objects pass a threshold: in the
middle of whatever frame made them. A replay seek makes tens of thousands
(decoded events, a restored model, Textual's strips, whose caches hold
themselves and so die only by collection), and every key press over 35 ms in
`swarmscope bench --only replay` had waited behind a 20-27 ms young pass.

So each drawn frame asks for a collection shortly after it is painted: late
enough that the terminal has the picture (the writer thread needs the
interpreter lock, which a collection holds throughout), soon enough that
only a few thousand new objects are about and a pass costs a few
milliseconds. CPython's own thresholds stay on, set high, as a backstop for
a burst with no frame after it. The older generations are collected on a
count of younger passes, as CPython counts them (it also puts off a full
pass while few objects have aged into the oldest generation; with
frozen start-up objects and a full pass every thousand young ones, the
count alone is enough here).
"""

from __future__ import annotations

import gc

AFTER_PAINT_S = 0.01
"""How long after a paint to collect: the event loop waits that long, and the terminal writer
runs."""
YOUNG_PACE = 2_000
"""Collect once this many new objects are about (fewer: not worth a pass)."""
BACKSTOP = 50_000
"""CPython collects by itself past this many: only a burst without frames gets that far."""
MIDDLE_EVERY = 10
"""Young passes between collections of the middle generation."""
OLD_EVERY = 100
"""Middle passes between full collections."""


def start() -> None:
    """Freeze what start-up made (it lives as long as the app) and raise CPython's thresholds.

    Frozen objects are never walked again: a live view keeps a large heap, and with
    Python's default thresholds the collector walked it over and over (about a third
    of the cost of taking an event in, measured when the live view was built)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(BACKSTOP, MIDDLE_EVERY, OLD_EVERY)


def collect_due() -> None:
    """Collect the generations that are due."""
    young, young_passes, middle_passes = gc.get_count()
    if young < YOUNG_PACE:
        return
    if young_passes < MIDDLE_EVERY:
        gc.collect(0)
    elif middle_passes < OLD_EVERY:
        gc.collect(1)
    else:
        gc.collect(2)
