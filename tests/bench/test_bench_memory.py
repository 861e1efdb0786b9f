"""``python -m bench.memory`` in a small configuration: one JSON object whose figures agree
with each other (no memory asserted: the goals are the benchmark's to report)."""

from __future__ import annotations

import json

import pytest

from bench import memory


def test_the_benchmark_prints_consistent_figures(capsys: pytest.CaptureFixture[str]) -> None:
    memory.main(["--enterprises", "5000"])
    result = json.loads(capsys.readouterr().out)

    board = result["board"]
    assert board["enterprises"] == 5000
    assert board["bytes_per_enterprise"] == pytest.approx(board["rss_added_bytes"] / 5000, 0.01)
    assert board["floor_array_bytes_per_enterprise"] > 0
    assert board["met"] == (board["bytes_per_enterprise"] <= board["goal_bytes_per_enterprise"])
    serve = result["serve"]
    assert serve["rss_mb"] > serve["bare_python_rss_mb"] > 0
    assert serve["met"] == (serve["rss_mb"] <= serve["goal_mb"])
    assert result["met"] == (board["met"] and serve["met"])
