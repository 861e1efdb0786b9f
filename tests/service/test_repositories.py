"""Repositories on SQLite and PostgreSQL: idempotent upserts, the list's revisions, audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import service.storage.repositories as shared
from emission_list.catalog import Action
from emission_list.entries import Enterprise, MeasureOverride
from emission_list.revisions import Revision, RevisionError
from emission_list.samples import (
    Region,
    Station,
    kundulun_list,
    kundulun_region_tree,
    kundulun_regions,
    kundulun_stations,
)
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.models import AqiResult, Reading
from service.storage.repositories import audit, lists, readings, regions, stations

UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 12, 5, 6, tzinfo=UTC)
NOW1 = dt.datetime(2026, 12, 5, 9, 3, tzinfo=UTC)
NOW2 = dt.datetime(2026, 12, 5, 11, 41, tzinfo=UTC)
STATION = "1502A01"


async def _seed(session: AsyncSession) -> None:
    await regions.put_many(session, kundulun_regions())
    await stations.put_many(session, kundulun_stations())


def _reading(hour: int, pm25: float | None, **more: object) -> dict[str, object]:
    return {
        "station_id": STATION,
        "observed_at": T0 + dt.timedelta(hours=hour),
        "pm25": pm25,
        **more,
    }


async def _stored(session: AsyncSession) -> list[tuple]:
    rows = await session.execute(
        select(
            Reading.observed_at, Reading.pm25, Reading.co, Reading.flags, Reading.updated_at
        ).order_by(Reading.observed_at)
    )
    return [tuple(r) for r in rows]


# --- readings ---------------------------------------------------------------------------


async def test_readings_upsert_inserts_replays_and_corrects(session: AsyncSession) -> None:
    await _seed(session)
    first = [_reading(0, 120.0, co=1.4), _reading(1, 131.0), _reading(2, None, flags=["x"])]
    counts = await readings.upsert_many(session, first, now=NOW1)
    assert counts == shared.UpsertCounts(inserted=3)
    stored = await _stored(session)
    assert stored == [
        (T0, 120.0, 1.4, [], None),
        (T0 + dt.timedelta(hours=1), 131.0, None, [], None),
        (T0 + dt.timedelta(hours=2), None, None, ["x"], None),
    ]

    # The same rows again, one stamped in +08:00: nothing changes, not even updated_at.
    replay = [*first[:2], {**first[2], "observed_at": first[2]["observed_at"].astimezone(CST)}]
    assert await readings.upsert_many(session, replay, now=NOW2) == shared.UpsertCounts(unchanged=3)
    assert await _stored(session) == stored

    # A late correction of one hour replaces its values and stamps updated_at only there.
    loaded = await readings.get(session, STATION, T0 + dt.timedelta(hours=1))
    counts = await readings.upsert_many(session, [_reading(1, 135.0), first[0]], now=NOW2)
    assert counts == shared.UpsertCounts(updated=1, unchanged=1)
    after = await _stored(session)
    assert after[1] == (T0 + dt.timedelta(hours=1), 135.0, None, [], NOW2)
    assert after[0] == stored[0] and after[2] == stored[2]
    row = await readings.get(session, STATION, T0 + dt.timedelta(hours=1))
    assert row is loaded and row.pm25 == 135.0  # a row loaded before is read again
    assert row.received_at == NOW1 and row.updated_at == NOW2
    assert row.observed_at.tzinfo is not None and row.observed_at.utcoffset() == dt.timedelta(0)


async def test_readings_a_changed_flag_or_a_new_value_is_a_change(session: AsyncSession) -> None:
    await _seed(session)
    await readings.upsert_many(session, [_reading(0, 50.0)], now=NOW1)
    counts = await readings.upsert_many(session, [_reading(0, 50.0, flags=["pm25_gt_pm10"])])
    assert counts.updated == 1
    counts = await readings.upsert_many(session, [_reading(0, 50.0, flags=["pm25_gt_pm10"], so2=9)])
    assert counts.updated == 1
    row = await readings.get(session, STATION, T0)
    assert (row.pm25, row.so2, row.flags) == (50.0, 9.0, ["pm25_gt_pm10"])


async def test_readings_nan_is_missing_and_the_last_copy_wins(session: AsyncSession) -> None:
    await _seed(session)
    rows = [_reading(0, 10.0), _reading(0, math.nan, o3=61.0), _reading(3, 12.0)]
    counts = await readings.upsert_many(session, rows, now=NOW1)
    assert counts == shared.UpsertCounts(inserted=2, superseded=1)
    assert counts.total == 3
    row = await readings.get(session, STATION, T0)
    assert (row.pm25, row.o3) == (None, 61.0)


async def test_readings_one_multi_row_statement_per_chunk(
    session: AsyncSession, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(session)
    monkeypatch.setattr(shared, "CHUNK_ROWS", 2)
    sent: list[tuple[str, int]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO READINGS"):
            sent.append((statement.upper(), len(parameters)))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        counts = await readings.upsert_many(session, [_reading(h, float(h)) for h in range(5)])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert counts.inserted == 5
    # Three statements of 2, 2 and 1 rows, each one INSERT ... ON CONFLICT given all its rows'
    # parameters at once: 10 a row (station, hour, 6 values, flags, received_at) + updated_at.
    assert [n for _, n in sent] == [21, 21, 11]
    assert all("ON CONFLICT" in statement for statement, _ in sent)
    assert (await session.execute(select(func.count()).select_from(Reading))).scalar_one() == 5


async def test_readings_between_is_half_open(session: AsyncSession) -> None:
    await _seed(session)
    other = {**_reading(1, 5.0), "station_id": "1502A02"}
    await readings.upsert_many(session, [_reading(h, float(h)) for h in range(4)] + [other])
    window = await readings.between(session, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=3))
    assert [(r.station_id, r.pm25) for r in window] == [
        (STATION, 1.0),
        (STATION, 2.0),
        ("1502A02", 5.0),
    ]
    only = await readings.between(session, T0, T0 + dt.timedelta(days=1), station_ids=["1502A02"])
    assert [r.pm25 for r in only] == [5.0]


# --- AQI results ------------------------------------------------------------------------


def _aqi(hour: int, aqi: float, period: str = "1h", **more: object) -> dict[str, object]:
    return {
        "station_id": STATION,
        "observed_at": T0 + dt.timedelta(hours=hour),
        "period": period,
        "aqi": aqi,
        "category": 4,
        "primary": "pm25",
        "iaqi": {"pm25": aqi, "co": math.nan},
        "edition": "2026",
        **more,
    }


async def test_aqi_results_upsert_and_latest(session: AsyncSession) -> None:
    await _seed(session)
    rows = [_aqi(0, 168.0), _aqi(1, 175.0), _aqi(1, math.nan, "24h", category=0, primary="")]
    assert await readings.upsert_aqi_many(session, rows, now=NOW1) == shared.UpsertCounts(
        inserted=3
    )
    assert await readings.upsert_aqi_many(session, rows, now=NOW2) == shared.UpsertCounts(
        unchanged=3
    )
    counts = await readings.upsert_aqi_many(session, [_aqi(1, 181.0)], now=NOW2)
    assert counts == shared.UpsertCounts(updated=1)

    latest = await readings.latest_aqi(session, STATION)
    assert latest is not None
    assert (latest.observed_at, latest.aqi, latest.iaqi, latest.updated_at) == (
        T0 + dt.timedelta(hours=1),
        181,
        {"so2": None, "no2": None, "co": None, "o3": None, "pm10": None, "pm25": 181.0},
        NOW2,
    )
    daily = await readings.latest_aqi(session, STATION, "24h")
    assert (daily.aqi, daily.category, daily.primary) == (None, 0, "")
    assert await readings.latest_aqi(session, STATION, "24h", valid_only=True) is None
    assert await readings.latest_aqi(session, "1502A02") is None
    count = select(func.count()).select_from(AqiResult)
    assert (await session.execute(count)).scalar_one() == 3


async def test_aqi_results_refuse_an_unknown_period(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="period"):
        await readings.upsert_aqi_many(session, [_aqi(0, 50.0, "8h")])


# --- regions and stations -----------------------------------------------------------------


async def test_regions_round_trip_and_tree(session: AsyncSession) -> None:
    sample = kundulun_regions()
    assert await regions.put_many(session, reversed(sample)) == len(sample)  # children first
    assert await regions.list_all(session) == sorted(sample, key=lambda r: r.region_id)
    assert (await regions.tree(session)).ids == kundulun_region_tree().ids

    renamed = Region("150203", "150200", {"zh-CN": "昆区", "en": "Kun District"}, "district")
    assert await regions.put(session, renamed) is False
    assert await regions.get(session, "150203") == renamed
    assert await regions.get(session, "999") is None
    assert await regions.existing(session, ["150203", "999"]) == {"150203"}
    assert await regions.existing(session, []) == set()


async def test_stations_round_trip(session: AsyncSession) -> None:
    sample = kundulun_stations()
    await regions.put_many(session, kundulun_regions())
    assert await stations.put_many(session, sample) == len(sample)
    got = await stations.get(session, STATION)
    assert got == sample[0] and got.units == sample[0].units
    assert await stations.list_all(session) == sorted(sample, key=lambda s: s.station_id)
    in_region = await stations.list_all(session, region=sample[0].region)
    assert {s.station_id for s in in_region} == {
        s.station_id for s in sample if s.region == sample[0].region
    }
    moved = dataclasses.replace(sample[0], lon=109.9, kind="district")
    assert await stations.put(session, moved) is False
    assert await stations.get(session, STATION) == moved
    assert await stations.existing(session, [STATION, "nope"]) == {STATION}


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    orphan = Station("X1", {"zh-CN": "无", "en": "none"}, 0.0, 0.0, "no-such-region", "district")
    with pytest.raises(IntegrityError):
        await stations.put(session, orphan)


# --- timestamps and the SQLite engine ---------------------------------------------------


async def test_timestamps_come_back_aware_utc_and_naive_ones_are_refused(
    session: AsyncSession,
) -> None:
    local = dt.datetime(2026, 12, 6, 8, 30, tzinfo=CST)
    entry = await audit.record(session, "system", "test", "t", at=local)
    session.expunge(entry)  # read it back from the database, not the identity map
    stored = (await audit.recent(session))[0].at
    assert stored == local and stored.tzinfo is UTC and stored.hour == 0
    with pytest.raises(StatementError, match="naive"):
        await audit.record(session, "system", "test", "t", at=dt.datetime(2026, 1, 1))


async def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x/h.db"))
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert pragmas == [1, "wal", 30000]
    assert (tmp_path / "x" / "h.db").exists()


async def test_urls_without_a_driver_get_the_async_one() -> None:
    engine = create_engine(Settings(database_url="postgresql://haze@db.example/haze"))
    assert engine.url.drivername == "postgresql+asyncpg"  # nothing connects until used
    await engine.dispose()


async def test_in_memory_sqlite_is_one_shared_database() -> None:
    engine = create_engine(Settings(database_url="sqlite://"))
    try:
        assert engine.url.drivername == "sqlite+aiosqlite"
        await migrate(engine)
        maker = make_session_maker(engine)
        async with maker() as first:
            await regions.put_many(first, kundulun_regions()[:2])
            await first.commit()
        async with maker() as second:
            assert len(await regions.list_all(second)) == 2
    finally:
        await engine.dispose()


# --- list revisions -----------------------------------------------------------------------


def _special_entry() -> Enterprise:
    """An entry with every kind of override, and a baseline validation would refuse."""
    action = Action("own.stop_line_2", {"zh-CN": "停 2 号线", "en": "Stop line 2"}, ("pm",))
    return Enterprise(
        enterprise_id="91150203MA0000000X",
        name="测试厂",
        name_en="Test works",
        region="150203001",
        industry="steel",
        grade="B",
        guaranteed_supply=True,
        baseline=(1.5, math.nan, math.inf, 0.0),
        overrides={
            "orange": MeasureOverride(production_cut=0.3),
            "red": MeasureOverride(None, (0.5, None, 0.25, None), (action,)),
        },
        contact="0472-0000000",
    )


async def test_sample_revision_round_trips(session: AsyncSession) -> None:
    sample = kundulun_list()
    info = await lists.add(session, sample, now=NOW1)
    assert (info.number, info.status, info.entries, info.published_at) == (1, "published", 90, NOW1)
    assert await lists.get(session, 1) == sample
    assert await lists.published(session) == sample
    assert any(e.overrides for e in sample.entries)


async def test_an_entry_with_overrides_and_non_finite_numbers_round_trips(
    session: AsyncSession,
) -> None:
    entry = _special_entry()
    draft = Revision(1, None, "draft", dt.date(2026, 10, 1), "op", {"zh-CN": "甲", "en": "A"})
    await lists.add(session, draft.with_entry(entry))
    got = await lists.get_entry(session, 1, entry.enterprise_id)
    assert got is not None
    assert got.overrides == entry.overrides
    assert got.baseline[0] == 1.5 and math.isnan(got.baseline[1]) and got.baseline[2] == math.inf
    same_but_baseline = dataclasses.replace(got, baseline=entry.baseline)
    assert same_but_baseline == entry
    assert (await lists.get(session, 1)).note == {"zh-CN": "甲", "en": "A"}


async def test_draft_edit_publish(session: AsyncSession) -> None:
    sample = kundulun_list()
    await lists.add(session, sample, now=NOW1)
    draft = await lists.create_draft(session, author="op", note="adjustment", now=NOW2)
    assert (draft.number, draft.base, draft.status, draft.entries) == (2, 1, "draft", 90)
    assert draft.effective_from == dt.date(2026, 12, 5)  # local date of NOW2
    assert (await lists.get(session, 2)).entries == sample.entries

    new = _special_entry()
    first = sample.entries[0]
    regraded = dataclasses.replace(first, grade="A")
    assert await lists.put_entry(session, 2, new) is True
    assert await lists.put_entry(session, 2, regraded) is False
    await lists.delete_entry(session, 2, sample.entries[1].enterprise_id)
    assert await lists.get_entry(session, 2, first.enterprise_id) == regraded
    assert await lists.get_entry(session, 1, first.enterprise_id) == first  # base untouched
    assert await lists.published_number(session) == 1

    published = await lists.publish(session, 2, effective_from=dt.date(2026, 12, 6), now=NOW2)
    assert (published.status, published.published_at, published.entries) == (
        "published",
        NOW2,
        90,
    )
    current = await lists.published(session)
    assert current.number == 2 and current.base == 1
    assert current.effective_from == dt.date(2026, 12, 6)
    assert set(current.ids) == set(sample.ids) - {sample.entries[1].enterprise_id} | {
        new.enterprise_id
    }
    assert [(r.number, r.status, r.entries) for r in await lists.list_revisions(session)] == [
        (1, "published", 90),
        (2, "published", 90),
    ]
    assert (await lists.info(session, 2)).entries == 90
    assert await lists.info(session, 9) is None
    assert await lists.get(session, 9) is None


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("put_published", "revision.published"),
        ("delete_published", "revision.published"),
        ("publish_published", "revision.published"),
        ("put_unknown", "revision.unknown"),
        ("delete_missing", "entry.unknown"),
    ],
)
async def test_only_drafts_change(session: AsyncSession, action: str, code: str) -> None:
    sample = kundulun_list()
    await lists.add(session, sample)
    await lists.create_draft(session, author="op")
    calls = {
        "put_published": lambda: lists.put_entry(session, 1, _special_entry()),
        "delete_published": lambda: lists.delete_entry(session, 1, sample.ids[0]),
        "publish_published": lambda: lists.publish(session, 1),
        "put_unknown": lambda: lists.put_entry(session, 7, _special_entry()),
        "delete_missing": lambda: lists.delete_entry(session, 2, "NOT-ON-THE-LIST"),
    }
    with pytest.raises(RevisionError) as raised:
        await calls[action]()
    assert raised.value.code == code
    assert raised.value.message["zh-CN"] and raised.value.message["en"]
    assert await lists.get(session, 1) == sample


async def test_first_draft_starts_empty(session: AsyncSession) -> None:
    assert await lists.published(session) is None
    draft = await lists.create_draft(session, author="op", effective_from=dt.date(2026, 10, 1))
    assert (draft.number, draft.base, draft.entries) == (1, None, 0)
    assert await lists.next_number(session) == 2


async def test_entries_page_by_cursor(session: AsyncSession) -> None:
    sample = kundulun_list()
    await lists.add(session, sample)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = await lists.page_entries(session, 1, limit=40, after=cursor)
        seen += [e.enterprise_id for e in page]
        pages += 1
        if cursor is None:
            break
    assert seen == list(sample.ids) and pages == 3
    exact, cursor = await lists.page_entries(session, 1, limit=90)
    assert len(exact) == 90 and cursor is None


# --- audit ------------------------------------------------------------------------------


async def test_audit_records_and_filters(session: AsyncSession) -> None:
    await audit.record(session, "tok1", "list.publish", "revision:2", {"entries": 90}, at=NOW1)
    await audit.record(session, audit.SYSTEM, "list.import", "revision:1", at=NOW1)
    await audit.record(session, "tok1", "token.revoke", "token:ab", {"x": math.nan}, at=NOW2)
    newest = await audit.recent(session)
    assert [(e.actor, e.action) for e in newest] == [
        ("tok1", "token.revoke"),
        (audit.SYSTEM, "list.import"),
        ("tok1", "list.publish"),
    ]
    assert newest[0].details == {"x": "nan"} and newest[1].details is None
    assert [e.target for e in await audit.recent(session, actor="tok1", since=NOW2)] == ["token:ab"]
    assert [e.details for e in await audit.recent(session, action="list.publish")] == [
        {"entries": 90}
    ]
    assert len(await audit.recent(session, limit=1)) == 1


async def test_bulk_upserts_replay_nothing_and_correct_what_changed(session: AsyncSession) -> None:
    """From COPY_MIN_ROWS rows on, PostgreSQL goes through COPY and a staging table: the same
    counts and the same stored values as the multi-row INSERT (SQLite takes that one)."""
    await _seed(session)
    n = shared.COPY_MIN_ROWS + 50
    rows = [
        _reading(h, float(h % 500), flags=["pm25_gt_pm10"] if h % 7 == 0 else []) for h in range(n)
    ]
    assert await readings.upsert_many(session, rows, now=NOW1) == shared.UpsertCounts(inserted=n)
    assert await readings.upsert_many(session, rows, now=NOW2) == shared.UpsertCounts(unchanged=n)
    corrected = [dict(r, so2=1.5) if i % 10 == 0 else r for i, r in enumerate(rows)]
    counts = await readings.upsert_many(session, corrected, now=NOW2)
    assert counts == shared.UpsertCounts(updated=-(-n // 10), unchanged=n - -(-n // 10))
    stored = await readings.get(session, STATION, T0 + dt.timedelta(hours=10))
    assert (stored.so2, stored.pm25, stored.updated_at) == (1.5, 10.0, NOW2)
    flagged = await readings.get(session, STATION, T0 + dt.timedelta(hours=7))
    assert flagged.flags == ["pm25_gt_pm10"] and flagged.updated_at is None
    result = {"period": "1h", "aqi": 80, "category": 2, "primary": "pm25", "edition": "2026"}
    iaqi = {"pm25": 80.0, "o3": math.nan}
    results = [
        {"station_id": STATION, "observed_at": r["observed_at"], "iaqi": iaqi, **result}
        for r in rows
    ]
    assert await readings.upsert_aqi_many(session, results) == shared.UpsertCounts(inserted=n)
    assert await readings.upsert_aqi_many(session, results) == shared.UpsertCounts(unchanged=n)
    latest = await readings.latest_aqi(session, STATION)
    assert latest.iaqi["pm25"] == 80.0 and latest.aqi == 80
