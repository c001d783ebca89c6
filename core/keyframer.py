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
  keyframer that has caught up sleeps until told). End of input: exit.
- keyframer -> writer: `["kf", sid, payload, delta]` (a KEYFRAME payload; a
  delta has its base offset for the writer to fill in), `["model", sid, ask,
  compact]`, `["done", sid, summary, compact]`, `["lost", sid, why]` (it
  cannot fold that session: its file is unreadable or damaged).
"""

from __future__ import annotations

import os
import select
import signal
import sys
from pathlib import Path

import msgpack

from . import session_format as fmt
from .keyframing import Keyframing
from .model import SwarmModel
from .session_reader import SessionFile
from .session_summary import summarize

BLOCKS_PER_STEP = 16
"""Blocks folded between looks at the writer's requests, so a late joiner's question waits little
even while the keyframer works through a backlog."""


class Follower:
    """Folds a session file's events as its writer appends them, and makes its keyframes."""

    def __init__(self, path: str | Path, start: SwarmModel | None, every: int, seconds: float) -> None:
        self.file = SessionFile(path)
        self.frames = Keyframing(start, every, seconds)
        self._block = 0

    @property
    def folded(self) -> int:
        return self.frames.folded

    def step(self, most: int = BLOCKS_PER_STEP) -> tuple[list[tuple[bytes, bool]], bool]:
        """Fold up to `most` blocks not folded yet: (keyframes that fell due, whether any block was)."""
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
    """The keyframer process (`python -m swarmscope.core.keyframer`): folds every session its writer
    starts, until its requests end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C at the terminal is the writer's to act on
    requests = msgpack.Unpacker(strict_map_key=False, max_buffer_size=1 << 30)
    sessions: dict[int, _Session] = {}
    busy = False
    try:
        while True:
            if select.select([0], [], [], 0 if busy else None)[0]:  # caught up: sleep until told
                data = os.read(0, 1 << 16)
                if not data:
                    return 0  # the writer is gone
                requests.feed(data)
                for request in requests:
                    _take(request, sessions)
            busy = False
            for sid in list(sessions):
                busy = _serve(sid, sessions) or busy
    finally:
        for session in sessions.values():
            session.follower.close()


def _take(request: list, sessions: dict[int, _Session]) -> None:
    kind, sid = request[0], request[1]
    if kind == "start":
        path, every, seconds, start = request[2:6]
        try:
            follower = Follower(path, SwarmModel.from_compact(start) if start is not None else None, every, seconds)
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


def _say(*messages: list) -> None:
    for message in messages:
        data = memoryview(fmt.pack(message))
        while data:
            data = data[os.write(1, data):]


if __name__ == "__main__":
    sys.exit(main())
