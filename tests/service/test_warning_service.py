"""Forecasts and manual warnings through the lifecycle, stored, and on the action board."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import default_catalog
from emission_list.levels import Level, Response
from emission_list.samples import (
    kundulun_episode,
    kundulun_list,
    kundulun_region_tree,
    kundulun_regions,
)
from emission_list.warning_rules import RuleBook
from emission_list.warnings import national_rules
from service.services.board import ActionBoard
from service.services.warnings import WarningService
from service.storage.repositories import alerts, regions


def service() -> tuple[WarningService, ActionBoard]:
    tree = kundulun_region_tree()
    board = ActionBoard(kundulun_list(), tree, default_catalog())
    return WarningService(RuleBook(national_rules(), {}), tree), board


async def test_the_sample_forecasts_drive_the_board_and_redelivery_changes_nothing(
    session: AsyncSession,
) -> None:
    await regions.put_many(session, kundulun_regions())
    warnings, board = service()
    ids = [e.enterprise_id for e in kundulun_list().entries]
    levels = []
    for forecast in kundulun_episode().forecasts:
        before = {i: board.etag(i) for i in ids}
        outcome = await warnings.on_forecast(session, forecast, board, forecast.issued_at)
        # Reported as changed exactly when the answer (its ETag) changed.
        assert sorted(outcome.changed_enterprises) == sorted(
            i for i in ids if board.etag(i) != before[i]
        )
        again = await warnings.on_forecast(session, forecast, board, forecast.issued_at)
        assert again.duplicate and again.events == [] and again.changed_enterprises == []
        levels.append(board.answer(ids[0]).actions.level)
    await session.commit()
    assert Level.ORANGE in levels and Level.YELLOW in levels and levels[-1] is Level.NONE
    stored = await alerts.history(session, region="150203")
    assert {"issue", "upgrade", "downgrade", "lift"} <= {e.kind for e in stored}


async def test_a_scheduled_warning_reaches_the_board_when_it_starts(session: AsyncSession) -> None:
    await regions.put_many(session, kundulun_regions())
    warnings, board = service()
    episode = kundulun_episode()
    # The first issuing forecast: a yellow for 2026-12-04, 32 hours ahead.
    first = next(
        f for f, e in zip(episode.forecasts, episode.expected, strict=True) if e.event == "issue"
    )
    outcome = await warnings.on_forecast(session, first, board, first.issued_at)
    assert outcome.state.current.starts_at > first.issued_at
    some = kundulun_list().entries[0].enterprise_id
    assert board.answer(some).actions.level is Level.NONE
    starts = outcome.state.current.starts_at
    assert await warnings.refresh(session, board, starts - dt.timedelta(seconds=1)) == []
    changed = await warnings.refresh(session, board, starts)
    assert some in changed and board.answer(some).actions.level is Level.YELLOW


async def test_a_manual_city_warning_reaches_the_district_and_is_lifted_by_hand(
    session: AsyncSession,
) -> None:
    await regions.put_many(session, kundulun_regions())
    warnings, board = service()
    now = dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC)
    reason = {"zh-CN": "市级预警", "en": "city warning"}
    outcome = await warnings.on_manual(
        session, "150200", Level.RED, Response.FULL, reason, board, now, source="joint"
    )
    assert len(outcome.changed_enterprises) == len(kundulun_list().entries)
    answer = board.answer(kundulun_list().entries[0].enterprise_id)
    assert answer.actions.level is Level.RED and answer.alert.source == "joint"
    lifted = await warnings.on_manual(
        session, "150200", Level.NONE, None, reason, board, now + dt.timedelta(hours=1)
    )
    assert [e.kind for e in lifted.events] == ["lift"]
    assert board.answer(kundulun_list().entries[0].enterprise_id).actions.level is Level.NONE
