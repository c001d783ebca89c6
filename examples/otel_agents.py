"""Two agents traced with OpenTelemetry, watched by swarmscope: run `swarmscope demo` or a hub,
then `python examples/otel_agents.py`. Needs `pip install 'swarmscope[otel]'`.

Any program that traces with the OpenTelemetry SDK (GenAI or OpenInference attributes) needs only
the two lines marked below."""

import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from swarmscope.adapters.otel import SwarmscopeSpanProcessor  # 1

provider = TracerProvider(resource=Resource({"service.name": "otel-example"}))
provider.add_span_processor(SwarmscopeSpanProcessor())  # 2: endpoint as $SWARMSCOPE_ENDPOINT says
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("example")


def turn(agent: str, tool: str, fails: bool = False) -> None:
    """One turn of an agent: a model call, then a tool call."""
    with tracer.start_as_current_span(
        f"invoke_agent {agent}",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent},
    ):
        with tracer.start_as_current_span(
            "chat",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "scripted",
                "gen_ai.usage.input_tokens": 800,
                "gen_ai.usage.output_tokens": 120,
            },
        ):
            time.sleep(0.2)
        with tracer.start_as_current_span(
            f"execute_tool {tool}",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool},
        ):
            time.sleep(0.3)
            if fails:
                raise TimeoutError(f"{tool} did not answer")


turn("triage", "classify")
try:
    turn("researcher", "web_search", fails=True)
except TimeoutError:
    pass
turn("researcher", "web_search")
provider.shutdown()  # every agent says bye
