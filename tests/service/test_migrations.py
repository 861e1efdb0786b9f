"""The migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Integer, MetaData, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.settings import Settings
from service.storage.engine import create_engine
from service.storage.migrate import REPO_ROOT, alembic_config, migrate
from service.storage.models import Base, RegionAqi

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(connection: Connection, metadata: MetaData = Base.metadata) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _state(connection: Connection) -> tuple[set[str], str | None]:
    """The tables of the database and its Alembic revision."""
    tables = set(inspect(connection).get_table_names())
    return tables, MigrationContext.configure(connection).get_current_revision()


@pytest.fixture
async def blank_engine(blank_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=blank_database_url))
    yield engine
    await engine.dispose()


async def test_upgrade_builds_the_models_exactly(blank_engine: AsyncEngine) -> None:
    await migrate(blank_engine)
    async with blank_engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        tables, revision = await connection.run_sync(_state)
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert revision == HEAD == "0011"


async def test_comparison_sees_a_difference(blank_engine: AsyncEngine) -> None:
    """The empty diff above means something: one extra column is reported."""
    await migrate(blank_engine)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["regions"].append_column(Column("population", Integer, nullable=True))
    async with blank_engine.connect() as connection:
        diff = await connection.run_sync(_diff, changed)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "regions", "population")]


async def test_migrate_again_changes_nothing_and_downgrade_undoes_it(
    blank_engine: AsyncEngine,
) -> None:
    await migrate(blank_engine)
    async with blank_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO regions (region_id, name_zh, name_en) VALUES ('15', '内蒙古', 'IM')")
        )
    await migrate(blank_engine)
    async with blank_engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM regions"))).scalar_one() == 1

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "base")

    async with blank_engine.begin() as connection:
        await connection.run_sync(downgrade)
    async with blank_engine.connect() as connection:
        assert await connection.run_sync(_state) == ({"alembic_version"}, None)
    await migrate(blank_engine)
    async with blank_engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_alembic_command_upgrades_from_the_repository_root(
    blank_database_url: str, blank_engine: AsyncEngine
) -> None:
    env = {**os.environ, "HAZE_DATABASE_URL": blank_database_url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    async with blank_engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        assert (await connection.run_sync(_state))[1] == HEAD


async def test_results_documents_become_arrays_and_back(blank_engine: AsyncEngine) -> None:
    """0006 turns stored IAQI and means objects into arrays in their layout, and back."""
    iaqi = {"so2": 3.0, "no2": None, "co": 10.0, "o3": 20.0, "pm10": 55.0, "pm25": 130.0}
    daily = {
        "so2_24h": 8.5, "no2_24h": 30.0, "co_24h": 0.9, "pm10_24h": None,
        "pm25_24h": 99.25, "o3_8h": 40.0, "o3_8h_max": 61.0,
    }  # fmt: skip
    hourly = {"so2": 1.0, "no2": 2.0, "co": 0.5, "o3": None, "pm10": 80.0, "pm25": 60.0}
    await migrate(blank_engine, "0005")
    insert = text(
        'INSERT INTO region_aqi (region, observed_at, period, aqi, category, "primary", iaqi,'
        " edition, means, computed_at, stations) VALUES ('15', :at, :period, 170, 4, 'pm25',"
        " :iaqi, 'HJ633-2012', :means, :at, 2)"
    )
    at = dt.datetime(2026, 1, 5, 10)
    if blank_engine.dialect.name == "postgresql":
        at = at.replace(tzinfo=dt.UTC)
    async with blank_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO regions (region_id, name_zh, name_en) VALUES ('15', '内蒙古', 'IM')")
        )
        for period, means in (("24h", daily), ("1h", hourly)):
            documents = {"iaqi": json.dumps(iaqi), "means": json.dumps(means)}
            await connection.execute(insert, {"at": at, "period": period, **documents})
    await migrate(blank_engine)
    async with AsyncSession(blank_engine) as session:
        found = select(RegionAqi.period, RegionAqi.iaqi, RegionAqi.means)
        rows = {period: (i, m) for period, i, m in await session.execute(found)}
    assert rows == {
        "24h": (iaqi, daily),
        "1h": (iaqi, hourly),
    }

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0005")

    async with blank_engine.begin() as connection:
        await connection.run_sync(downgrade)
        stored = (
            await connection.execute(text("SELECT period, iaqi, means FROM region_aqi"))
        ).all()
    documents = {
        p: tuple(v if isinstance(v, dict) else json.loads(v) for v in d) for p, *d in stored
    }
    assert documents == {"24h": (iaqi, daily), "1h": (iaqi, hourly)}
