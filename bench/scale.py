"""`swarmscope bench --only scale`: ten times bigger than the other sections (issue 19's goals).

So far: a 10,000,000-event session of the seeded simulator (written once, in bounded memory,
and cached as the sessions section caches its 1,000,000): open to the first screen, seeks
anywhere (p99 against the floor of one keyframe restore and one block decode), and `sessions
profile` against one pass that only decodes. Not yet: 10,000 agents through chained hubs
(docs/benchmarks.md says what is left).
"""

from __future__ import annotations

import functools
from typing import Any

from swarmscope.bench.replay import profile_against_decode
from swarmscope.bench.report import Report, at_most, figure
from swarmscope.bench.sessions import cached_session, open_figures, seek_figures

EVENTS = 10_000_000


def bench_scale(quick: bool = False, report: Report = print) -> dict[str, Any]:
    n = EVENTS // 10 if quick else EVENTS
    if report:
        report(f"scale: a {n:,}-event session")
    line = functools.partial(figure, report)
    path = cached_session(n, report)
    out = {"events": n, **open_figures(path, line)}
    seeks = seek_figures(path, line, 100 if quick else 300)
    line(
        "seek p99 against its floor (one keyframe restore and one block decode)",
        seeks["seek_p99_ms"],
        "ms",
        seeks["restore_floor_ms"] + seeks["block_floor_ms"],
        at_most(2, "x"),
    )
    out.update(seeks)
    out.update(profile_against_decode(path, n, report))
    return out
