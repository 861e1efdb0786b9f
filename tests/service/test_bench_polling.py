"""``python -m bench.polling`` in a tiny configuration: one JSON object, every answer counted."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench import polling

MEASUREMENTS = ("client_ceiling", "bare", "poll_304", "poll_200", "poll_304_token_read")
FIGURES = {
    "requests",
    "seconds",
    "rps",
    "p50_ms",
    "p99_ms",
    "statuses",
    "unexpected",
    "errors",
    "server_cpu_us",
}


def test_the_benchmark_prints_one_json_object_with_every_answer_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = "--enterprises 10 --requests 300 --concurrency 4 --rounds 2 --token-read-requests 50"
    polling.main(options.split())
    result = json.loads(capsys.readouterr().out)

    assert result["benchmark"] == "polling"
    assert result["enterprises"] == 100  # the sample's 90 and 10 synthetic
    assert (result["requests_per_measurement"], result["rounds"]) == (300, 2)
    for name in MEASUREMENTS:
        assert set(result[name]) == FIGURES, name
        assert result[name]["unexpected"] == result[name]["errors"] == 0, name
        assert len(result["rps_all_rounds"][name]) == 2, name
    assert result["poll_304"]["statuses"] == {"304": 300}
    assert result["poll_200"]["statuses"] == {"200": 300}
    assert result["poll_304_token_read"]["statuses"] == {"304": 50}
    assert result["bare"]["statuses"] == result["client_ceiling"]["statuses"] == {"200": 300}
    first = result["poll_200_first_in_english"]
    assert set(first) == FIGURES and first["statuses"] == {"200": 100}  # each enterprise once
    assert result["all_answers_as_expected"] is True
    assert result["goals"] == {"ratio_304_to_bare_min": 0.9, "ratio_200_to_bare_min": 0.6}
    assert len(result["ratio_304_to_bare_by_round"]) == 2
    assert result["ratio_304_to_bare"] > 0 and result["ratio_200_to_bare"] > 0
    assert result["met_304"] == (result["ratio_304_to_bare"] >= 0.9)
    assert result["met_200"] == (result["ratio_200_to_bare"] >= 0.6)
    assert result["met"] == (result["met_304"] and result["met_200"])
    assert set(result["server_cpu_us"]) == {
        "bare",
        "poll_304",
        "poll_200",
        "poll_200_first_in_english",
    }
    assert {"cpus", "python", "loop", "http", "load_average_at_start"} <= set(result["machine"])


async def test_the_load_generator_counts_answers_that_are_not_what_was_expected() -> None:
    server = await asyncio.get_running_loop().create_server(
        polling._FixedAnswer, "127.0.0.1", 0
    )  # answers 200 with {"status":"ok"} to everything
    port = server.sockets[0].getsockname()[1]
    request = polling._request("/bare")
    probes = [
        polling.Probe(request, 200, b'"ok"'),  # as expected
        polling.Probe(request, 304, None),  # wrong status, and a body where none belongs
        polling.Probe(request, 200, b"91150203MA0000000X"),  # the body lacks the marker
    ] * 4
    async with server:
        result = await polling._load(port, probes, concurrency=2)

    assert result["requests"] == 12
    assert result["statuses"] == {"200": 12}
    assert result["unexpected"] == 8
    assert result["errors"] == 0
