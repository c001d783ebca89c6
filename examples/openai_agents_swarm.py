"""Three OpenAI Agents SDK agents handing off, watched by swarmscope: run `swarmscope demo` or a
hub, then `python examples/openai_agents_swarm.py`. Needs `pip install 'swarmscope[openai-agents]'`.

Offline: each agent's model here is scripted. With OpenAI's models (OPENAI_API_KEY set), leave out
`model=`; the two lines marked are all swarmscope asks."""

import asyncio

import agents
from agents import Agent, Runner, function_tool

from swarmscope.adapters.demos import says, scripted_model, tool_call
from swarmscope.adapters.openai_agents import SwarmscopeTracingProcessor  # 1

processor = SwarmscopeTracingProcessor()
agents.set_trace_processors([processor])  # 2 (add_trace_processor keeps OpenAI's own exporter too)


@function_tool
def web_search(query: str) -> str:
    """Search the web."""
    return f"4 sources on {query}"


writer = Agent(name="writer", model=scripted_model([says("The report.")], pause=0.5))
researcher = Agent(
    name="researcher",
    tools=[web_search],
    handoffs=[writer],
    model=scripted_model(
        [tool_call("web_search", {"query": "agent swarms"}), tool_call("transfer_to_writer", {})],
        pause=0.5,
    ),
)
triage = Agent(
    name="triage",
    handoffs=[researcher],
    model=scripted_model([tool_call("transfer_to_researcher", {})], pause=0.5),
)
result = asyncio.run(Runner.run(triage, "a report on agent swarms"))
print(result.final_output)
processor.shutdown()  # every agent says bye
