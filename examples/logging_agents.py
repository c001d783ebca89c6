"""Agents that only log, watched by swarmscope: run `swarmscope demo` or a hub, then
`python examples/logging_agents.py`. Each logger under `swarm.` is an agent; one line of set-up."""

import logging

from swarmscope.adapters.logs import SwarmscopeHandler

logging.getLogger("swarm").addHandler(SwarmscopeHandler(prefix="swarm"))  # the one line
logging.getLogger("swarm").setLevel(logging.INFO)

planner = logging.getLogger("swarm.planner")
coder = logging.getLogger("swarm.coder")
planner.info("split the goal into %d steps", 3)
coder.info("writing the parser", extra={"step": 1})
try:
    int("not a number")
except ValueError:
    coder.exception("the parser failed")
planner.warning("re-planning after the coder's failure")
logging.shutdown()  # every agent says bye
