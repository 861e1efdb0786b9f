"""The polling benchmark runs end to end in a tiny configuration and counts what it saw.

No timing is asserted (shared, noisy machines): only that every measurement ran its
requests and got the statuses it must (304 with a valid ETag, 200 with a body without)."""

from __future__ import annotations

from bench.polling import run


def test_the_polling_benchmark_measures_what_it_claims() -> None:
    result = run(enterprises=20, total=300, concurrency=4, rounds=1)
    assert result["enterprises"] == 110  # the sample's 90 and 20 more
    for name in ("bare", "poll_304", "poll_200", "poll_304_uncached_token"):
        assert result[name]["requests"] == 300 and result[name]["rps"] > 0
        assert result[name]["p99_ms"] >= result[name]["p50_ms"] > 0
    assert result["bare"]["statuses"] == {"200": 300}
    assert result["checks"] == {"all_304": True, "all_200_with_body": True}
    assert result["ratio_304_to_bare"] == round(
        result["poll_304"]["rps"] / result["bare"]["rps"], 3
    )
