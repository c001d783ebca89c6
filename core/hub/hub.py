"""The hub: ZeroMQ's own proxy between agents (XSUB) and viewers (XPUB).

The proxy runs in C on its own thread; we only add a capture tap, in two
threads. The tap thread takes every message off the capture socket as it
comes into an Intake (intake.py): a queue bounded in bytes, which drops and
counts per agent what a slow worker cannot take, so nothing is lost without
a word and no sender can grow the hub past its bound. The capture socket
never drops: should the tap thread itself fall behind, the proxy waits. The worker thread
passes each message through the gate's message layer (wire/kept.py),
counts it (passed, refused by field), counts per-agent gaps and restarts,
and hands what it kept, and the losses as `lost` events in their place, to
the listeners (the recorder), once per pass of up to TAP_PASS messages.
Frames over the size limit never reach Python: ZeroMQ's MAXMSGSIZE cuts the
connection of the peer that sent them (see HubStats.agent_disconnects).

Agents send only once the hub has subscribed to them. A hub that records
subscribes to everything itself; any other hub passes its viewers'
subscriptions up, so with nobody to deliver to, agents keep their events
(bounded, and counted if dropped) rather than the hub dropping them. And a
hub holds its proxy `hold` seconds after it binds, so the viewers and
recorders of a hub that restarted are back (ZeroMQ reconnects every 0.1 s)
before the first message passes.

Given a keys folder, both sockets are CURVE servers and ZeroMQ's
authenticator (a thread of its own) admits only clients whose public key is
in the folder's clients/ (see keys.py).
"""

from __future__ import annotations

import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

from swarmscope.core.errors import ConfigError
from swarmscope.core.hub.gaps import GapTally
from swarmscope.core.hub.intake import Intake, Lost, lost_event, queued
from swarmscope.core.hub.latejoin import Standing, answer
from swarmscope.core.hub.ledger import (
    BASELINE_S,
    LEDGER_ALL,
    LEDGER_S,
    MAX_BASELINES,
    MAX_NONCE,
    TOPIC_BASELINE,
    TOPIC_LEDGER,
    ledger_messages,
)
from swarmscope.core.hub.stats import HubStats
from swarmscope.core.wire.endpoints import DEFAULT_IN, DEFAULT_OUT, bind, check_endpoint
from swarmscope.core.wire.format import MAX_MESSAGE_BYTES
from swarmscope.core.wire.kept import Kept, events_kept, keep_counted, kept_of
from swarmscope.core.wire.keys import CLIENTS, Curve, hub_curve

VIEWER_BACKLOG = 1_000
"""Messages held for each viewer or recorder that falls behind (a few MB of typical messages);
past that ZeroMQ drops for that reader alone, and its model counts the loss as gaps. A bound,
so one slow viewer cannot grow the hub without limit."""

CLIENTS_RELOAD_S = 2.0
"""How often a CURVE hub reads its clients/ folder again: a key copied there is let in this soon."""

TAP_QUEUE = 10_000
"""Messages ZeroMQ holds for the tap thread, which only moves them into the intake. Past it the
proxy waits for the tap (the capture socket is a PAIR, which blocks rather than drops), and the
agents, their queue to the hub full, keep their events: a tap without the CPU for a moment slows
the hub down, and loses nothing. ZeroMQ counts messages, not bytes: what it holds is memory beside
the intake's bound (docs/trust.md). Not smaller: at 1,000 the proxy pushed back on agents so often
under overload that agents which ended then lost what ZeroMQ still held for them, uncounted (the
soak bench, docs/benchmarks.md)."""

TAP_BYTES = 128 * 1024 * 1024
"""Bytes of messages waiting for the worker: past this, messages are dropped and counted per agent
(and written into a recorded session as lost). The hub's own bound, whatever agents send."""

DRAIN_S = 10.0
"""At stop, how long the worker may go on with what the proxy passed before it stopped."""

GIVEN_UP_S = 2.0
"""After DRAIN_S at a stop, how long the worker may go on handing on what it gave up (as lost
events) before it ends whatever is left."""

QUIET_S = 0.05
"""At stop, how long the proxy must take in nothing before it is stopped (see Hub._quiet)."""

HOLD_S = 0.5
"""How long a hub holds its proxy after binding: ZeroMQ's peers reconnect every 0.1 s, so the
viewers of a hub that restarted are subscribed again before anything passes."""

Listener = Callable[[list[Kept]], None]
"""Called on the worker thread with the messages of each pass, in the order they passed (a loss as
a message of one `lost` event, in its place)."""

TAP_PASS = 256
"""Messages the worker takes per pass. One pass is one wake and one call of each listener: many
agents each sending a few events a message (1,000 agents at 100 events/s send ~20,000 messages/s)
would otherwise pay both for every message."""

DROPPED_WHY = "dropped by the hub: the recorder fell behind"


def _one_each(binds: list[tuple[zmq.Socket, str, str]], endpoint: str, flag: str) -> str | None:
    """Why `flag` cannot bind `endpoint`, if an earlier socket of the hub has it: ZeroMQ would
    refuse it as "in use", which reads as another hub."""
    for _, other, other_flag in binds:
        if other_flag == flag:
            return None
        if other == endpoint:
            return f"{other_flag} is there too"
    return None


class _Baseline:
    """A reader subscribed to its baseline here (ledger.py): its nonce, in its place in the
    stream."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce


class _Ask:
    """Late joiners waiting for the swarm as it stands, queued after what had passed when they
    asked."""

    def __init__(self, callers: list[bytes]) -> None:
        self.callers = callers


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
        hold: float = 0.0,
    ) -> None:
        """`keys`: a folder of CURVE keys (see keys.py); None leaves the feed open to anyone who can
        connect. `history`: where to answer late joiners with the swarm as it stands (latejoin.py),
        None for nowhere. `hold`: seconds the proxy waits after binding (`swarmscope hub` holds
        HOLD_S; a hub started with its viewers, as the demo's, need not)."""
        self.in_endpoint = check_endpoint(in_endpoint, "--in")
        self.out_endpoint = check_endpoint(out_endpoint, "--out")
        self.history_endpoint = check_endpoint(history, "--history") if history else None
        self._standing: Standing | None = None
        self.max_message = max_message
        self.hold = hold
        self.intake = Intake(TAP_BYTES)
        self.stats = HubStats(intake=self.intake)
        # With keys, a context of its own: ZeroMQ's authenticator binds one fixed inproc name per
        # context, which a stopped hub's authenticator may hold a moment after it is gone.
        self._own_ctx = context is None and keys is not None
        self._ctx = zmq.Context() if self._own_ctx else (context or zmq.Context.instance())
        self._listeners: list[Listener] = []
        self._gaps = GapTally(self.stats)
        self._threads: list[threading.Thread] = []
        uid = uuid.uuid4()
        self._name = f"hub-{uid.hex}"  # inproc names outlive closed sockets a little
        self.ledger_hub = uid.int >> 66
        """This hub's number in its ledgers, which readers behind a chain of hubs tell apart."""
        self._stop = threading.Event()
        self._tap_done = threading.Event()
        self._baselines: list[str] = []
        """Nonces of readers whose baseline the next whole ledger is (the worker's)."""
        self._wholes_said = 0
        self._replies: deque[tuple[list[bytes], bytes]] = deque()
        self.keys = keys
        self._auth: ThreadAuthenticator | None = None
        self._curve: Curve | None = None
        self._history: zmq.Socket | None = None
        self._proxying = False
        self._control_lock = threading.Lock()
        """The proxy's control socket is asked from the stats line's thread and told to stop from
        stop()'s."""

    @property
    def context(self) -> zmq.Context:
        return self._ctx

    @property
    def records(self) -> bool:
        """Whether a listener (a recorder) takes every message, viewer or not."""
        return bool(self._listeners)

    @property
    def proxying(self) -> bool:
        """Whether the proxy passes messages (bound, and past its hold)."""
        return self._proxying and not self._stop.is_set()

    @property
    def inproc_out(self) -> str:
        """The viewer side again, for this process only (no CURVE handshake inside a process)."""
        return f"inproc://{self._name}-out"

    def add_listener(self, listener: Listener) -> None:
        """Receive the messages of every pass, on the worker thread (keep it quick). Before start():
        a hub with a listener subscribes to every agent itself."""
        if self._threads:
            raise RuntimeError("add listeners before the hub starts")
        self._listeners.append(listener)

    def serve_state(self, standing: Standing) -> None:
        """What late joiners are given, asked on the worker thread: a recorder's model, and its
        file."""
        self._standing = standing

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> Hub:
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
            refused = _one_each(binds, endpoint, flag) or bind(sock, endpoint)
            if refused:
                self._release()
                raise ConfigError(
                    f"cannot bind {flag} {endpoint}: {refused}; choose another address with {flag}"
                )
        self._xpub.bind(self.inproc_out)  # for a Forwarder in this process (forward.py)
        self._xsub.bind(f"inproc://{self._name}-in")  # for the worker's ledger (ledger.py)
        if self._listeners:
            self._xsub.send(b"\x01")  # a recording hub takes every agent's events, viewer or not
        # full, it makes the proxy wait: nothing dropped unsaid
        self._capture = ctx.socket(zmq.PAIR)
        self._capture.setsockopt(zmq.SNDHWM, TAP_QUEUE)
        self._capture.bind(f"inproc://{self._name}-capture")
        self._control = ctx.socket(zmq.PAIR)
        self._control.bind(f"inproc://{self._name}-control")
        tap_ready = threading.Event()
        self._spawn(self._tap, tap_ready)
        tap_ready.wait()
        self._spawn(self._work)
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
        """Close every socket, stop the authenticator, and end the hub's own context if it has
        one."""
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
        """Stop the proxy, then the tap and the worker once they have taken in what it passed (up to
        DRAIN_S), and close every socket. Safe to call twice."""
        if self._stop.is_set():
            return
        tap, worker, proxy = self._threads or (None, None, None)
        if proxy is not None:
            self._quiet()
            with self._control_lock:
                self._control.send(b"TERMINATE")
            proxy.join(5)
        # only now: the tap turns the monitors off, which the proxy must not be using
        self._stop.set()
        for thread in (tap, worker):
            if thread is not None:
                thread.join(DRAIN_S + 5)
        self._release()

    def _quiet(self) -> None:
        """Before the proxy stops: let it take in what agents sent already (what ZeroMQ holds for it
        would go with it), until it takes nothing for QUIET_S, or DRAIN_S have passed."""
        deadline = time.monotonic() + DRAIN_S
        before = -1
        while self.stats.frames_passed != before and time.monotonic() < deadline:
            before = self.stats.frames_passed
            self.count_passed()
            if self.stats.frames_passed != before:
                time.sleep(QUIET_S)

    def count_passed(self) -> None:
        """Ask the proxy how many frames it has taken in, into `stats.frames_passed` (ZeroMQ's own
        tally, in C, which does not lag as the tap may): from agents, and viewers' subscriptions,
        both of which the capture sees. Not from the tap thread."""
        with self._control_lock:
            if self._stop.is_set() or not self._proxying:
                return
            self._control.send(b"STATISTICS")
            while self._control.poll(1000):
                reply = self._control.recv_multipart()
                # [in, bytes in, out, bytes out] of the agents' side, then the viewers'
                if len(reply) == 8:
                    self.stats.frames_passed = (
                        struct.unpack("=Q", reply[0])[0] + struct.unpack("=Q", reply[4])[0]
                    )
                    return

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable, *args: object) -> None:
        t = threading.Thread(
            target=target, args=args, name=f"swarmscope-{target.__name__}", daemon=True
        )
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
            if self.hold and ctrl.poll(int(self.hold * 1000)):  # held: only a stop speaks meanwhile
                return
            self._proxying = True
            zmq.proxy_steerable(self._xsub, self._xpub, self._capture, ctrl)
        except zmq.ZMQError:
            pass  # the context is going away under us: we are stopping anyway
        finally:
            ctrl.close(linger=0)

    def _tap(self, ready: threading.Event) -> None:
        """Move what the proxy passes into the intake; track connections; take late joiners'
        questions."""
        tap = self._ctx.socket(zmq.PAIR)
        tap.setsockopt(zmq.RCVHWM, TAP_QUEUE)
        tap.connect(f"inproc://{self._name}-capture")
        woken = self._ctx.socket(zmq.PAIR)  # the worker says so here when it has answers to send
        woken.bind(f"inproc://{self._name}-wake")
        history = self._history
        watched = {self._xsub: "publishers", self._xpub: "viewers"}
        if history is not None:
            watched[history] = ""  # late joiners' questions: refusals counted, connections not
        # our own addresses: pyzmq's default reuses the fd number, which outlives a closed hub
        monitors = {
            sock.get_monitor_socket(addr=f"inproc://{self._name}-mon-{k}"): what
            for k, (sock, what) in enumerate(watched.items())
        }
        poller = zmq.Poller()
        for sock in (tap, woken, *monitors):
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
                        self._take_in(tap)
                    elif sock is history:
                        self._take_questions(tap, history)
                    elif sock is woken:
                        self._send_replies(woken, history)
                    else:
                        self._on_monitor(monitors[sock], recv_monitor_message(sock))
            self._take_in(tap)  # what the proxy passed before it stopped
        finally:
            self._tap_done.set()
            self.intake.wake()
            # A monitor left on while its reader goes away can wedge ZeroMQ's I/O thread
            # for every later socket in the process: turn them off before closing.
            for sock in watched:
                sock.disable_monitor()
            for sock in (tap, woken, *monitors):
                sock.close(linger=0)

    def _take_in(self, tap: zmq.Socket) -> None:
        """Every message waiting at the capture socket, into the intake (viewers' subscriptions
        counted apart)."""
        st, put = self.stats, self.intake.put
        for frames in islice(queued(tap), TAP_QUEUE):  # then a look at the other sockets
            st.frames_taken += len(frames)
            if len(frames) == 1 and frames[0][:1] in (b"\x00", b"\x01"):
                st.subscriptions += 1  # a viewer's (un)subscription on its way upstream
                if frames[0].startswith(b"\x01" + TOPIC_BASELINE):
                    nonce = frames[0][1 + len(TOPIC_BASELINE) :][:MAX_NONCE]
                    self.intake.put_marker(_Baseline(nonce.decode(errors="replace")))
                continue
            if frames[0] == TOPIC_LEDGER:
                st.ledgers += 1  # the worker's own, on its way to viewers
                continue
            st.messages_in += 1
            st.bytes_in += sum(map(len, frames))
            put(frames)

    def _take_questions(self, tap: zmq.Socket, history: zmq.Socket) -> None:
        """Late joiners' questions, answered after every message the proxy passed before they asked.

        The joiner subscribed before it asked, so what it did not get from the feed had passed
        the proxy by then and waits at the capture socket: taken in first, so the answer (made
        by the worker once it reaches the question) holds it. Every question waiting by then gets
        the same answer, built once."""
        callers = []
        while history.poll(0):
            callers.append(history.recv_multipart()[0])
        self._take_in(tap)
        self.intake.put_marker(_Ask(callers))

    def _send_replies(self, woken: zmq.Socket, history: zmq.Socket | None) -> None:
        while woken.poll(0):
            woken.recv()
        while self._replies:
            callers, reply = self._replies.popleft()
            for caller in callers:
                history.send_multipart([caller, reply])

    def _work(self) -> None:
        """Check, count and hand on what the tap took in, a pass at a time, until the tap is done
        and the intake empty; DRAIN_S after the stop, what is left is given up (handed on as lost
        events, counted unrecorded), and GIVEN_UP_S later the worker ends whatever is left;
        and say in the feed, every LEDGER_S, how far each agent has got (ledger.py)."""
        wake = self._ctx.socket(zmq.PAIR)
        wake.connect(f"inproc://{self._name}-wake")
        say = self._ctx.socket(zmq.PUB)
        say.setsockopt(zmq.LINGER, 0)
        say.connect(f"inproc://{self._name}-in")
        deadline, next_ledger, ledgers, next_baseline = None, time.monotonic() + LEDGER_S, 0, 0.0
        try:
            while True:
                items = self.intake.take(TAP_PASS, 0.1)
                if items:
                    self._pass(items, wake)
                elif self._tap_done.is_set():
                    return
                now = time.monotonic()
                if now >= next_ledger and not self._stop.is_set():
                    next_ledger, ledgers = now + LEDGER_S, ledgers + 1
                    self._say_ledger(say, every=ledgers % LEDGER_ALL == 1)
                elif self._baselines and now >= next_baseline:
                    next_baseline = now + BASELINE_S
                    self._say_ledger(say, every=True)
                if self._stop.is_set():
                    deadline = deadline or time.monotonic() + DRAIN_S
                    now = time.monotonic()
                    if now >= deadline:
                        self.stats.unrecorded += self.intake.give_up()
                    if now >= deadline + GIVEN_UP_S:
                        return  # the tap never finished: what it takes in now goes nowhere
        finally:
            wake.close(linger=0)
            say.close(linger=0)

    def _say_ledger(self, say: zmq.Socket, every: bool) -> None:
        """Say how far the agents that moved have got (`every` agent: a whole ledger, and the
        baseline of the readers that subscribed since the last)."""
        whole, baselines = None, []
        if every:
            self._wholes_said += 1
            whole, baselines, self._baselines = self._wholes_said, self._baselines, []
        rows = self._gaps.moved(every=every)
        for frames in ledger_messages(rows, whole, self.ledger_hub, baselines):
            say.send_multipart(frames, zmq.NOBLOCK)

    def _pass(self, items: list, wake: zmq.Socket) -> None:
        """One pass: each message counted and kept, each loss made a `lost` event; listeners told
        once."""
        kept: list[Kept] = []
        for item in items:
            if type(item) is _Baseline:
                if len(self._baselines) < MAX_BASELINES and item.nonce not in self._baselines:
                    self._baselines.append(item.nonce)
                continue
            if type(item) is _Ask:
                self._tell(kept)
                kept = []
                self._replies.append(
                    (item.callers, self._guarded(answer, self._standing) or answer(None))
                )
                wake.send(b"")
                continue
            got = self._guarded(self._take, item)
            if got is not None:
                kept.append(got)
        self._tell(kept)

    def _take(self, item: list[bytes] | Lost) -> Kept | None:
        if type(item) is Lost:
            self._gaps.skip(item.agent, item.inc, item.first, item.last)
            return kept_of([lost_event(item, DROPPED_WHY)]) if self._listeners else None
        return self._count(item)

    def _tell(self, kept: list[Kept]) -> None:
        for listener in self._listeners if kept else ():
            self._guarded(listener, kept)

    def _guarded(self, work: Callable, *args: object) -> object:
        """work(*args), or None if it raised: a bug (ours) costs that message or pass, never the
        worker thread, and is counted and said (HubStats.failures) rather than stopping what
        records."""
        try:
            return work(*args)
        except Exception as exc:  # noqa: BLE001 - the one place a worker must outlive anything
            self.stats.failed(exc)
            return None

    def _count(self, frames: list[bytes]) -> Kept | None:
        """One message through the gate (head and columns), counted; gaps and restarts counted per
        agent."""
        kept = keep_counted(self.stats.decode, frames)
        if kept is not None:
            if kept.head is not None:
                self._gaps.count_head(kept.head, kept.payload)
            else:
                self._gaps.count_events(events_kept(kept))
        return kept

    def _on_monitor(self, what: str, msg: dict) -> None:
        event = msg["event"]
        if not what and event in (zmq.EVENT_ACCEPTED, zmq.EVENT_DISCONNECTED):
            return  # a late joiner's question: a connection of a moment, not counted as a peer
        if event == zmq.EVENT_ACCEPTED:
            setattr(self.stats, what, getattr(self.stats, what) + 1)
        elif event == zmq.EVENT_DISCONNECTED:
            setattr(self.stats, what, max(0, getattr(self.stats, what) - 1))
            if what == "publishers":
                self.stats.agent_disconnects += 1
        elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
            self.stats.dropped_connections += 1
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self.stats.refused_clients += 1
