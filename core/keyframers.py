"""The writers' side of a keyframer process (see keyframer.py for the conversation).

`Keyframers` is the process, started with its first session and shared by
every session a recorder writes; `KeyframerSession` is one writer's handle
on it. A reader thread sorts what the process says by session. If the
process dies, its sessions carry on without keyframes (their writers fold
the summary themselves at close), and the next session starts a new one.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any

import msgpack

from . import session_format as fmt
from .model import SwarmModel


class Keyframers:
    """A keyframer process for a recorder's sessions; started when a session needs it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._sessions: dict[int, KeyframerSession] = {}
        self._ids = itertools.count()
        self._sending = threading.Lock()
        self.answered = threading.Condition()

    def session(self, path: Path, start: SwarmModel | None, every: int, seconds: float) -> "KeyframerSession":
        """A new session to fold, starting from `start` (the keyframe at event 0 of a part that continues another)."""
        with self._sending:
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()
            session = KeyframerSession(self, next(self._ids), self._proc)
            self._sessions[session.sid] = session
        self.send(["start", session.sid, str(path), every, seconds, start.compact() if start is not None else None])
        return session

    def close(self) -> None:
        """End the process once its sessions are done (it exits when its requests end)."""
        with self._sending:
            proc, self._proc = self._proc, None
        if proc is not None:
            _close_quietly(proc)

    def send(self, request: list) -> None:
        with self._sending:
            if self._proc is None:
                return
            try:
                self._proc.stdin.write(fmt.pack(request))
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # it died: its reader says so to every session

    def forget(self, session: "KeyframerSession") -> None:
        self._sessions.pop(session.sid, None)

    def _spawn(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", "swarmscope.core.keyframer"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=self._read, args=(self._proc,), name="swarmscope-keyframes", daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        replies = msgpack.Unpacker(strict_map_key=False, max_buffer_size=1 << 30)
        fd = proc.stdout.fileno()
        while data := os.read(fd, 1 << 16):
            replies.feed(data)
            for reply in replies:
                session = self._sessions.get(reply[1])
                if session is not None:
                    session.hear(reply)
        with self.answered:  # the process is gone: its sessions fold no more
            for session in list(self._sessions.values()):
                if session.process is proc:
                    session.alive = False
            self.answered.notify_all()
        proc.stdout.close()


class KeyframerSession:
    """One writer's session in a keyframer process."""

    def __init__(self, keyframers: Keyframers, sid: int, process: subprocess.Popen) -> None:
        self.keyframers, self.sid, self.process = keyframers, sid, process
        self.alive = True
        self._made: deque[tuple[bytes, bool]] = deque()
        self._replies: dict[Any, list] = {}
        self._asks = itertools.count()

    def hear(self, reply: list) -> None:
        """A reply for this session, from the reader thread."""
        if reply[0] == "kf":
            self._made.append((reply[2], reply[3]))
            return
        with self.keyframers.answered:
            if reply[0] == "lost":
                self.alive = False
            self._replies[reply[2] if reply[0] == "model" else reply[0]] = reply
            self.keyframers.answered.notify_all()

    def grew(self) -> None:
        """The session's file has a new block to fold."""
        self.keyframers.send(["grew", self.sid])

    def keyframes(self) -> list[tuple[bytes, bool]]:
        """The keyframes made since last asked, in order."""
        made = self._made
        return [made.popleft() for _ in range(len(made))]

    def model(self, n: int, timeout: float) -> SwarmModel | None:
        """The model once `n` events are folded; None after `timeout`, or if it cannot fold them."""
        ask = next(self._asks)
        self.keyframers.send(["model", self.sid, ask, n])
        reply = self._reply(ask, timeout)
        return SwarmModel.from_compact(reply[3]) if reply is not None else None

    def finish(self, n: int) -> tuple[dict, SwarmModel] | None:
        """Everything folded: (summary, model); None if the keyframer could not."""
        self.keyframers.send(["finish", self.sid, n])
        reply = self._reply("done", None)
        self.keyframers.forget(self)
        return (reply[2], SwarmModel.from_compact(reply[3])) if reply is not None else None

    def stop(self) -> None:
        """Leave it unfolded (a session not kept, or begun again)."""
        self.keyframers.send(["stop", self.sid])
        self.keyframers.forget(self)

    def _reply(self, key: Any, timeout: float | None) -> list | None:
        with self.keyframers.answered:
            self.keyframers.answered.wait_for(lambda: key in self._replies or not self.alive, timeout)
            return self._replies.pop(key, None)


def _close_quietly(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass  # it died with a request unread
    proc.wait()
