"""``python -m bench.compliance`` in a tiny configuration: one JSON object whose figures agree
with each other and with the district it simulated (no timing asserts)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import compliance


def test_the_benchmark_prints_one_json_object_with_consistent_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    compliance.main(
        ["--enterprises", "2000", "--minutes", "130", "--normal-load-lines", "50",
         "--latency-minutes", "0"]
    )  # fmt: skip
    result = json.loads(capsys.readouterr().out)

    assert result["benchmark"] == "compliance"
    assert (result["enterprises"], result["minutes"]) == (2000, 130)  # past M = 60 and 120
    assert result["lines"] == 4 * 2000 and result["control_pairs"] == 2 * 2000
    assert result["loggers"] == 2000 and result["cems_channels"] % 3 == 0
    assert 0.8 * 2000 < result["under_warning"] < 2000
    minute = result["per_minute_ms"]
    assert 0 < minute["median"] <= minute["p99"] <= minute["max"]
    assert result["ns_per_line"] == pytest.approx(minute["median"] * 1e6 / result["lines"])
    assert result["floor_ms"] > 0 and result["floor_bytes"] > 4 * 8 * result["lines"]
    assert result["ratio_to_floor"] == pytest.approx(minute["median"] / result["floor_ms"])
    # the district's cheats are caught: 2 % producing (2 lines each), 1 % stopped control
    alarms = result["alarms"]
    assert alarms["suspected"] > 0 and alarms["confirmed"] > 0
    assert alarms["control_stopped"] > 0 and alarms["logger_silent"] > 0
    assert alarms["suspected"] >= alarms["confirmed"]
    assert result["normal_load"]["lines_timed"] == 50 and result["normal_load"]["days"] == 28
    goals = result["goals"]
    assert goals["per_minute_met"] == (minute["median"] <= goals["per_minute_ms_max"])
    assert goals["ratio_to_floor_met"] == (result["ratio_to_floor"] <= goals["ratio_to_floor_max"])
    assert result["met"] == (goals["per_minute_met"] and goals["ratio_to_floor_met"])
    assert "latency" not in result  # --latency-minutes 0


def test_the_floor_copies_the_arrays_a_minute_touches_once_each() -> None:
    rng = np.random.default_rng(1)
    layout = compliance.synthetic_layout(50, rng)
    district = compliance.District(layout, rng)
    check = compliance.ComplianceCheck(layout, compliance.default_compliance_rules())
    data = district.minute(0)
    check.evaluate(data)
    arrays = compliance._touched_arrays(check, data)
    assert len({id(a) for a in arrays}) == len(arrays)
    for needed in (data.power_kw, data.normal_kw, check.state.load_run, check._w.allowed):
        assert any(a is needed for a in arrays)
    assert not any(a is check.state.warning_start for a in arrays)  # only when a cut changes


def test_the_latency_part_measures_each_alarm_from_its_minute(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import compliance_latency

    monkeypatch.setenv(
        "HAZE_BENCH_DATABASE_URL", postgres_url
    )  # the run's server, a database of its own

    result = compliance_latency.run(20)
    assert result["minutes"] == 20 and result["packets"] > 20 * 100
    # the night producer: suspected once its lines were over for K = 15 minutes (ferroalloy),
    # counted from the first minute its noise puts it over
    assert {(each["kind"], each["grade"]) for each in result["each"]} == {
        ("production_over", "suspected")
    }
    assert all(14 <= each["minute"] < 20 for each in result["each"])
    assert result["latencies"] == len(result["each"]) >= 1
    latency = result["latency_s"]
    assert 0 < latency["median"] <= latency["p99"] <= latency["max"]
    assert result["met"] == (latency["p99"] < result["goal_p99_s"])
