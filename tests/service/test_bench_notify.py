"""``python -m bench.notify`` at a small N: one JSON object, every notice delivered once in
effect, the retries exactly those the receiver refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from bench import notify

N = 300
FAIL = 0.1


def _refused(message_id: str) -> bool:
    """The receiver's rule (tests.infra.receiver), written out again."""
    digest = hashlib.blake2b(message_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32 < FAIL


def test_the_benchmark_delivers_every_notice_once_and_reports_its_figures(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAZE_BENCH_DATABASE_URL", postgres_url)
    notify.main(["--enterprises", str(N), "--fail", str(FAIL), "--retry-base-s", "0.05"])
    result = json.loads(capsys.readouterr().out)

    assert (result["benchmark"], result["enterprises"]) == ("notify", N)
    assert result["notices"] == result["deliveries"] == result["delivered"] == N
    assert result["once_in_effect"] is True
    # A fresh database numbers the deliveries 1..N; the message id is msg_<delivery id>.
    refused = sum(_refused(f"msg_{i}") for i in range(1, N + 1))
    assert result["attempts"] == {"1": N - refused, "2": refused}
    assert result["attempts_total"] == result["receiver_requests"] == N + refused
    bare = result["bare"]
    assert bare["notices"] == N
    assert bare["requests"] == N + sum(_refused(f"bare_{i}") for i in range(1, N + 1))
    assert (result["retry_base_s"], result["retry_base_is_default"]) == (0.05, False)
    assert result["receiver"]["fail_first_attempt_fraction"] == FAIL
    figures = ("latency_first_s", "latency_p50_s", "latency_p99_s", "latency_max_s")
    values = [result[name] for name in figures]
    assert values == sorted(values) and values[0] > 0
    assert result["all_delivered_s"] <= result["recorded_s"]
    assert result["rate_per_s"] == pytest.approx(N / result["all_delivered_s"], rel=0.01)
    ratio = result["rate_per_s"] / bare["rate_per_s"]
    assert result["ratio_to_bare"] == pytest.approx(ratio, abs=0.002)
    met = result["met"]
    assert met["all_delivered_within_goal"] == (result["all_delivered_s"] <= 60.0)
    assert met["ratio_to_bare"] == (result["ratio_to_bare"] >= 0.5)
    assert {"cpus", "python", "platform", "at", "load_average_at_start"} <= set(result["machine"])
