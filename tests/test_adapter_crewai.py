"""CrewAI, run for real and offline where it is installed (it is not in the test extra: about 1 GB,
and it pins its own openai, pydantic and rich): a researcher uses a tool, then a writer writes,
with a scripted LLM (the example's, adapters/demos.py), through swarmscope's listener into a real
hub."""

from __future__ import annotations

import pytest
from helpers import drain

pytest.importorskip("crewai")

from crewai import Agent, Crew, Task  # noqa: E402
from crewai.tools import tool  # noqa: E402

from swarmscope.adapters.crewai import SwarmscopeListener  # noqa: E402
from swarmscope.adapters.demos import scripted_llm  # noqa: E402
from swarmscope.core.model.swarm import SwarmModel  # noqa: E402


@tool("search")
def search(query: str) -> str:
    """Search the web for a query."""
    return f"3 results for {query}"


def test_a_crew_shows_its_agents_tasks_and_tool_use(hub, feed):
    listener = SwarmscopeListener(hub.in_endpoint)
    researcher_llm = scripted_llm(
        [
            'Thought: I should search.\nAction: search\nAction Input: {"query": "agent swarms"}',
            "Thought: I now know the final answer\nFinal Answer: three sources on agent swarms",
        ]
    )
    writer_llm = scripted_llm(["Thought: I now know the final answer\nFinal Answer: the report"])
    researcher = Agent(
        role="researcher",
        goal="find sources",
        backstory="careful",
        llm=researcher_llm,
        tools=[search],
    )
    writer = Agent(role="writer", goal="write", backstory="clear", llm=writer_llm)
    crew = Crew(
        agents=[researcher, writer],
        tasks=[
            Task(
                description="find sources on agent swarms",
                expected_output="sources",
                agent=researcher,
            ),
            Task(description="write the report", expected_output="a report", agent=writer),
        ],
    )
    result = crew.kickoff()
    assert "report" in str(result)
    from crewai.events import crewai_event_bus

    crewai_event_bus.flush()
    listener.close()
    events = drain(feed, lambda evs: sum(e.kind == "bye" for e in evs) >= 2)

    assert {e.agent for e in events} == {"researcher", "writer"}
    names = [e.data["name"] for e in events if e.kind == "task_start" and e.agent == "researcher"]
    assert "search" in names and any("find sources" in n for n in names)
    (used,) = [e for e in events if e.kind == "task_end" and e.data.get("output")]
    assert "3 results" in used.data["output"]
    model = SwarmModel()
    model.apply_many(events)
    assert model.agents["writer"].tasks_ok == 1 and model.agents["researcher"].tasks_ok == 2
    assert listener.failed == 0


def test_the_crewai_example_puts_its_crew_on_the_hub(hub, feed):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent.parent / "examples" / "crewai_crew.py"
    env = {**os.environ, "SWARMSCOPE_ENDPOINT": hub.in_endpoint, "CREWAI_DISABLE_TELEMETRY": "true"}
    done = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    events = drain(feed, lambda evs: sum(e.kind == "bye" for e in evs) >= 2)
    assert {e.agent for e in events} == {"researcher", "writer"}
