"""``python -m bench.ingest`` at a small size: one JSON object whose figures agree with each
other and with what was stored (no timing asserts)."""

from __future__ import annotations

import json

import pytest

from bench import ingest


def test_the_benchmark_prints_one_json_object_with_consistent_figures(
    capsys: pytest.CaptureFixture[str], own_postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a server of its own: the bench's would share (and remove) the session's directory
    monkeypatch.setenv("HAZE_BENCH_DATABASE_URL", own_postgres.url)
    ingest.main(["--readings", "1100", "--batch", "200"])
    result = json.loads(capsys.readouterr().out)

    assert result["benchmark"] == "ingest" and result["readings"] == 1100
    assert result["stored"] == 1100 and result["correct"] and result["results_match_inline"]
    rows = result["rows"]
    # every reading: its row and its hourly AQI; its station's 24-hour result; region results
    assert rows["readings"] == 1100 and rows["aqi_results"] == 2 * 1100
    assert rows["region_aqi"] > 0 and rows["window_marks"] == result["refresh"]["marks"] > 0
    assert result["rows_per_reading"] == pytest.approx(sum(rows.values()) / 1100, abs=0.01)
    times = result["breakdown_s"]
    assert 0 < times["handler"] <= times["total"] and times["floor_copy"] > 0
    assert result["readings_per_s"] == pytest.approx(1100 / times["total"], rel=0.01)
    assert result["floor_per_s"] == pytest.approx(1100 / times["floor_copy"], rel=0.01)
    assert result["ratio_to_floor"] == pytest.approx(
        result["readings_per_s"] / result["floor_per_s"], abs=0.002
    )
    assert result["stored_per_s"] >= result["readings_per_s"]
    goals = result["goals"]
    assert goals["readings_per_s_met"] == (result["readings_per_s"] >= goals["readings_per_s_min"])
    assert goals["ratio_to_floor_met"] == (result["ratio_to_floor"] >= goals["ratio_to_floor_min"])
    assert result["met"] == (
        goals["readings_per_s_met"] and goals["ratio_to_floor_met"] and result["correct"]
    )
    assert len(result["load_average"]) == 3
