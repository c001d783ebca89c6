"""The OTLP/HTTP receiver (`hub --otlp`): the OpenTelemetry SDK's own exporter and hand-made
bodies in, a real hub, a viewer's feed out; and every body a hostile client could send refused
with the status the OTLP spec asks for, counted, never a crash."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import time

import pytest
from helpers import drain, wait_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytest.importorskip("opentelemetry.proto")

from swarmscope.adapters.otlp import OtlpReceiver  # noqa: E402
from swarmscope.adapters.otlp_body import MAX_BODY, Refused, read_body  # noqa: E402


@pytest.fixture
def otlp(hub):
    receiver = OtlpReceiver("127.0.0.1:0", hub.in_endpoint).start()
    yield receiver
    receiver.stop()


def post(receiver, path, body, headers=None, chunked=False):
    """(status, body) of one POST."""
    host, port = receiver.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": "application/x-protobuf", **(headers or {})}
    if chunked:
        conn.request(
            "POST",
            path,
            iter([body[: len(body) // 2], body[len(body) // 2 :]]),
            headers,
            encode_chunked=True,
        )
    else:
        conn.request("POST", path, body, headers)
    response = conn.getresponse()
    got = response.status, response.read()
    conn.close()
    return got


def _byes(events) -> set:
    return {e.agent for e in events if e.kind == "bye"}


def _of(events, agent, kind):
    return [e for e in events if e.agent == agent and e.kind == kind]


def test_the_sdks_own_exporter_puts_agents_on_the_hub(otlp, feed):
    """Spans through OTLPSpanExporter (protobuf, gzip), as any OpenTelemetry program sends them:
    children before parents, in batches. Each span's start and end go out at their real times."""
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(
        endpoint=f"http://{otlp.address}/v1/traces", compression=Compression.Gzip
    )
    provider = TracerProvider(resource=Resource({"service.name": "svc"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "writer"}
    with tracer.start_as_current_span("invoke_agent writer", attributes=agent):
        tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "spellcheck"}
        with tracer.start_as_current_span("execute_tool spellcheck", attributes=tool):
            time.sleep(0.05)
        with pytest.raises(KeyError):
            with tracer.start_as_current_span("lookup"):  # names no agent: its parent's
                raise KeyError("no such word")
    provider.shutdown()
    wait_for(lambda: otlp.stats["spans"] >= 3)
    otlp.stop()  # every agent says bye
    events = drain(feed, lambda evs: "writer" in _byes(evs))

    starts = _of(events, "writer", "task_start")
    assert [e.data["name"] for e in starts] == ["invoke_agent writer", "spellcheck"]
    ends = _of(events, "writer", "task_end")
    assert starts[0].ts < starts[1].ts < ends[0].ts  # real times, though the parent came last
    assert ends[1].ts - starts[1].ts >= 50_000_000
    (error,) = _of(events, "writer", "error")
    assert error.data["type"] == "KeyError" and error.data["span"] == "lookup"
    assert [e.data["status"] for e in _of(events, "writer", "status")] == ["running", "idle"]
    assert otlp.stats["refused.protobuf"] == 0 and otlp.stats["failures"] == 0


def test_json_bodies_with_hex_ids_chunked_and_logs_and_metrics(otlp, feed):
    span_id, parent = "00f067aa0ba902b7", "00f067aa0ba902b8"
    spans_body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": span_id,
                                "parentSpanId": parent,
                                "name": "execute_tool fetch",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000500000000",
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "execute_tool"},
                                    },
                                    {"key": "gen_ai.tool.name", "value": {"stringValue": "fetch"}},
                                    {
                                        "key": "gen_ai.agent.name",
                                        "value": {"stringValue": "node-agent"},
                                    },
                                ],
                            },
                            {"spanId": "", "name": "no id", "startTimeUnixNano": "1"},
                        ]
                    }
                ],
            }
        ]
    }
    status, body = post(
        otlp,
        "/v1/traces",
        json.dumps(spans_body).encode(),
        {"Content-Type": "application/json"},
        chunked=True,
    )
    assert status == 200 and json.loads(body)["partialSuccess"]["rejectedSpans"] == "1"
    logs_body = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000001000000000",
                                "severityNumber": 17,
                                "severityText": "ERROR",
                                "body": {"stringValue": "claude_code.api_error"},
                                "attributes": [
                                    {"key": "session.id", "value": {"stringValue": "session-1"}},
                                    {"key": "error.type", "value": {"stringValue": "overloaded"}},
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    status, _ = post(
        otlp, "/v1/logs", json.dumps(logs_body).encode(), {"Content-Type": "application/json"}
    )
    assert status == 200
    metrics_body = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "claude_code.token.usage",
                                "sum": {
                                    "dataPoints": [
                                        {
                                            "asInt": "1500",
                                            "timeUnixNano": "1700000002000000000",
                                            "attributes": [
                                                {
                                                    "key": "session.id",
                                                    "value": {"stringValue": "session-1"},
                                                },
                                                {"key": "type", "value": {"stringValue": "input"}},
                                            ],
                                        }
                                    ]
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    status, _ = post(
        otlp,
        "/v1/metrics",
        gzip.compress(json.dumps(metrics_body).encode()),
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert status == 200
    otlp.stop()
    events = drain(feed, lambda evs: {"node-agent", "session-1"} <= _byes(evs))

    (start,) = _of(events, "node-agent", "task_start")
    assert start.data == {"task": span_id, "name": "fetch", "span": "execute_tool fetch"}
    assert start.ts == 1_700_000_000_000_000_000
    (log,) = _of(events, "session-1", "log")
    assert log.data["level"] == "error" and log.data["message"] == "claude_code.api_error"
    assert _of(events, "session-1", "error")[0].data["type"] == "overloaded"
    (metric,) = _of(events, "session-1", "metric")
    assert metric.data["name"] == "claude_code.token.usage" and metric.data["value"] == 1500


@pytest.mark.parametrize(
    "path, body, headers, status, reason",
    [
        ("/v1/traces", b"\xff\xff\xff", {}, 400, "protobuf"),
        ("/v1/traces", b"{}", {"Content-Type": "text/plain"}, 415, "content_type"),
        ("/v1/elsewhere", b"", {}, 404, "path"),
        ("/v1/traces", b"[" * 100_000, {"Content-Type": "application/json"}, 400, "json"),
        ("/v1/traces", b"x", {"Content-Encoding": "br"}, 415, "encoding"),
        ("/v1/traces", b"not gzip", {"Content-Encoding": "gzip"}, 400, "gzip"),
    ],
    ids=["garbage", "content-type", "path", "deep-json", "encoding", "bad-gzip"],
)
def test_a_bad_body_is_refused_as_the_spec_says_and_counted(
    otlp, path, body, headers, status, reason
):
    assert post(otlp, path, body, headers)[0] == status
    assert otlp.stats[f"refused.{reason}"] == 1
    assert post(otlp, "/v1/traces", b"")[0] == 200  # and the receiver goes on


def test_bodies_past_the_limit_are_refused_before_they_are_read_or_inflated():
    with pytest.raises(Refused) as said:
        read_body(io.BytesIO(b""), str(MAX_BODY + 1), False, "")
    assert said.value.status == 413
    bomb = gzip.compress(b"\0" * (MAX_BODY + 10))
    with pytest.raises(Refused) as said:
        read_body(io.BytesIO(bomb), str(len(bomb)), False, "gzip")
    assert said.value.status == 413 and len(bomb) < MAX_BODY // 100
    chunks = (
        b"".join(b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20)) for _ in range(20)) + b"0\r\n\r\n"
    )
    with pytest.raises(Refused) as said:
        read_body(io.BytesIO(chunks), None, True, "")
    assert said.value.status == 413


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000), st.sampled_from(["application/x-protobuf", "application/json"]))
@example(b"\n\x00", "application/x-protobuf")
@example(
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "zz"}]}]}]}', "application/json"
)
def test_any_body_is_taken_or_refused_never_more(body, content_type):
    """Hostile bodies, straight to the receiver's own code (no hub needed: nothing it takes is
    sent anywhere but a publisher's queue)."""
    receiver = _bare_receiver()
    for path in ("/v1/traces", "/v1/logs", "/v1/metrics"):
        try:
            receiver.take(path, body, content_type)
        except Refused as refused:
            assert refused.status in (400, 413, 415)


_BARE: list = []


def _bare_receiver() -> OtlpReceiver:
    """One receiver for every example, with nowhere to send (an endpoint nobody listens on)."""
    if not _BARE:
        _BARE.append(OtlpReceiver("127.0.0.1:0", "ipc:///tmp/swarmscope-nobody-listens"))
    return _BARE[0]


def test_hub_otlp_records_what_an_exporter_sends(tmp_path):
    """`swarmscope hub --record --otlp HOST:PORT`, as a user runs it."""
    import signal
    import socket

    from processes import probe_events, recording_hub

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proc, _, path = recording_hub(tmp_path, "--otlp", f"127.0.0.1:{port}")
    try:

        class At:
            address = f"127.0.0.1:{port}"

        span = {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "spanId": "00f067aa0ba902b7",
                                    "name": "execute_tool fetch",
                                    "startTimeUnixNano": str(time.time_ns()),
                                    "endTimeUnixNano": str(time.time_ns()),
                                    "attributes": [
                                        {
                                            "key": "gen_ai.operation.name",
                                            "value": {"stringValue": "execute_tool"},
                                        },
                                        {
                                            "key": "gen_ai.agent.name",
                                            "value": {"stringValue": "probe"},
                                        },
                                    ],
                                }
                            ]
                        }
                    ]
                }
            ]
        }
        assert (
            post(At, "/v1/traces", json.dumps(span).encode(), {"Content-Type": "application/json"})[
                0
            ]
            == 200
        )
        wait_for(lambda: any(e.kind == "task_end" for e in probe_events(path)), timeout=20)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err
    assert f"OTLP/HTTP on http://127.0.0.1:{port}" in err
    # the hub's last line counts what the receiver took
    assert "OTLP 1 request: 1 span, 0 log records, 0 metric points; 0 refused" in out


def test_hub_otlp_with_a_port_out_of_range_says_so_in_one_line(tmp_path):
    import subprocess

    from processes import CLI

    done = subprocess.run(
        [
            *CLI,
            "hub",
            "--in",
            f"ipc://{tmp_path}/in",
            "--out",
            f"ipc://{tmp_path}/out",
            "--otlp",
            "127.0.0.1:99999",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--otlp: '127.0.0.1:99999': HOST:PORT with a port up to 65535" in done.stderr


def test_the_otlp_bench_gives_its_figures():
    from swarmscope.bench.otlp import bench_otlp

    got = bench_otlp(quick=True, report=None)
    assert got["otlp_floor_spans_per_s"] > got["otlp_take_per_s"] > 0 and got["otlp_http_per_s"] > 0


@pytest.fixture(scope="module")
def node_otel(tmp_path_factory):
    """A folder with OpenTelemetry's JavaScript SDK and OTLP exporter from npm: a real client
    none of us wrote. Skipped where node, npm or the registry is not there."""
    import shutil
    import subprocess
    from pathlib import Path

    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node is not on this machine")
    folder = tmp_path_factory.mktemp("node-otel")
    packages = [
        "@opentelemetry/api",
        "@opentelemetry/sdk-trace-base",
        "@opentelemetry/exporter-trace-otlp-proto",
        "@opentelemetry/resources",
        "@opentelemetry/api-logs",
        "@opentelemetry/sdk-logs",
        "@opentelemetry/exporter-logs-otlp-proto",
    ]
    done = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", *packages],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.skip(f"npm could not install OpenTelemetry: {done.stderr[-300:]}")
    for script in ("otlp_spans.mjs", "otlp_logs.mjs"):
        shutil.copy(Path(__file__).parent / "node" / script, folder)
    return folder


def _node(folder, script: str, url: str) -> None:
    """One of tests/node's scripts, exporting to `url`, run to its end."""
    import subprocess

    done = subprocess.run(
        ["node", script, url], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_node_services_spans_land_on_its_agent(otlp, feed, node_otel):
    """Each span in a request of its own, the tool's before its agent's turn: the tool waits for
    its parent, and lands on the agent the turn names, not on the service."""
    _node(node_otel, "otlp_spans.mjs", f"http://{otlp.address}/v1/traces")
    wait_for(lambda: otlp.stats["spans"] >= 2)
    otlp.stop()
    events = drain(feed, lambda evs: "node-planner" in _byes(evs))
    assert {e.agent for e in events} == {"node-planner"}
    names = [e.data["name"] for e in _of(events, "node-planner", "task_start")]
    assert sorted(names) == ["invoke_agent planner", "lookup"]
    (error,) = _of(events, "node-planner", "error")
    assert error.data["message"] == "lookup failed" and error.data["span"] == "execute_tool lookup"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's own LoggingHandler
def test_the_sdks_own_log_exporter_puts_log_records_on_their_agents(otlp, feed):
    """Log records through OTLPLogExporter, as a program that logs with OpenTelemetry sends them
    (Claude Code's events name their session the same way)."""
    import logging

    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    provider = LoggerProvider(resource=Resource({"service.name": "svc"}))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"http://{otlp.address}/v1/logs"))
    )
    log = logging.getLogger("test_otlp_logs")
    log.propagate = False
    log.addHandler(LoggingHandler(logger_provider=provider))
    log.setLevel(logging.INFO)
    log.info("tool_result", extra={"session.id": "session-7", "tool_name": "Read"})
    log.error("api_error", extra={"session.id": "session-7", "error.type": "overloaded"})
    log.warning("no session here")
    provider.shutdown()
    wait_for(lambda: otlp.stats["log_records"] >= 3)
    otlp.stop()
    events = drain(feed, lambda evs: {"session-7", "svc"} <= _byes(evs))

    logs = [(e.data["level"], e.data["message"]) for e in _of(events, "session-7", "log")]
    assert logs == [("info", "tool_result"), ("error", "api_error")]
    assert _of(events, "session-7", "error")[0].data["type"] == "overloaded"
    assert [e.data["message"] for e in _of(events, "svc", "log")] == ["no session here"]


def test_a_node_services_log_records_land_on_the_session_they_name(otlp, feed, node_otel):
    _node(node_otel, "otlp_logs.mjs", f"http://{otlp.address}/v1/logs")
    wait_for(lambda: otlp.stats["log_records"] >= 1)
    otlp.stop()
    events = drain(feed, lambda evs: "node-session" in _byes(evs))
    (log,) = _of(events, "node-session", "log")
    assert log.data["level"] == "error" and log.data["message"] == "api_error"
    assert _of(events, "node-session", "error")[0].data["type"] == "overloaded"
