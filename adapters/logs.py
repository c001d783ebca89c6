"""Python logging into swarmscope: each record a `log` event of the agent it is about.

    import logging
    from swarmscope.adapters.logs import SwarmscopeHandler
    logging.getLogger().addHandler(SwarmscopeHandler())

Whose record it is: `extra={"agent": ...}` says so; else a logger under `prefix` names it
(`prefix="swarm"`: the logger `swarm.planner-1.tools` is `planner-1`'s); else the agent a framework
adapter is working for now (pool.current_agent); else the handler's own `agent` (by default the
program's name). A record with exc_info is also an `error`, with its traceback. swarmscope's own
loggers never come back through here, nor does a record made while the handler is at work (a
warning of ours), and the handler never raises into the program: what it cannot send it counts.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

from swarmscope.adapters.pool import AgentPool, Guarded, current_agent

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "agent",
}
"""A record's own attributes: what is left over came from `extra` and goes into the fields."""
OURS = "swarmscope"
"""Loggers of this name and under it are swarmscope's own."""


class SwarmscopeHandler(logging.Handler, Guarded):
    """A logging handler that sends each record to a swarmscope hub as its agent's event."""

    def __init__(
        self,
        agent: str | None = None,
        *,
        prefix: str | None = None,
        endpoint: str | None = None,
        level: int = logging.NOTSET,
        pool: AgentPool | None = None,
    ) -> None:
        """`agent`: whose a record is when nothing else says (default: the program's name);
        `prefix`: loggers under it name their agent by the next part of their name; `endpoint`
        as Emitter takes it; `pool`: share a framework adapter's agents (default: one of its
        own)."""
        super().__init__(level)
        self.agent = agent or Path(sys.argv[0] or "python").stem or "python"
        self.prefix = prefix + "." if prefix else None
        self.pool = pool or AgentPool(endpoint)
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == OURS or record.name.startswith(OURS + ".") or self._inside():
            return
        self._busy.now = True
        try:
            self.guarded(self._send, record)
        finally:
            self._busy.now = False

    def _send(self, record: logging.LogRecord) -> None:
        em = self.pool.get(self.whose(record))
        if em is not None:
            _send(em, record)

    def whose(self, record: logging.LogRecord) -> str:
        """The agent a record is about (see the module's docstring)."""
        named = getattr(record, "agent", None)
        if isinstance(named, str) and named:
            return named
        if self.prefix and record.name.startswith(self.prefix):
            return record.name[len(self.prefix) :].split(".", 1)[0] or self.agent
        return current_agent.get() or self.agent

    def _inside(self) -> bool:
        return getattr(self._busy, "now", False)

    def close(self) -> None:
        self.pool.close()
        super().close()


def _send(em: Any, record: logging.LogRecord) -> None:
    """The record as a `log` event, and its exception as an `error`."""
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    fields.update(logger=record.name, where=f"{record.module}:{record.lineno}")
    em.log(record.levelname.lower(), _message(record), **fields)
    if record.exc_info and record.exc_info[1] is not None:
        em.error(record.exc_info[1], logger=record.name)


def _message(record: logging.LogRecord) -> str:
    """The record's message, or what it was given if its arguments do not fit it."""
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is the program's, not a reason to lose it
        return f"{record.msg!r} % {record.args!r}"
