"""A benchmark line says whether its figure met its target, and `bench --check` fails on a miss."""

import argparse

import pytest

import swarmscope.bench as bench
from swarmscope.bench import report
from swarmscope.bench.report import at_least, at_most, figure
from swarmscope.tui.cli import bench as bench_cli


@pytest.fixture(autouse=True)
def no_misses(monkeypatch):
    monkeypatch.setattr(report, "MISSED", [])
    monkeypatch.setattr(bench_cli, "MISSED", report.MISSED)


def lines_of(*args) -> list[str]:
    out: list[str] = []
    figure(out.append, *args)
    return out


@pytest.mark.parametrize(
    "value, floor, target, says",
    [
        (2.0, 1.0, at_most(2.5, "x"), "target <= 2.5x: met"),
        (3.0, 1.0, at_most(2.5, "x"), "target <= 2.5x: NOT met"),
        (1.2, None, at_most(1.5, "x"), "target <= 1.5x: met"),  # a ratio already
        (250, 10, at_most(300, "ms"), "target <= 300 ms: met"),  # the value, not its ratio
        (0.9, 1.0, at_least(1.0, "x", "must beat the hub"), "must beat the hub: NOT met"),
    ],
)
def test_a_line_says_met_or_not_met(value, floor, target, says):
    [line] = lines_of("figure", value, "u", floor, target)
    assert line.rstrip().endswith(says)
    assert report.MISSED == ([] if says.endswith(": met") else ["figure"])


def test_a_note_in_the_target_place_is_printed_as_it_is():
    [line] = lines_of("figure", 2.0, "ev/s", 1.0, "0.50 s after the last was on disk")
    assert line.rstrip().endswith("0.50 s after the last was on disk") and report.MISSED == []


def test_a_miss_is_kept_when_only_json_is_printed():
    figure(None, "quiet", 3.0, "x", 1.0, at_most(2.5, "x"))
    assert report.MISSED == ["quiet"]


@pytest.mark.parametrize("check, status", [(False, 0), (True, 1)])
def test_check_exits_1_when_a_target_is_missed(monkeypatch, capsys, check, status):
    def section(name, quick, report):
        figure(report, "slow", 3.0, "x", 1.0, at_most(2.5, "x"))
        return {}

    monkeypatch.setattr(bench, "run_section", section)
    args = argparse.Namespace(only=["emit"], quick=True, json=False, check=check)
    assert bench_cli.run(args) == status
    assert "NOT met" in capsys.readouterr().out
