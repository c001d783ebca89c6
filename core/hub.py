"""The hub: ZeroMQ's own proxy between agents (XSUB) and viewers (XPUB).

The proxy runs in C on its own thread; we only add a capture tap. The tap
thread counts messages, refused frames and per-agent gaps: from a batch's
head when it has one (see wire.py), else by decoding it. With listeners (the
recorder) it checks every batch as a session keeps it (wire_store.keep) and
hands the kept messages on, once per pass over its queue (up to TAP_PASS messages). Frames over the
size limit never reach Python: ZeroMQ's MAXMSGSIZE drops the connection of
the peer that sent them.

The hub subscribes its XSUB to everything itself, so agents' events flow
(and are recorded) even when no viewer is attached.

Given a keys folder, both sockets are CURVE servers and ZeroMQ's
authenticator (a thread of its own) admits only clients whose public key is
in the folder's clients/ (see keys.py).
"""

from __future__ import annotations

import struct
import threading
import time
import uuid
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

from .endpoints import DEFAULT_IN, DEFAULT_OUT, bind, check_endpoint
from .errors import ConfigError
from .history import Standing, answer
from .keys import CLIENTS, Curve, hub_curve
from .hub_gaps import GapTally
from .hub_stats import HubStats
from .wire import MAX_MESSAGE_BYTES, BatchHead
from .wire_store import Kept, events_kept, keep_counted

VIEWER_BACKLOG = 10_000
"""Messages (up to ~5M events) held for each viewer or recorder that falls behind; past that
ZeroMQ drops for that reader alone, and its model counts the loss as gaps. A bound, so one
slow viewer cannot grow the hub without limit."""

CLIENTS_RELOAD_S = 2.0
"""How often a CURVE hub reads its clients/ folder again: a key copied there is let in this soon."""

TAP_QUEUE = 100_000
"""Messages queued for the tap, at the capture socket and again at the tap's: a tap that falls
further behind (a recorder slower than the swarm, for long) has the rest dropped by ZeroMQ, for
the tap alone (viewers still get them). The hub counts those from the proxy's own tally
(HubStats.behind), so they are said, not lost without a word."""

DRAIN_S = 10.0
"""At stop, how long the tap may go on taking in what the proxy passed before it stopped."""

Listener = Callable[[list[Kept]], None]
"""Called on the tap thread with the messages of each pass over the tap's queue, in the order they passed."""

TAP_PASS = 256
"""Messages the tap takes per pass before it looks at its other sockets again. One pass is one
wait and one call of each listener: many agents each sending a few events a message (1,000 agents
at 100 events/s send ~20,000 messages/s) would otherwise pay both for every message."""


class Hub:
    """Binds XSUB on `in_endpoint` and XPUB on `out_endpoint` and proxies between them."""

    def __init__(
        self,
        in_endpoint: str = DEFAULT_IN,
        out_endpoint: str = DEFAULT_OUT,
        *,
        max_message: int = MAX_MESSAGE_BYTES,
        context: zmq.Context | None = None,
        keys: Path | None = None,
        history: str | None = None,
    ) -> None:
        """`keys`: a folder of CURVE keys (see keys.py); None leaves the feed open to anyone who can connect.
        `history`: where to answer late joiners with the swarm as it stands (history.py), None for nowhere."""
        self.in_endpoint = check_endpoint(in_endpoint, "--in")
        self.out_endpoint = check_endpoint(out_endpoint, "--out")
        self.history_endpoint = check_endpoint(history, "--history") if history else None
        self._standing: Standing | None = None
        self.max_message = max_message
        self.stats = HubStats()
        # With keys, a context of its own: ZeroMQ's authenticator binds one fixed inproc name per
        # context, which a stopped hub's authenticator may hold a moment after it is gone.
        self._own_ctx = context is None and keys is not None
        self._ctx = zmq.Context() if self._own_ctx else (context or zmq.Context.instance())
        self._listeners: list[Listener] = []
        self._gaps = GapTally(self.stats)
        self._threads: list[threading.Thread] = []
        self._name = f"hub-{uuid.uuid4().hex}"  # inproc names outlive closed sockets a little
        self._stop = threading.Event()
        self.keys = keys
        self._auth: ThreadAuthenticator | None = None
        self._curve: Curve | None = None
        self._history: zmq.Socket | None = None
        self._control_lock = threading.Lock()
        """The proxy's control socket is asked from the stats line's thread and told to stop from stop()'s."""

    @property
    def context(self) -> zmq.Context:
        return self._ctx

    @property
    def inproc_out(self) -> str:
        """The viewer side again, for this process only (no CURVE handshake inside a process)."""
        return f"inproc://{self._name}-out"

    def add_listener(self, listener: Listener) -> None:
        """Receive the events of every pass over the tap's queue, on the tap thread (keep it quick)."""
        self._listeners.append(listener)

    def serve_state(self, standing: Standing) -> None:
        """What late joiners are given, asked on the tap thread: a recorder's model, and the file it writes."""
        self._standing = standing

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> "Hub":
        """Bind and start proxying; raises ConfigError if an address is taken."""
        ctx = self._ctx
        self._xsub, self._xpub = ctx.socket(zmq.XSUB), ctx.socket(zmq.XPUB)
        if self.keys is not None:
            try:
                self._start_curve()
            except ConfigError:
                self._release()
                raise
        self._xsub.setsockopt(zmq.MAXMSGSIZE, self.max_message)
        self._xsub.setsockopt(zmq.RCVHWM, 100_000)
        self._xpub.setsockopt(zmq.SNDHWM, VIEWER_BACKLOG)
        binds = [(self._xsub, self.in_endpoint, "--in"), (self._xpub, self.out_endpoint, "--out")]
        if self.history_endpoint:
            self._history = ctx.socket(zmq.ROUTER)
            self._history.setsockopt(zmq.MAXMSGSIZE, 1024)  # a request is a few bytes
            if self._curve is not None:
                self._curve.apply(self._history)
            binds.append((self._history, self.history_endpoint, "--history"))
        for sock, endpoint, flag in binds:
            sock.setsockopt(zmq.LINGER, 0)
            refused = bind(sock, endpoint)
            if refused:
                self._release()
                raise ConfigError(f"cannot bind {flag} {endpoint}: {refused}; "
                                  f"is another hub running? choose another address with {flag}")
        self._xpub.bind(self.inproc_out)  # for a Forwarder in this process (forward.py)
        self._xsub.send(b"\x01")  # subscribe upstream to everything, viewer or not
        self._capture = ctx.socket(zmq.PUB)
        self._capture.setsockopt(zmq.SNDHWM, TAP_QUEUE)
        self._capture.bind(f"inproc://{self._name}-capture")
        self._control = ctx.socket(zmq.PAIR)
        self._control.bind(f"inproc://{self._name}-control")
        tap_ready = threading.Event()
        self._spawn(self._tap, tap_ready)
        tap_ready.wait()
        self._spawn(self._proxy)
        return self

    def _start_curve(self) -> None:
        self._curve = hub_curve(self.keys)
        self._auth = ThreadAuthenticator(self._ctx)
        self._auth.start()
        self.reload_clients()
        self._curve.apply(self._xsub)
        self._curve.apply(self._xpub)

    def _release(self) -> None:
        """Close every socket, stop the authenticator, and end the hub's own context if it has one."""
        self._close_sockets()
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._own_ctx:
            self._ctx.term()

    def reload_clients(self) -> None:
        """Read the clients/ folder again: keys added since are let in, keys removed are not."""
        if self._auth is not None:
            self._auth.configure_curve(domain="*", location=str(self.keys / CLIENTS))

    def stop(self) -> None:
        """Stop the proxy and the tap, and close every socket. Safe to call twice."""
        if self._stop.is_set():
            return
        tap, proxy = self._threads or (None, None)
        if proxy is not None:
            self.count_passed()  # the last tally of what agents sent: what the tap missed is said at stop
            with self._control_lock:
                self._control.send(b"TERMINATE")
            proxy.join(5)
        self._stop.set()  # only now: the tap turns the monitors off, which the proxy must not be using
        if tap is not None:
            tap.join(DRAIN_S + 5)
        self._release()

    def count_passed(self) -> None:
        """Ask the proxy how many frames it has taken in from agents, into `stats.frames_passed`
        (ZeroMQ's own tally, in C, which does not lag as the tap may). Not from the tap thread."""
        with self._control_lock:
            if self._stop.is_set() or not self._threads:
                return
            self._control.send(b"STATISTICS")
            while self._control.poll(1000):
                reply = self._control.recv_multipart()
                if len(reply) == 8:  # [in, bytes in, out, bytes out] of the agents' side, then the viewers'
                    self.stats.frames_passed = struct.unpack("=Q", reply[0])[0]
                    return

    def __enter__(self) -> "Hub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable, *args: object) -> None:
        t = threading.Thread(target=target, args=args, name=f"swarmscope-{target.__name__}", daemon=True)
        t.start()
        self._threads.append(t)

    def _close_sockets(self) -> None:
        for name in ("_xsub", "_xpub", "_history", "_capture", "_control"):
            sock = getattr(self, name, None)
            if sock is not None and not sock.closed:
                sock.close(linger=0)

    # -- threads ----------------------------------------------------------------

    def _proxy(self) -> None:
        ctrl = self._ctx.socket(zmq.PAIR)
        ctrl.connect(f"inproc://{self._name}-control")
        try:
            zmq.proxy_steerable(self._xsub, self._xpub, self._capture, ctrl)
        except zmq.ZMQError:
            pass  # the context is going away under us: we are stopping anyway
        finally:
            ctrl.close(linger=0)

    def _tap(self, ready: threading.Event) -> None:
        """Decode and count what passes; track connections through socket monitors."""
        tap = self._ctx.socket(zmq.SUB)
        tap.setsockopt(zmq.RCVHWM, TAP_QUEUE)
        tap.setsockopt(zmq.SUBSCRIBE, b"")
        tap.connect(f"inproc://{self._name}-capture")
        history = self._history
        watched = {self._xsub: "publishers", self._xpub: "viewers"}
        if history is not None:
            watched[history] = ""  # late joiners' questions: refusals counted, connections not
        monitors = {  # our own addresses: pyzmq's default reuses the fd number, which outlives a closed hub
            sock.get_monitor_socket(addr=f"inproc://{self._name}-mon-{k}"): what
            for k, (sock, what) in enumerate(watched.items())
        }
        poller = zmq.Poller()
        for sock in (tap, *monitors):
            poller.register(sock, zmq.POLLIN)
        if history is not None:
            poller.register(history, zmq.POLLIN)
        ready.set()
        next_reload = time.monotonic() + CLIENTS_RELOAD_S
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_reload:
                    self.reload_clients()
                    next_reload = time.monotonic() + CLIENTS_RELOAD_S
                for sock, _ in poller.poll(100):
                    if sock is tap:
                        self._take(islice(_queued(tap), TAP_PASS))
                    elif sock is history:
                        self._answer_late_joiner(tap, history)
                    else:
                        self._on_monitor(monitors[sock], recv_monitor_message(sock))
            self._drain(tap)
        finally:
            # A monitor left on while its reader goes away can wedge ZeroMQ's I/O thread
            # for every later socket in the process: turn them off before closing.
            for sock in watched:
                sock.disable_monitor()
            tap.close(linger=0)
            for sock in monitors:
                sock.close(linger=0)

    def _answer_late_joiner(self, tap: zmq.Socket, history: zmq.Socket) -> None:
        """Give the swarm as it stands, with every message the proxy passed before the request.

        The joiner subscribed before it asked, so what it did not get from the feed had passed
        the proxy by then and waits in the tap's queue: taken in first, so the answer holds it.
        Every question waiting by then gets the same answer, built once: however many ask, the
        tap pauses once (for 1,000 agents, ~13 ms) and goes back to counting and recording."""
        callers = []
        while history.poll(0):
            callers.append(history.recv_multipart()[0])
        self._take(islice(_queued(tap), VIEWER_BACKLOG))
        reply = answer(self._standing)
        for caller in callers:
            history.send_multipart([caller, reply])

    def _drain(self, tap: zmq.Socket) -> None:
        """After the proxy has stopped: take in what it passed that the tap has not seen yet.

        Viewers got those messages already, so a recording hub stopped by a signal
        records them too, for up to DRAIN_S; what is still queued after that is
        counted in `stats.unrecorded` rather than lost without a word."""
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            if not self._take(islice(_queued(tap), TAP_PASS)):
                return
        for frames in _queued(tap):
            self.stats.unrecorded += 1
            self.stats.frames_taken += len(frames)

    def _take(self, messages: Iterable[list[bytes]]) -> int:
        """Count each message, then give the listeners all of them at once; returns how many messages."""
        taken, kept = 0, []
        for taken, frames in enumerate(messages, 1):
            got = self._on_captured(frames)
            if got is not None:
                kept.append(got)
        if kept:
            for listener in self._listeners:
                listener(kept)
        return taken

    def _on_captured(self, frames: list[bytes]) -> Kept | None:
        """Count one message; kept, if a listener wants it (else it is counted from its head)."""
        if len(frames) == 1 and frames[0][:1] in (b"\x00", b"\x01"):
            return None  # a viewer's (un)subscription on its way upstream
        st = self.stats
        st.frames_taken += len(frames)
        st.messages_in += 1
        st.bytes_in += sum(len(f) for f in frames)
        if self._listeners:  # a recorder keeps the message
            kept = keep_counted(st.decode, frames)
            if kept is not None:
                self._count_gaps(kept)
            return kept
        got = st.decode.count(frames)
        if isinstance(got, BatchHead):
            self._gaps.count_head(got, frames[1])
        elif got:
            self._gaps.count_events(got)
        return None

    def _count_gaps(self, kept: Kept) -> None:
        if kept.head is not None:
            self._gaps.count_head(kept.head, kept.payload)
        else:
            self._gaps.count_events(events_kept(kept))

    def _on_monitor(self, what: str, msg: dict) -> None:
        event = msg["event"]
        if not what and event in (zmq.EVENT_ACCEPTED, zmq.EVENT_DISCONNECTED):
            return  # a late joiner's question: a connection of a moment, not counted as a peer
        if event in (zmq.EVENT_ACCEPTED,):
            setattr(self.stats, what, getattr(self.stats, what) + 1)
        elif event in (zmq.EVENT_DISCONNECTED,):
            setattr(self.stats, what, max(0, getattr(self.stats, what) - 1))
        elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
            self.stats.dropped_connections += 1
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self.stats.refused_clients += 1


def _queued(tap: zmq.Socket) -> Iterator[list[bytes]]:
    """The messages waiting in the tap's queue, without waiting for more."""
    while True:
        try:
            yield tap.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return
