"""``python -m bench.fanout`` run tiny on the test session's PostgreSQL and broker: it prints
one JSON object and every run saw the forecast reach the API and every enterprise (no timing
assertions: the figures depend on the machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTERPRISES = 500
RUNS = 3


def test_fanout_benchmark_prints_its_figures_and_observes_every_run(
    postgres_url: str, kafka_bootstrap: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZE_")}
    env |= {"HAZE_BENCH_DATABASE_URL": postgres_url, "HAZE_BENCH_KAFKA_BOOTSTRAP": kafka_bootstrap}
    command = [sys.executable, "-m", "bench.fanout", "--enterprises", str(ENTERPRISES)]
    done = subprocess.run(
        [*command, "--runs", str(RUNS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)

    for key in ("p50_s", "p99_s", "max_s", "goal_p99_s", "goal_met", "dominant", "profile"):
        assert key in result
    assert result["enterprises"] == ENTERPRISES
    assert result["runs"] == RUNS and len(result["latencies_s"]) == RUNS
    assert result["goal_p99_s"] == 1.0
    assert result["all_runs_observed"] is True
    assert result["p50_s"] <= result["p99_s"] <= result["max_s"]
    for run in result["per_run"]:
        assert run["observed"] and run["reset_observed"]
        assert run["actions_enterprises"] == ENTERPRISES
        assert run["alert_event"] == "issue"
        assert run["lift_enterprises_changed"] == ENTERPRISES
        assert run["level"] in ("yellow", "orange", "red")
        assert run["latency_s"] > 0
    assert result["profile"]["enterprises_changed"] == ENTERPRISES
    assert result["profile"]["records_sample_equal"] is True  # templates = per-object bytes
    assert result["actions_last_after_alert_max_s"] == round(
        max(r["actions_last_s"] - r["alert_published_s"] for r in result["per_run"]), 4
    )
    assert result["met"] == (result["goal_met"] and result["actions_goal_met"])
