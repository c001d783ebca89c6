"""Chaining hubs: a host's hub passes everything it delivers on to a central hub.

A swarm spread over many hosts publishes to a hub on each (loopback, cheap,
no keys between an agent and its own host), and each of those forwards to a
central hub that viewers and recorders watch. Forwarding is one more
ZeroMQ proxy, in C: an XSUB reading the local hub's viewer side over inproc
(no CURVE handshake inside one process) and an XPUB connected to the central
hub's agent side, as an agent's Emitter would be. Subscriptions travel up
the chain: until the central hub has subscribed, nothing is sent (ZeroMQ
would drop it), and the local hub holds nothing for it either. Events keep
their agent ids and sequence numbers, so the central hub counts each agent's
gaps as if it were connected directly.

The same proxy, bound instead of connected (`serve`), gives a process of this host a private
viewer side: the hub's metrics process reads the feed there (core/ops/watch.py).
"""

from __future__ import annotations

import threading

import zmq

from swarmscope.core.wire.endpoints import check_endpoint
from swarmscope.core.wire.keys import client_curve

FORWARD_HWM = 100_000
"""Messages held for the central hub while it is slow or away (past it, dropped: they show as
gaps)."""
SERVE_HWM = 1_000
"""Messages held for a reader of a served side that falls behind (as a hub holds for a viewer):
past it ZeroMQ drops for that reader alone, and its model counts the loss as gaps."""


class Forwarder:
    """Passes what a hub delivers on `source` (an inproc endpoint in `context`) to the agent side
    `to`."""

    def __init__(self, source: str, to: str, context: zmq.Context, serve: bool = False) -> None:
        """`serve`: bind `to` for readers of this host (no CURVE: keep it private), rather than
        connect to another hub there."""
        self.source, self.to = source, check_endpoint(to, "--forward")
        self._serve = serve
        self._ctx = context
        self._name = f"{source}-forward-control"
        self._thread: threading.Thread | None = None
        self._control: zmq.Socket | None = None

    def start(self) -> Forwarder:
        """Connect both ends and start passing; ConfigError if this process's CURVE keys are half
        set."""
        up, down = self._ctx.socket(zmq.XSUB), self._ctx.socket(zmq.XPUB)
        curve = None if self._serve else client_curve()
        if curve is not None:
            curve.apply(down)
        for sock in (up, down):
            sock.setsockopt(zmq.LINGER, 0)
        up.setsockopt(zmq.RCVHWM, FORWARD_HWM)
        down.setsockopt(zmq.SNDHWM, SERVE_HWM if self._serve else FORWARD_HWM)
        up.connect(self.source)
        (down.bind if self._serve else down.connect)(self.to)
        self._control = self._ctx.socket(zmq.PAIR)
        self._control.bind(f"inproc://{self._name}")
        self._thread = threading.Thread(
            target=self._run, args=(up, down), name="swarmscope-forward", daemon=True
        )
        self._thread.start()
        return self

    def _run(self, up: zmq.Socket, down: zmq.Socket) -> None:
        ctrl = self._ctx.socket(zmq.PAIR)
        ctrl.connect(f"inproc://{self._name}")
        try:
            zmq.proxy_steerable(up, down, None, ctrl)
        except zmq.ZMQError:
            pass  # the context is going away under us: we are stopping anyway
        finally:
            for sock in (ctrl, up, down):
                sock.close(linger=0)

    def stop(self) -> None:
        if self._control is None:
            return
        self._control.send(b"TERMINATE")
        if self._thread is not None:
            self._thread.join(5)
        self._control.close(linger=0)
        self._control = None
