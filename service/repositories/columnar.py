"""Upserts of columns on PostgreSQL: numpy columns in as arrays, one statement, no row objects.

The columns travel as typed arrays expanded by ``unnest``; NaN marks a missing number and
becomes NULL in the database; JSON documents are built there (``jsonb_build_object``). Like
:func:`service.repositories.upsert_rows`, a row is rewritten only when a compared value
differs, and ``updated_at`` tells the rewritten rows from the new ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.repositories import UpsertCounts, driver_connection


def not_nan(column: str) -> str:
    return f"NULLIF(\"{column}\", 'NaN')"


def json_object(pairs: Iterable[tuple[str, str]]) -> str:
    """A JSON object of ``(key, numeric column)`` pairs, NaN as null."""
    return "jsonb_build_object(" + ", ".join(f"'{k}', {not_nan(c)}" for k, c in pairs) + ")"


def changed(table: str, columns: Sequence[str]) -> str:
    return " OR ".join(f'{table}."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in columns)


def assignments(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns)


def unnest(given: Sequence[tuple[str, str]], first: int = 1) -> str:
    """``unnest($1::type[], ...) AS g(name, ...)`` of ``(name, element type)`` pairs."""
    arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(given, first))
    names = ", ".join(f'"{name}"' for name, _ in given)
    return f"unnest({arrays}) AS g({names})"


def upsert_sql(
    table: str,
    given: Sequence[tuple[str, str]],
    targets: Mapping[str, str],
    key: Sequence[str],
    compared: Sequence[str],
) -> str:
    """The statement writing ``targets`` (column -> expression over the given arrays) with the
    arrays as ``$1..$n`` and the time of the change as ``$n+1``; it answers the rows written
    and how many of them were new."""
    now = f"${len(given) + 1}"
    columns = ", ".join(f'"{c}"' for c in targets)
    return f"""
WITH w AS (
  INSERT INTO {table} ({columns})
  SELECT {", ".join(targets.values())} FROM {unnest(given)}
  ON CONFLICT ({", ".join(f'"{k}"' for k in key)}) DO UPDATE
  SET {assignments(compared)}, updated_at = {now}
  WHERE {changed(table, compared)}
  RETURNING updated_at
)
SELECT count(*), count(*) FILTER (WHERE updated_at IS NULL) FROM w
"""


async def upsert(
    session: AsyncSession, sql: str, arrays: Sequence[list[Any]], now: dt.datetime
) -> UpsertCounts:
    """Run an :func:`upsert_sql` statement on ``arrays`` (all of one length)."""
    given = len(arrays[0]) if arrays else 0
    if given == 0:
        return UpsertCounts()
    raw = await driver_connection(session)
    written, inserted = await raw.fetchrow(sql, *arrays, now)
    return UpsertCounts(inserted, written - inserted, given - written)
