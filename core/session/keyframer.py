"""A session's keyframes, folded behind its writer in a process of its own.

Folding every event into the model is what made a recorder three times
slower than the hub it records (1.2 us/event, and 0.6 more for keyframes,
against 0.9 for the hub's decoding). A recording hub's MessageWriter puts
the messages on disk as they came and leaves the model to this process, on
the machine's other core: it follows the file as it grows (the file is its
queue, so falling behind costs memory nowhere and loses nothing), folds
each block's events, and hands back keyframes for the writer to append,
the model when asked (a late joiner's answer), and at the end the summary.

One process folds for every session a recorder writes at once (split by
run, many may be): the folding is the same work either way, and a process
costs ~28 MB. Conversation, msgpack over its stdin and stdout, each message
naming a session (`sid`, the writer's number for it):

- writer -> keyframer: `["start", sid, path, every, seconds, compact model |
  None]`, `["model", sid, ask, n]` (the model once `n` events are folded),
  `["finish", sid, n]` (fold `n` events, answer, forget the session),
  `["stop", sid]` (forget it now), `["grew", sid]` (a block was written: a
  keyframer that has caught up sleeps until told), `["compact", 0, path]`
  (a session its writer has closed: rewrite it in big blocks, compact.py,
  on a thread beside the folding). End of input: close stdout (nothing
  more to say), do the compactions asked for, then exit. A recorder that
  stops waits for them a moment (Keyframers.close), then leaves them to
  finish in this process, in a session of its own, so a terminal's ^C or
  hang-up does not cut them short (a cut one leaves the file as it was).
- keyframer -> writer: `["kf", sid, payload, delta]` (a KEYFRAME payload; a
  delta has its base offset for the writer to fill in), `["model", sid, ask,
  compact]`, `["done", sid, summary, compact]`, `["lost", sid, why]` (it
  cannot fold that session: its file is unreadable or damaged).

The writers' side is `Keyframers`, the process as a recorder sees it
(started with its first session, shared by every session it writes), and
`KeyframerSession`, one writer's handle on it; a reader thread sorts what
the process says by session. If the process dies, its sessions carry on
without keyframes (their writers fold the summary themselves at close), and
the next session starts a new one.
"""

from __future__ import annotations

import itertools
import os
import queue
import select
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any

import msgpack

from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.session import format as fmt
from swarmscope.core.session.compact import compact
from swarmscope.core.session.keyframes import Keyframing
from swarmscope.core.session.reader import SessionFile
from swarmscope.core.session.summary import summarize

BLOCKS_PER_STEP = 16
"""Blocks folded between looks at the writer's requests, so a late joiner's question waits little
even while the keyframer works through a backlog."""


class Follower:
    """Folds a session file's events as its writer appends them, and makes its keyframes."""

    def __init__(
        self, path: str | Path, start: SwarmModel | None, every: int, seconds: float
    ) -> None:
        self.file = SessionFile(path)
        self.frames = Keyframing(start, every, seconds)
        self._block = 0

    @property
    def folded(self) -> int:
        return self.frames.folded

    def step(self, most: int = BLOCKS_PER_STEP) -> tuple[list[tuple[bytes, bool]], bool]:
        """Fold up to `most` blocks not folded yet: (keyframes that fell due, whether any block
        was)."""
        if self._block >= len(self.file.index.blocks):
            self.file.refresh()
        blocks = self.file.index.blocks
        todo = range(self._block, min(len(blocks), self._block + most))
        keyframes = []
        for b in todo:
            keyframes += self._fold(self.file.block_events(b, cached=False))
            self._block = b + 1
        return keyframes, bool(todo)

    def _fold(self, events: list) -> list[tuple[bytes, bool]]:
        """A block's events; a keyframe after them if one is due. Keyframes at block ends, not
        mid-block: a seek then decodes the one block it lands in (measured, 1M events: seek p50
        3.6 ms with keyframes mid-block, where a seek often decoded two blocks)."""
        self.frames.fold(events)
        return [self.frames.keyframe()] if self.frames.due() else []

    def start_keyframe(self) -> list[tuple[bytes, bool]]:
        """The keyframe at event 0 of a session that continues another."""
        return [self.frames.keyframe()]

    def summary(self) -> dict:
        return summarize(self.frames.model, self.frames.first_ts)

    def close(self) -> None:
        self.file.close()


class _Session:
    """A session the process folds for: its follower, the models asked of it, where it ends."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.asks: list[tuple[int, int]] = []
        """(ask, events that must be folded first)."""
        self.finish: int | None = None


def main() -> int:
    """The keyframer process (`python -m swarmscope.core.session.keyframer`): folds every session
    its writer starts, until its requests end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C at the terminal is the writer's to act on
    requests = msgpack.Unpacker(strict_map_key=False, max_buffer_size=1 << 30)
    sessions: dict[int, _Session] = {}
    closed = _Compactions()
    busy = False
    try:
        while True:
            if select.select([0], [], [], 0 if busy else None)[0]:  # caught up: sleep until told
                data = os.read(0, 1 << 16)
                if not data:  # the writer is gone (or stops): it hears no more from us
                    os.close(1)
                    closed.finish()
                    return 0
                requests.feed(data)
                for request in requests:
                    _take(request, sessions, closed)
            busy = False
            for sid in list(sessions):
                busy = _serve(sid, sessions) or busy
    finally:
        for session in sessions.values():
            session.follower.close()


def _take(request: list, sessions: dict[int, _Session], closed: _Compactions) -> None:
    kind, sid = request[0], request[1]
    if kind == "compact":
        closed.add(request[2])
    elif kind == "start":
        path, every, seconds, start = request[2:6]
        try:
            follower = Follower(
                path, SwarmModel.from_compact(start) if start is not None else None, every, seconds
            )
        except Exception as exc:  # a file it cannot read: that session goes without, the others on
            _say(["lost", sid, f"{type(exc).__name__}: {exc}"])
            return
        sessions[sid] = _Session(follower)
        if start is not None:
            _say(*(["kf", sid, *kf] for kf in follower.start_keyframe()))
    elif sid in sessions:
        if kind == "model":
            sessions[sid].asks.append((request[2], request[3]))
        elif kind == "finish":
            sessions[sid].finish = request[2]
        elif kind == "stop":
            sessions.pop(sid).follower.close()


def _serve(sid: int, sessions: dict[int, _Session]) -> bool:
    """Fold what is new in one session and answer what it was asked; whether it folded anything."""
    session = sessions[sid]
    f = session.follower
    try:
        keyframes, busy = f.step()
    except Exception as exc:  # damage under its feet: that session goes without, the others on
        _say(["lost", sid, f"{type(exc).__name__}: {exc}"])
        sessions.pop(sid).follower.close()
        return False
    _say(*(["kf", sid, *kf] for kf in keyframes))
    answered = [a for a in session.asks if f.folded >= a[1]]
    for ask, _ in answered:
        _say(["model", sid, ask, f.frames.model.compact()])
    session.asks = [a for a in session.asks if a not in answered]
    if session.finish is not None and f.folded >= session.finish:
        _say(["done", sid, f.summary(), f.frames.model.compact()])
        sessions.pop(sid).follower.close()
    return busy


class _Compactions:
    """Closed sessions, compacted one at a time on a thread of this process: rewriting a big part
    takes seconds, and the loop goes on folding and answering (a late joiner's model) meanwhile."""

    def __init__(self) -> None:
        self._paths: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def add(self, path: str) -> None:
        self._paths.put(path)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="swarmscope-compact")
            self._thread.start()

    def finish(self) -> None:
        """Do those asked for, then return."""
        if self._thread is not None:
            self._paths.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (path := self._paths.get()) is not None:
            _compact(path)


def _compact(path: str) -> None:
    """Rewrite a closed session in big blocks; one that cannot be stays as recorded, said on
    stderr (the recorder's), and nothing in it is lost."""
    if not os.path.exists(path):
        return  # deleted since (sessions cleanup)
    try:
        compact(path)
    except Exception as exc:
        print(f"swarmscope: {path} stays as recorded: {exc}", file=sys.stderr, flush=True)


def _say(*messages: list) -> None:
    for message in messages:
        data = memoryview(fmt.pack(message))
        while data:
            data = data[os.write(1, data) :]


# -- the writers' side
# ------------------------------------------------------------------------------


class Keyframers:
    """A keyframer process for a recorder's sessions; started when a session needs it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._sessions: dict[int, KeyframerSession] = {}
        self._ids = itertools.count()
        self._sending = threading.Lock()
        self.answered = threading.Condition()

    def session(
        self, path: Path, start: SwarmModel | None, every: int, seconds: float
    ) -> KeyframerSession:
        """A new session to fold, starting from `start` (the keyframe at event 0 of a part that
        continues another)."""
        with self._sending:
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()
            session = KeyframerSession(self, next(self._ids), self._proc)
            self._sessions[session.sid] = session
        self.send(
            [
                "start",
                session.sid,
                str(path),
                every,
                seconds,
                start.compact() if start is not None else None,
            ]
        )
        return session

    def close(self, wait: float | None = None) -> bool:
        """End the process once its sessions are done (it exits when its requests end, after the
        compactions asked of it); wait for those at most `wait` seconds (None: until done).
        Whether it is done."""
        with self._sending:
            proc, self._proc = self._proc, None
        if proc is None:
            return True
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it died with a request unread
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            return False  # still compacting: it finishes on its own
        return True

    def send(self, request: list) -> None:
        with self._sending:
            if self._proc is None:
                return
            try:
                self._proc.stdin.write(fmt.pack(request))
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # it died: its reader says so to every session

    def compact(self, path: Path) -> None:
        """Have the process compact a session its writer closed (when it has nothing to fold)."""
        self.send(["compact", 0, str(path)])

    def forget(self, session: KeyframerSession) -> None:
        self._sessions.pop(session.sid, None)

    def _spawn(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "swarmscope.core.session.keyframer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        threading.Thread(
            target=self._read, args=(self._proc,), name="swarmscope-keyframes", daemon=True
        ).start()

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
            self.keyframers.answered.wait_for(
                lambda: key in self._replies or not self.alive, timeout
            )
            return self._replies.pop(key, None)


if __name__ == "__main__":
    sys.exit(main())
