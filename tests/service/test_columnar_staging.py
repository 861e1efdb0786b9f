"""Columns staged by binary COPY come back from PostgreSQL exactly as they went in."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.repositories import driver_connection
from service.storage.repositories.columnar import Staging, stage

SHAPE = Staging((("place", "text"), ("t", "float8"), ("count", "int4"), ("label", "text")))

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
rows = st.lists(
    st.tuples(texts, floats, st.integers(-(2**31), 2**31 - 1), st.sampled_from(["", "pm25", "一"])),
    max_size=40,
)


@pytest_asyncio.fixture
async def pg_session(postgres_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(Settings(database_url=postgres_url))
    async with make_session_maker(engine)() as session:
        yield session
    await engine.dispose()


async def _read_back(session: AsyncSession, staging: Staging, columns: list) -> list[tuple]:
    dictionaries = await stage(session, staging, columns)
    raw = await driver_connection(session)
    names = ", ".join(f'"{name}"' for name, _ in staging.columns)
    return [
        tuple(r)
        for r in await raw.fetch(f"WITH {staging.given()} SELECT {names} FROM given", *dictionaries)
    ]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return a == b


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows)
async def test_staged_columns_come_back_exactly(
    pg_session: AsyncSession, rows: list[tuple]
) -> None:
    columns = [[r[i] for r in rows] for i in range(4)]
    columns[1] = np.array(columns[1], dtype=np.float64)
    columns[2] = np.array(columns[2], dtype=np.int64)
    back = await _read_back(pg_session, SHAPE, columns)
    # staged rows come back in COPY order; the statement emptied the table behind it
    assert len(back) == len(rows)
    assert all(
        _same(x, y)
        for got, sent in zip(back, rows, strict=True)
        for x, y in zip(got, sent, strict=True)
    )
    assert (
        await _read_back(pg_session, SHAPE, [[], np.array([]), np.array([], dtype=np.int64), []])
        == []
    )
    await pg_session.rollback()


def test_a_column_of_another_length_or_type_is_refused() -> None:
    with pytest.raises(ValueError, match="has 1 rows, not 2"):
        SHAPE.payload([["a", "b"], np.zeros(2), np.zeros(1, dtype=np.int64), ["x", "y"]])
    with pytest.raises(ValueError, match="4 columns expected"):
        SHAPE.payload([["a"]])
    with pytest.raises(ValueError, match="cannot stage"):
        Staging((("when", "timestamptz"),))
