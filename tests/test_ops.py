"""Operations: the alert rules on a fake clock, the hooks against real commands and a real HTTP
server, and a real hub's watch process scraped over HTTP, alerting through both hooks, forgetting
agents after retention; the CLI's one-line refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from helpers import wait_for
from processes import CLI
from prometheus_client.parser import text_string_to_metric_families

from swarmscope.core.hub.hub import Hub
from swarmscope.core.model.health import Health
from swarmscope.core.ops.alerts import (
    GRACE_S,
    QUIET_S,
    RECOVER_S,
    AgentAlerts,
    ErrorRate,
    Level,
)
from swarmscope.core.ops.hooks import Hook, post_webhook, run_command
from swarmscope.core.ops.metrics import EXPOSED
from swarmscope.core.ops.watch import HubWatch
from swarmscope.core.ops.watcher import WatchSettings
from swarmscope.core.sdk.emitter import Emitter

S = 1_000_000_000
RULES = Path(__file__).resolve().parent.parent / "docs" / "ops" / "swarmscope-rules.yml"
H, C, F = Health.HEALTHY, Health.CRITICAL, Health.FAILED


def seen(health: Health, errors: int = 0, status: str = "running", agent: str = "a"):
    return [(agent, "coder", status, health, errors, "ValueError: bad" if errors else "")]


# -- the rules ----------------------------------------------------------------------------------


def test_an_agent_that_raises_then_fails_is_one_alert_carrying_its_error():
    rules = AgentAlerts()
    assert rules.update(seen(H), 0) == []
    assert rules.update(seen(H, errors=1), 1 * S // 10) == []  # the error waits its grace
    [alert] = rules.update(seen(F, errors=1, status="failed"), 3 * S // 10)
    assert (alert.level, alert.agent, alert.error, alert.was) == (
        Level.FAILED,
        "a",
        "ValueError: bad",
        H,
    )
    assert "FAILED (it reports status failed): ValueError: bad" in alert.text
    assert alert.to_json()["reason"] == "failed"
    assert rules.update(seen(F, errors=2, status="failed"), 10 * S) == []  # said: held back
    assert rules.suppressed == 1


def test_an_error_alone_is_said_after_its_grace():
    rules = AgentAlerts()
    rules.update(seen(H), 0)
    assert rules.update(seen(H, errors=1), S) == []
    [alert] = rules.update(seen(H, errors=1), S + int(GRACE_S * S))
    assert alert.level is Level.ERROR and alert.reason == "error"


def test_a_flapping_agent_says_so_once_then_how_many_were_held_back():
    rules = AgentAlerts()
    t = 0
    said = []
    for health in (H, C, H, C, H, C, H):
        said += rules.update(seen(health), t)
        t += S
    assert [a.level for a in said] == [Level.CRITICAL]
    assert rules.suppressed == 2
    # well for RECOVER_S: the next rise is said, with what was held back
    t += int(RECOVER_S * S)
    rules.update(seen(H), t)
    [again] = rules.update(seen(C), t + S)
    assert again.suppressed == 2 and "[2 more held back]" in again.text


def test_agents_passed_only_when_they_change_still_have_their_timers_run_out():
    """The screen passes only changed agents: an error's grace and a recovery run on with nothing
    passed, and an agent passed once and quiet since costs no judging."""
    rules = AgentAlerts()
    rules.update(seen(H, agent="quiet") + seen(H), 0)
    assert rules.update(seen(H, errors=1), S) == []
    [alert] = rules.update([], S + int(GRACE_S * S))
    assert (alert.agent, alert.level) == ("a", Level.ERROR)
    assert [a.level for a in rules.update(seen(C, errors=1), 2 * S)] == [Level.CRITICAL]
    rules.update(seen(H, errors=1), 3 * S)
    well = 3 * S + int(QUIET_S * S)  # its error's quiet is over
    assert rules.update([], well) == rules.update([], well + int(RECOVER_S * S)) == []
    assert rules._ticking == {}  # well again and said so: nothing left to time
    [again] = rules.update(seen(C, errors=1), well + int(RECOVER_S * S) + S)
    assert again.level is Level.CRITICAL  # what was said no longer stands


def test_a_worse_condition_is_always_said():
    rules = AgentAlerts()
    rules.update(seen(H), 0)
    assert [a.level for a in rules.update(seen(C), S)] == [Level.CRITICAL]
    assert [a.level for a in rules.update(seen(F), 2 * S)] == [Level.FAILED]


def test_a_view_that_joined_late_does_not_alert_on_what_it_found():
    rules = AgentAlerts(quiet_first=True)
    assert rules.update(seen(F, errors=3, status="failed"), 0) == []
    hub_rules = AgentAlerts()
    assert [a.level for a in hub_rules.update(seen(F, status="failed"), 0)] == [Level.FAILED]


def test_the_error_rate_is_said_when_it_crosses_and_again_only_after_it_stayed_under():
    rate = ErrorRate(threshold=1.0, window_s=10)
    assert rate.update(0, 0) is None
    alert = rate.update(50, 5 * S)
    assert alert is not None and alert.reason == "error_rate" and alert.rate == 10.0
    assert rate.update(100, 6 * S) is None  # still over: said already
    assert alert.to_json()["agent"] is None


# -- the hooks ----------------------------------------------------------------------------------


def test_a_command_that_fails_or_hangs_is_counted_and_never_waited_for(tmp_path: Path):
    counts: Counter = Counter()
    failing = Hook("command", run_command("exit 3"), counts)
    hanging = Hook("command", run_command(f"sleep 30; touch {tmp_path}/late", timeout=0.3), counts)
    for hook in (failing, hanging):
        hook.send({"text": "x"})
        hook.close(10)
    assert counts == Counter({"command.failed": 2})
    assert failing.last_failure == "exit status 3"
    assert hanging.last_failure == "timed out after 0.3 s"
    assert not (tmp_path / "late").exists()  # its whole group was killed


def test_a_webhook_that_is_down_is_counted():
    counts: Counter = Counter()
    hook = Hook("webhook", post_webhook(f"http://127.0.0.1:{_free_port()}/hook", timeout=2), counts)
    hook.send({"text": "x"})
    hook.close(10)
    assert counts == Counter({"webhook.failed": 1})
    assert hook.last_failure.startswith("URLError")


class _Posts(HTTPServer):
    """A webhook's far end: keeps every body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                n = int(handler.headers["Content-Length"])
                self.bodies.append(json.loads(handler.rfile.read(n)))
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a real hub and its watch -------------------------------------------------------------------


@pytest.fixture(scope="module")
def webhook() -> Iterator[_Posts]:
    server = _Posts()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory, webhook: _Posts) -> Iterator[tuple]:
    """A hub with its watch: metrics on a free port, both hooks, retention of 1 s."""
    tmp = tmp_path_factory.mktemp("watched")
    alerts = tmp / "alerts.jsonl"
    settings = WatchSettings(
        metrics="127.0.0.1:0",
        retention_s=1.0,
        on_alert=f"cat >> {alerts}; echo >> {alerts}",
        webhook=webhook.url,
        hub="test",
        say=False,
    )
    with Hub(f"ipc://{tmp}/in", f"ipc://{tmp}/out") as hub:
        watch = HubWatch(hub, settings).start()
        yield hub, watch, alerts
        watch.stop()


def scrape(watch: HubWatch) -> dict[tuple[str, tuple], float]:
    """Every sample /metrics serves, by name and sorted labels."""
    with urllib.request.urlopen(f"http://{watch.address}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_the_metrics_say_each_agents_status_and_health_as_state_sets(watched):
    hub, watch, _ = watched
    em = Emitter("steady", hub.in_endpoint, role="coder", heartbeat=0.5)
    em.status("running")
    em.progress(0.25, task="t1", message="a quarter")
    em.emit("task_start", task="t1", name="parse")
    em.progress(0.5, task="t1")
    wait_for(
        lambda: (
            value(scrape(watch), "swarmscope_agent_progress", agent="steady", task="parse") == 0.5
        )
    )
    samples = scrape(watch)
    statuses = {
        dict(labels)["status"]: v
        for (name, labels), v in samples.items()
        if name == "swarmscope_agent_status" and dict(labels)["agent"] == "steady"
    }
    assert statuses == {
        "idle": 0,
        "starting": 0,
        "running": 1,
        "waiting": 0,
        "blocked": 0,
        "done": 0,
        "failed": 0,
    }
    assert (
        value(samples, "swarmscope_agent_health", agent="steady", role="coder", health="healthy")
        == 1
    )
    assert (
        value(samples, "swarmscope_agent_health", agent="steady", role="coder", health="failed")
        == 0
    )
    em.emit("task_end", task="t1", result="ok")
    wait_for(
        lambda: (
            value(
                scrape(watch), "swarmscope_task_duration_seconds_count", task="parse", result="ok"
            )
            == 1
        )
    )
    samples = scrape(watch)
    assert value(samples, "swarmscope_events_total", kind="task_end") >= 1
    assert value(samples, "swarmscope_events_lost_total", where="before_hub") == 0
    assert {name for name, _ in samples} <= {
        f"{n}{suffix}" for n in EXPOSED for suffix in ("", "_bucket", "_sum", "_count", "_created")
    }
    em.close()


def test_an_agent_that_fails_runs_the_command_once_and_posts_once(watched, webhook):
    hub, watch, alerts = watched
    em = Emitter("doomed", hub.in_endpoint, role="researcher", heartbeat=60)
    em.status("running")
    try:
        raise ConnectionError("tool server refused the connection")
    except ConnectionError as exc:
        em.error(exc)
    em.status("failed")

    def said() -> list[dict]:
        lines = alerts.read_text().splitlines() if alerts.exists() else []
        return [a for a in map(json.loads, filter(None, lines)) if a["agent"] == "doomed"]

    wait_for(lambda: said() and [b for b in webhook.bodies if b["agent"] == "doomed"])
    # another error from a failed agent is held back: once the watch counts it, it has judged
    # the agent since, and said nothing more
    try:
        raise ConnectionError("again")
    except ConnectionError as exc:
        em.error(exc)
    wait_for(lambda: value(scrape(watch), "swarmscope_alerts_suppressed_total") >= 1)
    [alert] = said()
    [posted] = [b for b in webhook.bodies if b["agent"] == "doomed"]
    assert alert == posted
    assert alert["reason"] == "failed" and alert["hub"] == "test"
    assert alert["error"] == "ConnectionError: tool server refused the connection"
    assert alert["text"].startswith("swarmscope: doomed (researcher) FAILED")
    samples = scrape(watch)
    assert value(samples, "swarmscope_alert_deliveries_total", via="command") >= 1
    assert value(samples, "swarmscope_alert_deliveries_failed_total", via="webhook") == 0
    em.close()


def test_an_agent_that_said_bye_leaves_the_metrics_after_retention(watched):
    hub, watch, _ = watched
    with Emitter("brief", hub.in_endpoint, heartbeat=60) as em:
        em.status("done")
    wait_for(
        lambda: value(scrape(watch), "swarmscope_agent_errors_total", agent="brief") is not None
    )
    wait_for(lambda: value(scrape(watch), "swarmscope_agent_errors_total", agent="brief") is None)


def test_health_and_readiness_answer_for_orchestrators(watched):
    _, watch, _ = watched
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(f"http://{watch.address}{path}", timeout=10) as answer:
            assert answer.status == 200 and answer.read() == b"ok\n"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{watch.address}/nothing", timeout=10)
    assert refused.value.code == 404


def test_hostile_requests_cost_their_connection_only(watched):
    _, watch, _ = watched
    host, port = watch.address.rsplit(":", 1)
    hostile = [
        b"\x00\xff garbage\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
        b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    ]
    for request in hostile:
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(request)
            conn.shutdown(socket.SHUT_WR)
            answer = b"".join(iter(lambda c=conn: c.recv(4096), b""))
            assert any(code in answer for code in (b"400", b"414", b"431", b"501"))  # refused
    with urllib.request.urlopen(f"http://{watch.address}/healthz", timeout=10) as answer:
        assert answer.status == 200


# -- the CLI ------------------------------------------------------------------------------------


def _hub(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "hub", "--in", f"ipc://{tmp_path}/in"] + ["--out", f"ipc://{tmp_path}/out", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_metrics_port_in_use_is_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = _hub(tmp_path, "--metrics", f"127.0.0.1:{taken.getsockname()[1]}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot serve metrics on 127.0.0.1:" in done.stderr
    assert "choose another with --metrics" in done.stderr.splitlines()[-1]


def test_a_webhook_that_is_no_url_is_one_line(tmp_path: Path):
    done = _hub(tmp_path, "--alert-webhook", "hooks.example.com/x")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        "an http:// or https:// URL, e.g. https://hooks.slack.com/..."
    )


def test_metrics_other_hosts_can_reach_are_warned_of(tmp_path: Path):
    proc = subprocess.Popen(
        [*CLI, "hub", "--in", f"ipc://{tmp_path}/in"]
        + ["--out", f"ipc://{tmp_path}/out", "--metrics", f"0.0.0.0:{_free_port()}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stderr.readline()
        assert "warning: metrics on 0.0.0.0:" in first and "reachable from other hosts" in first
    finally:
        proc.terminate()
        proc.wait(30)


# -- a real Prometheus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(watched, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's Prometheus server on loopback, scraping the hub's watch every second with the
    alerting rules of docs/ops/ loaded; its HTTP API's address."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus server on this machine (Debian: apt install prometheus)")
    _, watch, _ = watched
    tmp = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "swarmscope", "static_configs": [{"targets": [watch.address]}]}
        ],
    }
    (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    address = f"127.0.0.1:{_free_port()}"
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}"]
        + [f"--web.listen-address={address}", "--log.level=warn"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _get(f"http://{address}/-/ready") is not None, timeout=30)
        yield f"http://{address}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body = answer.read()
    except OSError:
        return None
    return json.loads(body) if body.startswith(b"{") else {}


def _query(prometheus: str, promql: str) -> list[dict]:
    answer = _get(f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
    return answer["data"]["result"] if answer else []


def test_a_real_prometheus_scrapes_the_hub_and_answers_for_an_agents_status(watched, prometheus):
    hub, _, _ = watched
    em = Emitter("scraped", hub.in_endpoint, role="writer", heartbeat=0.5)
    em.status("running")
    query = 'swarmscope_agent_status{job="swarmscope", agent="scraped", status="running"}'
    wait_for(lambda: [r["value"][1] for r in _query(prometheus, query)] == ["1"], timeout=30)
    [row] = _query(prometheus, 'sum by (status) (swarmscope_agent_status{agent="scraped"}) == 1')
    assert row["metric"] == {"status": "running"}
    em.status("failed")  # the rules of docs/ops/ fire in the real server

    def firing() -> list[dict]:
        alerts = (_get(f"{prometheus}/api/v1/alerts") or {}).get("data", {}).get("alerts", [])
        return [a for a in alerts if a["labels"].get("agent") == "scraped"]

    wait_for(lambda: [a["state"] for a in firing()] == ["firing"], timeout=30)
    [alert] = firing()
    assert alert["labels"]["alertname"] == "SwarmscopeAgentFailed"
    em.close()
