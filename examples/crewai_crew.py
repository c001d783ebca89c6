"""A CrewAI crew watched by swarmscope: run `swarmscope demo` or a hub, then
`python examples/crewai_crew.py`. Needs `pip install 'swarmscope[crewai]'`.

Offline: the LLM here is scripted. With yours, leave out `llm=`; the two lines marked are all
swarmscope asks."""

from crewai import Agent, Crew, Task
from crewai.tools import tool

from swarmscope.adapters.crewai import SwarmscopeListener  # 1
from swarmscope.adapters.demos import scripted_llm

listener = SwarmscopeListener()  # 2


@tool("search")
def search(query: str) -> str:
    """Search the web for a query."""
    return f"3 results for {query}"


finds = scripted_llm(
    [
        'Thought: I should search.\nAction: search\nAction Input: {"query": "agent swarms"}',
        "Thought: I now know the final answer\nFinal Answer: three sources",
    ]
)
writes = scripted_llm(["Thought: I now know the final answer\nFinal Answer: the report"])
researcher = Agent(role="researcher", goal="find", backstory="careful", llm=finds, tools=[search])
writer = Agent(role="writer", goal="write", backstory="clear", llm=writes)
crew = Crew(
    agents=[researcher, writer],
    tasks=[
        Task(description="find sources", expected_output="sources", agent=researcher),
        Task(description="write the report", expected_output="a report", agent=writer),
    ],
)
print(crew.kickoff())
listener.close()  # every agent says bye
