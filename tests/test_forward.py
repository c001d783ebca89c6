"""Chained hubs: a host's hub forwards everything to a central hub, over real sockets."""

import signal
import subprocess
import sys

from helpers import wait_for

from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.forward import Forwarder
from swarmscope.core.hub.hub import Hub
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.sdk.emitter import Emitter

CLI = [sys.executable, "-m", "swarmscope.tui.cli"]


def _until_through(local_in, central_feed):
    """Probe into the local hub until one comes out of the central one: the whole chain is
    subscribed."""
    probe = Emitter("probe", local_in, heartbeat=60)
    seen = []

    def through():
        probe.emit("probe")
        seen.extend(e for e in central_feed.poll(20) if e.agent == "probe")
        return bool(seen)

    wait_for(through, timeout=20)
    probe.close()


def _fold_until(feed, model, until, timeout=30.0):
    wait_for(
        lambda: model.apply_many([e for e in feed.poll(50) if e.agent != "probe"]) or until(),
        timeout,
    )


def _emit(endpoint, agents, n):
    for agent in agents:
        # all of them sent; no heartbeats: a beat from the flusher thread can take a seq while the
        # agent's thread holds the one before, and be sent first (a gap that is not one; see the
        # README)
        with Emitter(
            agent, endpoint, heartbeat=60, auto_heartbeat=False, queue_size=n + 10, close_timeout=30
        ) as em:
            for k in range(n):
                em.progress(k / n, task="t", message=str(k))


def test_a_forwarding_hub_delivers_every_event_to_the_central_one(tmp_path):
    with (
        Hub(f"ipc://{tmp_path}/central-in", f"ipc://{tmp_path}/central-out") as central,
        Hub(f"ipc://{tmp_path}/local-in", f"ipc://{tmp_path}/local-out") as local,
        Feed(central.out_endpoint) as far,
        Feed(local.out_endpoint) as near,
    ):
        forwarder = Forwarder(local.inproc_out, central.in_endpoint, local.context).start()
        try:
            _until_through(local.in_endpoint, far)
            _emit(local.in_endpoint, ["a", "b"], 10_000)
            at_central, at_local = SwarmModel(), SwarmModel()
            _fold_until(
                far, at_central, lambda: sum(a.said_bye for a in at_central.agents.values()) == 2
            )
            _fold_until(
                near, at_local, lambda: sum(a.said_bye for a in at_local.agents.values()) == 2
            )
        finally:
            forwarder.stop()
    counts = {k: (a.events, a.gaps) for k, a in at_central.agents.items()}
    # all, and only, what the local hub had
    assert counts == {k: (a.events, a.gaps) for k, a in at_local.agents.items()}
    # hello, 10,000, bye
    assert all(events == 10_002 and gaps == 0 for events, gaps in counts.values()), counts
    assert sum(central.stats.gaps.values()) == 0


def test_swarmscope_hub_forward_from_the_command_line(tmp_path):
    with (
        Hub(f"ipc://{tmp_path}/central-in", f"ipc://{tmp_path}/central-out") as central,
        Feed(central.out_endpoint) as far,
    ):
        local_in = f"ipc://{tmp_path}/local-in"
        proc = subprocess.Popen(
            [
                *CLI,
                "hub",
                "--in",
                local_in,
                "--out",
                f"ipc://{tmp_path}/local-out",
                "--forward",
                central.in_endpoint,
                "--stats-every",
                "3600",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _until_through(local_in, far)
            _emit(local_in, ["c"], 500)
            model = SwarmModel()
            _fold_until(far, model, lambda: "c" in model.agents and model.agents["c"].said_bye)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"forwarding everything to {central.in_endpoint}" in err
    assert model.agents["c"].events == 502 and model.agents["c"].gaps == 0


def test_a_reader_behind_a_chain_is_not_told_it_lost_what_never_reached_its_hub(
    tmp_path, monkeypatch
):
    """An agent that spoke to the host hub before it forwarded anything never reached the central
    hub. The host's ledger names it, and reaches the reader too: not a loss of the reader's."""
    from swarmscope.core.hub import hub as hub_module
    from swarmscope.core.model.sequence import LOST
    from swarmscope.core.wire.kept import events_kept

    monkeypatch.setattr(hub_module, "LEDGER_S", 0.05)  # a whole ledger every 0.25 s
    with (
        Hub(f"ipc://{tmp_path}/central-in", f"ipc://{tmp_path}/central-out") as central,
        Hub(f"ipc://{tmp_path}/local-in", f"ipc://{tmp_path}/local-out") as local,
        Feed(local.out_endpoint) as near,
    ):
        _emit(local.in_endpoint, ["early"], 5)
        seen = SwarmModel()
        _fold_until(near, seen, lambda: "early" in seen.agents and seen.agents["early"].said_bye)
        wait_for(lambda: near.poll(50) is not None and near.stats.ledgers >= 10, 30)
        forwarder = Forwarder(local.inproc_out, central.in_endpoint, local.context).start()
        try:
            with Feed(central.out_endpoint) as far:
                _until_through(local.in_endpoint, far)
                _emit(local.in_endpoint, ["late"], 5)
                got = []
                wait_for(lambda: got.extend(far.poll_kept(50)) or far.stats.ledgers >= 20, 30)
        finally:
            forwarder.stop()
    events = [e for kept in got for e in events_kept(kept) if e.agent != "probe"]
    assert [e.agent for e in events if e.kind == LOST] == []
    assert [e.seq for e in events if e.agent == "late"] == list(range(7))
