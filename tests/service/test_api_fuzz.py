"""A bounded schemathesis run over every operation, with every check, as each role: no 5xx
and no answer the OpenAPI document contradicts (issue 11). Deterministic: a fixed seed,
derandomized generation, a fixed number of examples per operation, no example database and
no time limits. The long run: ``bash scripts/fuzz.sh`` (see README, "Fuzzing the API")."""

from __future__ import annotations

from fuzz_api import fuzz

#: Examples per operation of the fuzzing phase; the coverage phase (edge values: NUL,
#: boundaries, wrong types, missing parts) makes its own fixed set of cases.
BOUNDED_EXAMPLES = 5
#: Every phase as the operator, who reaches every operation (the routes every role can call
#: included); the other roles' runs are in the long run, their refusals in test_api_bad_input.
PLAN = {"operator": ("examples", "coverage", "fuzzing", "stateful")}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(database_url: str) -> None:
    reports = fuzz(database_url, max_examples=BOUNDED_EXAMPLES, seed=11, roles=PLAN)
    for role, report in reports.items():
        assert report.requests > 300, f"as {role}: too few requests\n{report.summary()}"
        assert report.clean, f"as {role}:\n{report.summary()}"
