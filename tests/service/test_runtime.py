"""The runtime: a failed change never leaves the board ahead of the database; forecasts that
cannot be handled are dead-lettered with their bytes; refresh re-reads the alerts in force."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from emission_list.i18n import text
from emission_list.levels import Level, Response
from emission_list.samples import kundulun_list
from service.bootstrap import prepare
from service.commands.process import build_runtime
from service.runtime import Runtime
from service.settings import Settings
from service.storage.repositories import alerts, audit

ENTERPRISE = kundulun_list().entries[0].enterprise_id


@pytest.fixture
async def runtime(database_url: str):
    settings = Settings(database_url=database_url)
    await prepare(settings)
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


class Boom(Exception):
    pass


async def test_a_change_that_fails_before_commit_leaves_board_and_database_as_they_were(
    runtime: Runtime,
) -> None:
    before = runtime.state.board.etag(ENTERPRISE)
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(Boom):
        async with runtime.board_change() as session:
            state = runtime.state
            outcome = await state.warnings.on_manual(
                session, "150203", Level.RED, Response.FULL, text("测试", "test"), state.board, now
            )
            assert ENTERPRISE in outcome.changed_enterprises  # the board moved ...
            raise Boom  # ... but the change never committed
    assert runtime.state.board.etag(ENTERPRISE) == before
    assert runtime.state.board.answer(ENTERPRISE).actions.level is Level.NONE
    async with runtime.session_maker() as session:
        assert "150203" not in await alerts.load_states(session)


async def test_a_committed_change_survives_a_rebuild(runtime: Runtime) -> None:
    now = dt.datetime.now(dt.UTC)
    async with runtime.board_change() as session:
        state = runtime.state
        await state.warnings.on_manual(
            session, "150200", Level.ORANGE, Response.FULL, text("测试", "test"), state.board, now
        )
    tag = runtime.state.board.etag(ENTERPRISE)
    await runtime.rebuild()  # as after a restart: everything from the database
    assert runtime.state.board.etag(ENTERPRISE) == tag
    assert runtime.state.board.answer(ENTERPRISE).actions.level is Level.ORANGE


async def test_undecodable_and_unknown_region_forecasts_go_to_the_dead_letters(
    runtime: Runtime,
) -> None:
    good = {
        "region": "150203",
        "issued_at": "2026-11-20T16:00:00+08:00",
        "daily": [{"date": "2026-11-20", "aqi": 120}],
    }
    unknown = json.dumps(good | {"region": "999999"}).encode()
    garbage = b"\xff not json"
    await runtime.bus.publish(
        runtime.settings.kafka_topic_forecasts,
        [(b"150203", garbage), (b"999999", unknown), (b"150203", json.dumps(good).encode())],
    )
    assert runtime.dead_lettered == 2
    assert runtime.outcomes.get("150203", dt.datetime.fromisoformat(good["issued_at"]))
    async with runtime.session_maker() as session:
        letters = [e for e in await audit.recent(session) if e.action == "dlq"]
    values = sorted(base64.b64decode(e.details["value"]) for e in letters)
    assert values == sorted([garbage, unknown])
    reasons = " ".join(e.details["reason"] for e in letters)
    assert "undecodable" in reasons and "999999" in reasons


async def test_refresh_brings_the_board_to_the_stored_alerts_in_force(runtime: Runtime) -> None:
    now = dt.datetime.now(dt.UTC)
    async with runtime.board_change() as session:
        state = runtime.state
        await state.warnings.on_manual(
            session, "150203", Level.YELLOW, Response.FULL, text("测试", "test"), state.board, now
        )
    assert runtime.state.board.answer(ENTERPRISE).actions.level is Level.YELLOW
    # The board drops the alert (as if its time had passed); refresh reads what is stored.
    async with runtime.session_maker() as session:
        states = await alerts.load_states(session)
    runtime.state.board.apply_alerts({}, now)
    assert runtime.state.board.answer(ENTERPRISE).actions.level is Level.NONE
    changed = await runtime.refresh()
    assert ENTERPRISE in changed and "150203" in states
    assert runtime.state.board.answer(ENTERPRISE).actions.level is Level.YELLOW


async def test_forecasts_that_would_raise_in_the_handler_are_dead_lettered_and_later_decided(
    runtime: Runtime,
) -> None:
    """Produced past the API's checks: a gap, a first day before the issue date, year 1, a
    tombstone. None raises; each is dead-lettered and the forecast after them is decided."""
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(dt.timezone(dt.timedelta(hours=8))).date()

    def body(days: list[dt.date], at: str | None = None) -> bytes:
        daily = [{"date": d.isoformat(), "aqi": 150} for d in days]
        return json.dumps(
            {"region": "150203", "issued_at": at or issued.isoformat(), "daily": daily}
        ).encode()

    day = dt.timedelta(days=1)
    poison = [
        body([today, today + 2 * day]),
        body([today - day, today]),
        body([dt.date(1, 1, 1)], "0001-01-01T00:00:00+08:00"),
        None,
    ]
    good = body([today, today + day])
    topic = runtime.settings.kafka_topic_forecasts
    await runtime.bus.publish(topic, [(b"150203", p) for p in poison] + [(b"150203", good)])
    assert runtime.dead_lettered == len(poison)
    assert runtime.outcomes.get("150203", issued) is not None
    async with runtime.session_maker() as session:
        letters = [e for e in await audit.recent(session) if e.action == "dlq"]
    reasons = sorted(e.details["reason"] for e in letters)
    assert reasons == [
        "invalid forecast: forecast.days_not_consecutive",
        "invalid forecast: forecast.issued_at.too_early",
        "invalid forecast: forecast.starts_before_issue",
        "tombstone: a record without a value",
    ]
