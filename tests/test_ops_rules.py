"""The Prometheus and Grafana files in docs/ops/, as a user loads them.

promtool checks the alerting rules, runs their unit tests (each alert firing and not firing) and
checks the example configuration. The dashboard and the rules must name only metrics the hub
serves (EXPOSED), and every dashboard query must be PromQL Prometheus accepts: they are written
as recording rules into a file of their own for `promtool check rules`. The dashboard must also
load in any Grafana: its own Prometheus data source variable on every panel, panels that do not
overlap.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from swarmscope.core.ops.metrics import EXPOSED

OPS = Path(__file__).resolve().parent.parent / "docs" / "ops"
RULES = OPS / "swarmscope-rules.yml"
RULE_TESTS = OPS / "swarmscope-rules.test.yml"
CONFIG = OPS / "prometheus.yml"
DASHBOARD = OPS / "grafana-dashboard.json"

HISTOGRAMS = frozenset({"swarmscope_task_duration_seconds"})
"""Of EXPOSED, the histograms: queried as NAME_bucket, NAME_sum and NAME_count."""

BUILT_IN = frozenset({"up"})
"""Series Prometheus writes itself for each scrape target."""

QUERYABLE = (
    (set(EXPOSED) - HISTOGRAMS)
    | {name + suffix for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    | BUILT_IN
)

ALERTS = {
    "SwarmscopeAgentFailed": "critical",
    "SwarmscopeAgentCritical": "warning",
    "SwarmscopeEventsLost": "warning",
    "SwarmscopeFramesRefused": "warning",
    "SwarmscopeRecorderLagging": "warning",
    "SwarmscopeHubDown": "critical",
}
"""Every alert of the rules file, with its severity."""

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
"""What each panel and query of the dashboard must query: the data source its user picks."""

GRAFANA_INTERVALS = frozenset({"__range", "__rate_interval", "__interval"})
"""Grafana's own variables that stand for a duration in a query."""

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian and Ubuntu: apt-get install prometheus; "
    ".ci/run installs it)",
)

# What a PromQL expression holds besides metric names, taken out before the names are read.
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{[^{}]*\}")
LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
RANGE = re.compile(r"\[[^\]]*\]")
TOKEN = re.compile(r"(?P<number>\d[\w.]*)|(?P<name>[a-zA-Z_:][\w:]*)(?P<call>\s*\()?")
KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"}
    | {"and", "or", "unless", "atan2", "inf", "nan"}
)
GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: not its functions, labels, strings, numbers,
    durations or keywords."""
    assert "__name__" not in expr, f"a metric chosen by __name__ cannot be checked: {expr}"
    text = STRING.sub('""', expr)
    text = MATCHERS.sub(" ", text)
    text = LABEL_LIST.sub(" ", text)
    text = RANGE.sub(" ", text)
    names = set()
    for token in TOKEN.finditer(text):
        name = token["name"]
        if name and not token["call"] and name.lower() not in KEYWORDS:
            names.add(name)
    return names


def test_metric_names_are_read_from_promql():
    expr = (
        'histogram_quantile(0.95, sum by (le, task) (rate(a_bucket{instance=~"$x", b="c d"}[5m])))'
        " / on (task) group_left (role) (b offset 5m) or time() - up"
        ' unless count without (agent) (c == bool 1e3) and d{__x="{y}"}'
    )
    assert metric_names(expr) == {"a_bucket", "b", "c", "up", "d"}


def promtool(*args: str | Path) -> str:
    """Run promtool in docs/ops/ (where the files' relative paths start); its output, or fail
    with it."""
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *map(str, args)], cwd=OPS, capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))} failed:\n{output}"
    return output


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules() -> list[dict]:
    (group,) = load_yaml(RULES)["groups"]
    assert group["name"] == "swarmscope"
    return group["rules"]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels(board: dict) -> list[dict]:
    """Every panel, rows' own included (a collapsed row holds its panels)."""
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def queries(board: dict) -> list[tuple[str, str]]:
    """(where, PromQL) of every query the dashboard sends: each panel target, and each query
    variable's `label_values(SELECTOR, label)` selector, Grafana's variables replaced by what
    Grafana sends in their place (a variable's "All" value, a duration for an interval)."""
    variables = {v["name"]: v for v in board["templating"]["list"]}

    def resolved(expr: str, where: str) -> str:
        def value(match: re.Match) -> str:
            name = match[1] or match[2]
            if name in GRAFANA_INTERVALS:
                return "5m"
            assert name in variables, f"{where}: ${name} is not one of the dashboard's variables"
            return variables[name].get("allValue") or ".*"

        return GRAFANA_VARIABLE.sub(value, expr)

    out = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            where = f"panel {panel['id']} ({panel['title']}) query {target['refId']}"
            out.append((where, resolved(target["expr"], where)))
    for variable in variables.values():
        if variable["type"] == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            selector = re.fullmatch(r"label_values\((.+),\s*\w+\)", query)
            assert selector, f"variable {variable['name']}: not label_values(SELECTOR, label)"
            where = f"variable {variable['name']}"
            out.append((where, resolved(selector[1], where)))
    return out


# ---------------------------------------------------------------- promtool


@needs_promtool
def test_promtool_checks_the_rules():
    assert "SUCCESS: 6 rules found" in promtool("check", "rules", RULES.name)


@needs_promtool
def test_promtool_runs_the_rules_unit_tests():
    assert "SUCCESS" in promtool("test", "rules", RULE_TESTS.name)


@needs_promtool
def test_promtool_checks_the_example_config_and_the_rules_it_loads():
    out = promtool("check", "config", CONFIG.name)
    assert "SUCCESS: 1 rule files found" in out
    assert f"Checking {RULES.name}" in out


@needs_promtool
def test_every_dashboard_query_is_promql_prometheus_accepts(tmp_path):
    """Each query as a recording rule, named for where it is, so that a failure says which."""
    found = queries(dashboard())
    recorded = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": "dashboard:" + re.sub(r"\W+", "_", where).strip("_"), "expr": e}
                    for where, e in found
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(json.dumps(recorded, indent=2), encoding="utf-8")  # JSON is YAML
    assert f"SUCCESS: {len(found)} rules found" in promtool("check", "rules", path)


# ---------------------------------------------------------------- the rules


def test_the_rules_are_the_documented_alerts_with_severity_and_annotations():
    found = {rule["alert"]: rule for rule in rules()}
    assert set(found) == set(ALERTS)
    for name, rule in found.items():
        assert rule["labels"]["severity"] == ALERTS[name], name
        for key in ("summary", "description"):
            assert "{{ $labels." in rule["annotations"][key], f"{name} {key} names no label"


def test_the_rules_name_only_exposed_metrics():
    for rule in rules():
        unknown = metric_names(rule["expr"]) - QUERYABLE
        assert not unknown, f"{rule['alert']} reads {sorted(unknown)}, which the hub does not serve"


def test_every_alert_is_tested_firing_and_not_firing():
    fires, silent = set(), set()
    for case in load_yaml(RULE_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    assert set(ALERTS) <= fires, f"never tested firing: {sorted(set(ALERTS) - fires)}"
    assert set(ALERTS) <= silent, f"never tested not firing: {sorted(set(ALERTS) - silent)}"


def test_the_example_config_scrapes_a_hub_as_the_job_the_rules_expect():
    config = load_yaml(CONFIG)
    assert config["rule_files"] == [RULES.name]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "swarmscope"
    assert job["static_configs"] == [{"targets": ["127.0.0.1:9464"]}]
    down = next(rule for rule in rules() if rule["alert"] == "SwarmscopeHubDown")
    assert 'job="swarmscope"' in down["expr"]


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_names_only_exposed_metrics_and_shows_each():
    seen = set()
    for where, expr in queries(dashboard()):
        names = metric_names(expr)
        assert names, f"{where} reads no metric: {expr}"
        unknown = names - QUERYABLE
        assert not unknown, f"{where} reads {sorted(unknown)}, which the hub does not serve"
        seen |= names
    shown = {name.removesuffix(s) for name in seen for s in ("_bucket", "_sum", "_count")}
    missing = set(EXPOSED) - shown
    assert not missing, f"no panel shows {sorted(missing)}"


def test_the_dashboard_queries_the_data_source_its_user_picks():
    board = dashboard()
    assert board["uid"] == "swarmscope"
    assert board["schemaVersion"] >= 36  # data sources referred to by {type, uid}
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]
    assert "__inputs" not in board, "an input asked at import: use the datasource variable"
    for panel in panels(board):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), f"{panel['title']}: refIds {refs}"
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, f"{panel['title']} {target['refId']}"


def test_the_dashboard_panels_have_ids_of_their_own_and_do_not_overlap():
    all_panels = panels(dashboard())
    ids = [panel["id"] for panel in all_panels]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {ids}"
    cells: dict[tuple[int, int], str] = {}
    for panel in all_panels:
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, f"{panel['title']} is wider than the grid"
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                other = cells.setdefault((x, y), panel["title"])
                assert other == panel["title"], f"{panel['title']} overlaps {other}"
