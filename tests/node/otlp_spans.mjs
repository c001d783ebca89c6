// Spans from a Node service through OpenTelemetry's own OTLP/HTTP protobuf exporter (tests/test_otlp.py):
// each span in a request of its own, the tool before the turn it belongs to.
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { context, trace, SpanStatusCode } from "@opentelemetry/api";

const exporter = new OTLPTraceExporter({ url: process.argv[2] });
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "node-svc" }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer("node-test");
const turn = tracer.startSpan("invoke_agent planner", {
  attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "node-planner" },
});
const inside = trace.setSpan(context.active(), turn);
const tool = tracer.startSpan(
  "execute_tool lookup",
  { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup" } },
  inside,
);
tool.recordException(new Error("lookup failed"));
tool.setStatus({ code: SpanStatusCode.ERROR, message: "lookup failed" });
tool.end();
turn.end();
await provider.forceFlush();
await provider.shutdown();
