"""The live view's model kept in a child process: the screen's copy matches, and a dead child is
said."""

from helpers import wait_for

from swarmscope.core.live.process import ProcessSource
from swarmscope.core.sdk.emitter import Emitter


def read(source: ProcessSource):
    with source.reading() as model:
        return model


def test_the_screens_copy_follows_the_childs_model(hub, feed):
    source = ProcessSource(hub.out_endpoint).start()
    try:
        wait_for(lambda: source.connected or bool(read(source).agents), timeout=30)
        with Emitter("agent-7", hub.in_endpoint, role="coder", auto_heartbeat=False) as em:

            def through() -> bool:
                em.status("running")
                return "agent-7" in read(source).agents

            wait_for(through, timeout=30)
            with em.task("t-1", name="fetch"):
                em.progress(0.5, task="t-1", message="half")
                em.state({"plan": "p", "memory": ["a"]})
                em.message("agent-9", topic="handoff")
                wait_for(lambda: read(source).agents["agent-7"].progress == 0.5, timeout=30)
                model = read(source)
                agent = model.agents["agent-7"]
                assert (agent.role, agent.status, agent.task, agent.state) == (
                    "coder",
                    "running",
                    "t-1",
                    {"plan": "p", "memory": ["a"]},
                )
                assert (
                    model.tasks["t-1"].result is None
                    and model.links[("agent-7", "agent-9")].count == 1
                )
        wait_for(lambda: read(source).agents["agent-7"].said_bye, timeout=30)
        assert read(source).gaps == 0 and source.appended >= 6 and source.status == "live"
    finally:
        source.stop()
    assert not source._proc.is_alive()


def test_a_missing_hub_and_a_dead_child_are_said_not_hidden(tmp_path, hub):
    lonely = ProcessSource(f"ipc://{tmp_path}/nobody").start()
    source = ProcessSource(hub.out_endpoint).start()
    try:
        wait_for(lambda: (read(source), source.connected)[1], timeout=30)
        read(lonely)
        assert "waiting for a hub" in lonely.status and source.status == "live"
        source._proc.kill()
        source._proc.join(5)
        wait_for(lambda: (read(source), not source.connected)[1], timeout=10)
        assert "waiting" in source.status
    finally:
        source.stop()
        lonely.stop()
