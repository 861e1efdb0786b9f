"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis).

:func:`fuzz` seeds a database, serves the app in-process (schemathesis's ASGI transport runs
its lifespan), creates a token per role and runs every phase of schemathesis (examples,
coverage, fuzzing, stateful) over every operation with every check, positive and negative
data, once per role. It returns what it saw: requests, 5xx answers, and every failed check.

The suite runs a bounded, deterministic budget (tests/service/test_api_fuzz.py). The long run
is ``bash scripts/fuzz.sh [--examples N] [--database sqlite|postgresql|URL] [--seed S]``
(this module as a script): it prints the counts and every distinct failure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi

ROLES = ("operator", "enterprise", "station")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
#: What a schema cannot say: an unknown region or a station of another token (a coded 422), a
#: body above HAZE_MAX_BODY_BYTES (413; 10,000 readings can exceed 1 MiB).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "413", "422"]


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # check name -> failed cases
    examples: dict[str, str] = field(default_factory=dict)  # "check: title" -> a reproduction
    errors: list[str] = field(default_factory=list)  # engine errors (not answers)

    @property
    def clean(self) -> bool:
        return self.server_errors == 0 and not self.failures and not self.errors

    def summary(self) -> str:
        lines = [
            f"requests: {self.requests}",
            f"5xx answers: {self.server_errors}",
            f"failed checks: {sum(self.failures.values())} {dict(self.failures)}",
        ]
        lines += [f"--- {key}\n{value}" for key, value in sorted(self.examples.items())]
        lines += [f"--- error: {e}" for e in sorted(set(self.errors))]
        return "\n".join(lines)


def _config(
    secret: str, *, max_examples: int, seed: int, phases: tuple[str, ...] = PHASES
) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "phases": {phase: {"enabled": phase in phases} for phase in PHASES},
            "headers": {"Authorization": f"Bearer {secret}"},
            "checks": {
                "enabled": True,  # max_response_time stays off: no wall clock
                "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
            },
            "operations": [
                {  # rows are judged one by one: a bad row is in the 202's "rejected"
                    "include-path": "/api/v1/readings",
                    "include-method": "POST",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                }
            ],
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
            },
            "workers": 1,
            "continue-on-failure": True,
        }
    )


def _collect(report: FuzzReport, event: events.EngineEvent) -> None:
    if isinstance(event, events.NonFatalError):
        # the ASGI transport raises what the app raised after its 500 answer
        report.server_errors += 1
        value = event.value
        report.errors.append(f"{event.label}: {type(value).__name__}: {value}".split("\n")[0])
        return
    if isinstance(event, events.FatalError):
        report.errors.append(f"fatal: {type(event.exception).__name__}: {event.exception}")
        return
    if not isinstance(event, events.ScenarioFinished):
        return
    recorder = event.recorder
    for interaction in recorder.interactions.values():
        report.requests += 1
        if interaction.response is not None and interaction.response.status_code >= 500:
            report.server_errors += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            report.failures[check.name] += 1
            failure = check.failure_info.failure
            key = f"{check.name}: {recorder.label}: {failure.title}"
            if key not in report.examples:
                case = recorder.cases[case_id].value
                report.examples[key] = f"{failure.message}\n{case.as_curl_command()}"


def run_schemathesis(
    app: object, secret: str, *, max_examples: int, seed: int, phases: tuple[str, ...] = PHASES
) -> FuzzReport:
    """``phases`` (default: every one) over every operation of ``app`` with ``secret``'s token."""
    config = _config(secret, max_examples=max_examples, seed=seed, phases=phases)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    report = FuzzReport()
    for event in from_schema(schema).execute():
        _collect(report, event)
    return report


async def _tokens(database_url: str) -> tuple[dict[str, str], object]:
    from api_client import STATION_IDS, api_settings

    from emission_list.samples import kundulun_list
    from service.bootstrap import prepare
    from service.commands.process import create_app
    from service.security import create_token
    from service.storage.engine import create_engine, make_session_maker

    settings = api_settings(database_url)
    prepared = await prepare(settings)
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            _, station = await create_token(session, "station", station_ids=STATION_IDS)
            _, enterprise = await create_token(
                session, "enterprise", enterprise_id=kundulun_list().entries[0].enterprise_id
            )
            await session.commit()
    finally:
        await engine.dispose()
    secrets = {"operator": prepared.operator_token or "", "station": station}
    secrets["enterprise"] = enterprise
    return secrets, create_app(settings)


def fuzz(
    database_url: str,
    *,
    max_examples: int,
    seed: int = 11,
    roles: Mapping[str, tuple[str, ...]] | tuple[str, ...] = ROLES,
) -> dict[str, FuzzReport]:
    """Seed ``database_url`` (a fresh, migrated or empty database), serve the app and fuzz it
    once per role (``roles``: names, or names and the phases to run as each); call with no
    event loop running (the app runs on schemathesis's own)."""
    plan = roles if isinstance(roles, Mapping) else dict.fromkeys(roles, PHASES)
    secrets, app = asyncio.run(_tokens(database_url))
    try:
        return {
            role: run_schemathesis(
                app, secrets[role], max_examples=max_examples, seed=seed, phases=phases
            )
            for role, phases in plan.items()
        }
    finally:
        asgi.shutdown_lifespans()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="max examples per operation")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    parser.add_argument("--role", action="append", choices=ROLES, help="default: every role")
    parser.add_argument("--phase", action="append", choices=PHASES, help="default: every one")
    args = parser.parse_args(argv)
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'haze.db'}"
        elif args.database == "postgresql":
            from tests.infra import pg_server

            server = pg_server.start()
            url = server.url
        else:
            url = args.database
        try:
            phases = tuple(args.phase or PHASES)
            plan = dict.fromkeys(args.role or ROLES, phases)
            reports = fuzz(url, max_examples=args.examples, seed=args.seed, roles=plan)
        finally:
            if server is not None:
                server.stop()
    for role, report in reports.items():
        print(f"=== as {role}\n{report.summary()}")
    return 0 if all(r.clean for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
