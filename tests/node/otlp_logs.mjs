// Log records from a Node service through OpenTelemetry's own OTLP/HTTP protobuf log exporter
// (tests/test_otlp.py): one names its session, as Claude Code's events do.
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SeverityNumber } from "@opentelemetry/api-logs";

const provider = new LoggerProvider({
  resource: resourceFromAttributes({ "service.name": "node-svc" }),
  processors: [
    new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: process.argv[2] }) }),
  ],
});
const logger = provider.getLogger("node-test");
logger.emit({
  severityNumber: SeverityNumber.ERROR,
  severityText: "ERROR",
  body: "api_error",
  attributes: { "session.id": "node-session", "error.type": "overloaded" },
});
await provider.forceFlush();
await provider.shutdown();
