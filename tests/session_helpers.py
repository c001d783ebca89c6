"""Building sessions by hand for tests: events with known answers, written by the real writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swarmscope.core.events import Event
from swarmscope.core.session.writer import SessionWriter, new_header

NS = 1_000_000_000
T0 = 1_767_225_600 * NS


class Script:
    """Events for a few agents, one call per event, each agent's seq counted for you."""

    def __init__(self, step_ns: int = NS // 10) -> None:
        self.events: list[Event] = []
        self.step_ns = step_ns
        self._seq: dict[str, int] = {}

    def __call__(self, agent: str, kind: str, at: int | None = None, **data: Any) -> int:
        """Append an event (at: seconds after T0, default one step after the last); returns its
        index."""
        ts = (
            T0 + int(at * NS)
            if at is not None
            else (self.events[-1].ts + self.step_ns if self.events else T0)
        )
        seq = self._seq.get(agent, 0)
        self._seq[agent] = seq + 1
        self.events.append(Event(ts, agent, seq, kind, data, 1))
        return len(self.events) - 1

    def write(
        self, path: Path, name: str = "hand", tags: tuple[str, ...] = (), **options: Any
    ) -> Path:
        with SessionWriter(path, new_header(name, tags), **options) as w:
            w.append(self.events)
        return path


def write_events(
    path: Path, events: list[Event], batch: int = 500, close: bool = True, **options: Any
) -> SessionWriter:
    """Write `events` in batches as a recorder would; close unless told not to."""
    w = SessionWriter(path, **options)
    for k in range(0, len(events), batch):
        w.append(events[k : k + batch])
    if close:
        w.close()
    else:
        w.flush()
    return w
