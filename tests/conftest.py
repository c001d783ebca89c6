"""Shared fixtures: real hubs on ipc endpoints in a tmp dir, and a helper that waits on a
condition."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_for
from hypothesis import settings

from swarmscope.core.hub.feed import Feed
from swarmscope.core.hub.hub import Hub
from swarmscope.core.hub.latejoin import history_endpoint
from swarmscope.core.sdk.emitter import Emitter
from swarmscope.core.session.recorder import Recorder

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("long", max_examples=20_000, database=None, deadline=None)
settings.load_profile(os.environ.get("SWARMSCOPE_FUZZ", "ci"))


@pytest.fixture(autouse=True)
def sessions_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Sessions recorded by any test (a demo records by default) go to a tmp dir, never the
    user's."""
    home = tmp_path_factory.mktemp("swarmscope-home")
    monkeypatch.setenv("SWARMSCOPE_HOME", str(home))
    return home


@pytest.fixture
def endpoints(tmp_path: Path) -> tuple[str, str]:
    """A fresh pair of ipc endpoints (agents in, viewers out), private to this test."""
    return f"ipc://{tmp_path}/in", f"ipc://{tmp_path}/out"


@pytest.fixture
def hub(endpoints: tuple[str, str]) -> Iterator[Hub]:
    with Hub(*endpoints) as h:
        yield h


@pytest.fixture
def recording_hub(endpoints: tuple[str, str], tmp_path: Path) -> Iterator[Hub]:
    """A hub that records into tmp_path/sessions and answers late joiners."""
    in_ep, out_ep = endpoints
    hub = Hub(in_ep, out_ep, history=history_endpoint(out_ep))
    recorder = Recorder(tmp_path / "sessions").attach(hub)
    with hub:
        yield hub
    recorder.close()


@pytest.fixture
def feed(hub: Hub) -> Iterator[Feed]:
    """A viewer attached to `hub`, proven connected by a probe event going all the way round."""
    with Feed(hub.out_endpoint) as f:
        probe = Emitter("probe", hub.in_endpoint, heartbeat=60)
        seen: list = []

        def round_trip() -> bool:
            probe.emit("probe")
            seen.extend(e for e in f.poll(20) if e.agent == "probe")
            return bool(seen)

        wait_for(round_trip)
        probe.close()
        f.poll(50)  # take the probe's bye out of the way
        yield f
