"""What a heartbeat may carry about the agent's process: cpu %, rss, open handles.

Read from /proc where it exists, so the SDK needs no psutil.
"""

from __future__ import annotations

import os
import resource
import time

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class ResourceSampler:
    """CPU % since the previous sample, current RSS and open file descriptors."""

    def __init__(self) -> None:
        self._last_cpu = self._cpu_seconds()
        self._last_wall = time.monotonic()

    @staticmethod
    def _cpu_seconds() -> float:
        t = os.times()
        return t.user + t.system

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * _PAGE
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    @staticmethod
    def _handles() -> int | None:
        try:
            return len(os.listdir("/proc/self/fd"))
        except OSError:
            return None

    def sample(self) -> dict[str, float | int]:
        cpu, wall = self._cpu_seconds(), time.monotonic()
        pct = 100.0 * (cpu - self._last_cpu) / max(wall - self._last_wall, 1e-6)
        self._last_cpu, self._last_wall = cpu, wall
        out: dict[str, float | int] = {"cpu": round(pct, 1), "rss": self._rss()}
        handles = self._handles()
        if handles is not None:
            out["handles"] = handles
        return out
