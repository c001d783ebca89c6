"""CURVE: an encrypted feed that lets in only the clients whose public keys the hub holds."""

import os
import shutil
import signal
import subprocess
import sys

import pytest
from helpers import wait_for

from swarmscope.core.errors import ConfigError
from swarmscope.core.hub import hub as hub_module
from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.latejoin import LateJoin, history_endpoint
from swarmscope.core.live.source import LiveSource
from swarmscope.core.model.swarm import SwarmModel
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.wire.keys import CLIENTS, ENV_HUB_KEY, ENV_KEY, client_curve, create_keys

CLI = [sys.executable, "-m", "swarmscope.tui.cli"]


@pytest.fixture
def curve_hub(endpoints, tmp_path):
    with Hub(*endpoints, keys=tmp_path / "hub-keys") as hub:
        yield hub


def _client(hub, tmp_path, monkeypatch, name, let_in):
    """This test process becomes a client with a key of its own; the hub holds its public half if
    `let_in`."""
    public, secret = create_keys(tmp_path / "client-keys", name)
    if let_in:
        shutil.copy(public, hub.keys / CLIENTS)
        hub.reload_clients()
    monkeypatch.setenv(ENV_HUB_KEY, str(hub.keys / "hub.key"))
    monkeypatch.setenv(ENV_KEY, str(secret))


def test_a_client_the_hub_knows_gets_through_both_ways(curve_hub, tmp_path, monkeypatch):
    _client(curve_hub, tmp_path, monkeypatch, "laptop", let_in=True)
    with (
        Feed(curve_hub.out_endpoint) as feed,
        Emitter("a1", curve_hub.in_endpoint, heartbeat=60) as em,
    ):
        seen = []

        def through() -> bool:
            em.log("info", "hello over curve")
            seen.extend(feed.poll(20))
            return any(e.kind == "log" for e in seen)

        wait_for(through, timeout=30)
    assert curve_hub.stats.refused_clients == 0


def test_a_key_copied_into_clients_is_let_in_without_restarting_the_hub(
    endpoints, tmp_path, monkeypatch
):
    monkeypatch.setattr(hub_module, "CLIENTS_RELOAD_S", 0.1)
    with Hub(*endpoints, keys=tmp_path / "hub-keys") as hub:
        public, secret = create_keys(tmp_path / "client-keys", "late")
        shutil.copy(public, hub.keys / CLIENTS)  # no reload_clients(): the hub notices by itself
        monkeypatch.setenv(ENV_HUB_KEY, str(hub.keys / "hub.key"))
        monkeypatch.setenv(ENV_KEY, str(secret))

        def through() -> bool:  # fresh sockets each try: ZeroMQ does not retry a refused handshake
            with (
                Feed(hub.out_endpoint) as feed,
                Emitter("late", hub.in_endpoint, heartbeat=60) as em,
            ):
                for _ in range(20):
                    em.log("info", "in at last")
                    if any(e.kind == "log" for e in feed.poll(20)):
                        return True
            return False

        wait_for(through, timeout=30)


def test_a_client_with_a_key_the_hub_does_not_hold_is_refused_and_counted(
    curve_hub, tmp_path, monkeypatch
):
    _client(curve_hub, tmp_path, monkeypatch, "stranger", let_in=False)
    with Feed(curve_hub.out_endpoint) as feed:
        wait_for(lambda: curve_hub.stats.refused_clients >= 1 and not feed.poll(10), timeout=30)


def test_a_client_without_curve_is_cut_off(curve_hub, monkeypatch):
    monkeypatch.delenv(ENV_HUB_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY, raising=False)
    with Feed(curve_hub.out_endpoint) as feed:
        wait_for(lambda: curve_hub.stats.dropped_connections >= 1 and not feed.poll(10), timeout=30)


def test_half_the_credentials_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_HUB_KEY, str(tmp_path / "hub.key"))
    monkeypatch.delenv(ENV_KEY, raising=False)
    with pytest.raises(ConfigError, match="set both"):
        client_curve()
    public, _ = create_keys(tmp_path, "public-only")
    monkeypatch.setenv(ENV_HUB_KEY, str(public))
    monkeypatch.setenv(ENV_KEY, str(public))  # the public half where the secret one belongs
    with pytest.raises(ConfigError, match="holds only a public key"):
        client_curve()


def test_a_key_pair_is_made_once_and_its_secret_is_private(tmp_path):
    public, secret = create_keys(tmp_path, "agent-1")
    assert public.name == "agent-1.key" and secret.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="already exists"):
        create_keys(tmp_path, "agent-1")


@pytest.mark.parametrize("curve", [False, True], ids=["open", "curve"])
def test_the_hub_warns_of_an_open_feed_other_hosts_can_reach(tmp_path, curve):
    """Bound to every interface (an ephemeral port), the hub says whether anyone may join."""
    args = [
        *CLI,
        "hub",
        "--in",
        "tcp://0.0.0.0:*",
        "--out",
        f"ipc://{tmp_path}/out",
        "--stats-every",
        "3600",
    ]
    if curve:
        args += ["--curve", "--keys", str(tmp_path / "keys")]
    hub = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # bound: it has said what it had to
        wait_for(lambda: (tmp_path / "out").exists(), timeout=30)
        hub.send_signal(signal.SIGINT)
        _, err = hub.communicate(timeout=30)
    finally:
        hub.kill()
    assert hub.returncode == 0, err
    assert ("not authenticated" in err) is not curve and ("CURVE on" in err) is curve
    assert (tmp_path / "keys" / "hub.key").exists() is curve and (
        tmp_path / "keys" / CLIENTS
    ).is_dir() is curve


@pytest.mark.parametrize(
    "key, says", [("stranger", "does not know this key"), (None, "CURVE on one side only")]
)
def test_a_viewer_turned_away_says_why_instead_of_waiting(
    curve_hub, tmp_path, monkeypatch, key, says
):
    if key:
        _client(curve_hub, tmp_path, monkeypatch, key, let_in=False)
    else:
        monkeypatch.delenv(ENV_HUB_KEY, raising=False)
        monkeypatch.delenv(ENV_KEY, raising=False)
    source = LiveSource(curve_hub.out_endpoint).start()
    try:
        wait_for(lambda: source.turned_away is not None, timeout=30)
    finally:
        source.stop()
    assert says in source.status and not source.connected


def test_watch_with_credentials_it_cannot_read_is_one_line_before_any_screen(tmp_path):
    env = {
        **os.environ,
        ENV_HUB_KEY: str(tmp_path / "no-such.key"),
        ENV_KEY: str(tmp_path / "no-such.key_secret"),
    }
    result = subprocess.run([*CLI, "watch"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("swarmscope watch: SWARMSCOPE_HUB_KEY: cannot read a key from")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_recorder_turned_away_stops_with_one_line_instead_of_recording_nothing(
    curve_hub, tmp_path
):
    public, secret = create_keys(tmp_path / "client-keys", "stranger")
    env = {**os.environ, ENV_HUB_KEY: str(curve_hub.keys / "hub.key"), ENV_KEY: str(secret)}
    result = subprocess.run(
        [*CLI, "record", "--connect", curve_hub.out_endpoint, "--out", str(tmp_path / "r.swarm")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("swarmscope record: turned away: the hub at")
    )


def test_keys_create_and_list_from_the_command_line(tmp_path):
    env = {**os.environ, "SWARMSCOPE_HOME": str(tmp_path)}
    made = subprocess.run(
        [*CLI, "keys", "create", "laptop"], capture_output=True, text=True, timeout=60, env=env
    )
    assert made.returncode == 0 and f"secret key: {tmp_path}/keys/laptop.key_secret" in made.stdout
    (tmp_path / "keys" / CLIENTS).mkdir()
    shutil.copy(tmp_path / "keys" / "laptop.key", tmp_path / "keys" / CLIENTS)
    listed = subprocess.run(
        [*CLI, "keys", "list"], capture_output=True, text=True, timeout=60, env=env
    ).stdout
    pairs, clients = listed.split("clients a --curve hub")
    assert (
        "laptop" in pairs
        and "public + secret" in pairs
        and "laptop" in clients
        and "public only" in clients
    )
    again = subprocess.run(
        [*CLI, "keys", "create", "laptop"], capture_output=True, text=True, timeout=60, env=env
    )
    assert (
        again.returncode == 1
        and "already exists" in again.stderr
        and len(again.stderr.splitlines()) == 1
    )


@pytest.mark.parametrize(
    "args",
    [["keys", "create", "a"], ["hub", "--curve", "--in", "ipc://{t}/in", "--out", "ipc://{t}/out"]],
    ids=["keys-create", "hub"],
)
def test_a_keys_folder_that_cannot_be_written_is_one_line(tmp_path, args):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the keys folder would go")
    env = {**os.environ, "SWARMSCOPE_HOME": str(blocker)}
    result = subprocess.run(
        [*CLI, *(a.format(t=tmp_path) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot write keys in" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("let_in", [True, False])
def test_a_curve_hub_tells_late_joiners_only_what_it_tells_known_clients(
    endpoints, tmp_path, monkeypatch, let_in
):
    with Hub(*endpoints, keys=tmp_path / "hub-keys", history=history_endpoint(endpoints[1])) as hub:
        hub.serve_state(lambda: (SwarmModel(), None))
        _client(hub, tmp_path, monkeypatch, "laptop", let_in)
        join = LateJoin(hub.history_endpoint, clock=lambda: 0.0)  # never gives up by itself
        if let_in:
            wait_for(lambda: join.answer() is not None, timeout=30)
        else:
            wait_for(lambda: hub.stats.refused_clients > 0, timeout=30)
            assert join.answer() is None and join.waiting
        join.close()
