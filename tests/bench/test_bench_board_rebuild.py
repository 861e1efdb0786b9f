"""``python -m bench.board_rebuild`` in a small configuration: one JSON object whose figures
agree with each other (no timing asserted: the goal is the benchmark's to report)."""

from __future__ import annotations

import json

import pytest

from bench import board_rebuild


def test_the_benchmark_prints_consistent_figures(capsys: pytest.CaptureFixture[str]) -> None:
    board_rebuild.main(["--enterprises", "3000"])
    result = json.loads(capsys.readouterr().out)

    assert result["enterprises"] == 3000
    for phase in ("idle", "off_loop", "on_loop"):
        figures = result[phase]
        assert figures["build_s"] > 0
        if figures["polls"]:
            assert 0 < figures["p50_poll_s"] <= figures["slowest_poll_s"]
    assert result["idle"]["polls"] > 0  # the poller was answered
    slowest = result["off_loop"]["slowest_poll_s"]
    assert result["met"] == (slowest < result["goal_slowest_poll_s"])
