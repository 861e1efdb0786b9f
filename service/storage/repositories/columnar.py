"""Upserts of columns on PostgreSQL: numpy columns in by binary COPY, one statement, no row objects.

The columns of a batch are copied into a temporary *staging* table in PostgreSQL's binary
COPY format, built by numpy in one pass (no per-value encoding in Python): numbers travel as
big-endian ``float8``/``int4``, NaN marking a missing number (turned into NULL by the
statement); text columns travel as ``int4`` codes into a dictionary of their distinct values,
passed as one small ``text[]`` parameter each. The upsert statement then empties the staging
table (``DELETE ... RETURNING``) into the target table, builds the arrays of numbers there
(``ARRAY[...]``, see :class:`service.storage.types.NamedNumbers`) and, like
:func:`service.storage.repositories.upsert_rows`, rewrites a row only when a compared value differs;
``updated_at`` tells the rewritten rows from the new ones.

A staging table is ``ON COMMIT DELETE ROWS`` and private to its connection, created the first
time a connection stages that shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.repositories import UpsertCounts, driver_connection

#: Element types a staged column may have, and how each travels in the COPY.
_WIRE = {"float8": ">f8", "int4": ">i4", "text": ">i4"}
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)


def not_nan(column: str) -> str:
    return f"NULLIF(\"{column}\", 'NaN')"


def float_array(columns: Iterable[str | None]) -> str:
    """A ``float8[]`` of numeric columns (None: a null element), NaN as null."""
    elements = ", ".join("NULL" if c is None else not_nan(c) for c in columns)
    return f"ARRAY[{elements}]::float8[]"


def changed(table: str, columns: Sequence[str]) -> str:
    return " OR ".join(f'{table}."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in columns)


def assignments(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns)


@dataclass(frozen=True)
class Staging:
    """The staging table of one shape of columns: ``(name, element type)`` pairs, the types
    ``float8``, ``int4`` or ``text``.

    In a statement, :meth:`given` names the CTEs that empty the table into a relation
    ``given`` with the columns as named and typed here; the text dictionaries are its
    parameters ``$1..$k`` (k = :attr:`parameters`), so the statement's own come after.
    """

    columns: tuple[tuple[str, str], ...]
    table: str = field(init=False)

    def __post_init__(self) -> None:
        unknown = [kind for _, kind in self.columns if kind not in _WIRE]
        if unknown:
            raise ValueError(f"cannot stage columns of type {unknown}")
        digest = hashlib.sha1(repr(self.columns).encode()).hexdigest()[:12]
        object.__setattr__(self, "table", f"haze_staging_{digest}")

    @property
    def parameters(self) -> int:
        return sum(kind == "text" for _, kind in self.columns)

    def create_sql(self) -> str:
        wire = {"float8": "float8", "int4": "int4", "text": "int4"}
        columns = ", ".join(f'"{name}" {wire[kind]}' for name, kind in self.columns)
        return f"CREATE TEMP TABLE IF NOT EXISTS {self.table} ({columns}) ON COMMIT DELETE ROWS"

    def given(self) -> str:
        selected, dictionary = [], 0
        for name, kind in self.columns:
            if kind == "text":
                dictionary += 1
                selected.append(f'(${dictionary}::text[])[s."{name}"] AS "{name}"')
            else:
                selected.append(f's."{name}"')
        return (
            f"staged AS (DELETE FROM {self.table} RETURNING *),\n"
            f"given AS (SELECT {', '.join(selected)} FROM staged s)"
        )

    def payload(
        self, values: Sequence[Sequence[Any] | np.ndarray]
    ) -> tuple[bytes, list[list[str]]]:
        """The binary COPY of the columns ``values`` (in :attr:`columns` order, one length)
        and the dictionaries of the text columns."""
        if len(values) != len(self.columns):
            raise ValueError(f"{len(self.columns)} columns expected, {len(values)} given")
        n = len(values[0]) if values else 0
        layout = [("fields", ">i2")]
        for i, (_, kind) in enumerate(self.columns):
            layout += [(f"size{i}", ">i4"), (f"value{i}", _WIRE[kind])]
        rows = np.empty(n, dtype=np.dtype(layout))
        rows["fields"] = len(self.columns)
        dictionaries = []
        for i, ((_, kind), column) in enumerate(zip(self.columns, values, strict=True)):
            if len(column) != n:
                raise ValueError(f"column {self.columns[i][0]!r} has {len(column)} rows, not {n}")
            rows[f"size{i}"] = 8 if kind == "float8" else 4
            if kind == "text":  # codes from 1 in order of first appearance
                codes = {v: k for k, v in enumerate(dict.fromkeys(column), 1)}
                rows[f"value{i}"] = np.fromiter(map(codes.__getitem__, column), np.int32, n)
                dictionaries.append(list(codes))
            else:
                rows[f"value{i}"] = column
        return _HEADER + rows.tobytes() + _TRAILER, dictionaries


async def stage(
    session: AsyncSession, staging: Staging, values: Sequence[Sequence[Any] | np.ndarray]
) -> list[list[str]]:
    """Copy ``values`` into the staging table (in the session's transaction); the text
    dictionaries, the first parameters of a statement reading :meth:`Staging.given`."""
    payload, dictionaries = staging.payload(values)
    raw = await driver_connection(session)
    await raw.execute(staging.create_sql())
    # a memoryview: asyncpg would take bytes for a file name
    await raw.copy_to_table(staging.table, source=memoryview(payload), format="binary")
    return dictionaries


def upsert_sql(
    table: str,
    staging: Staging,
    targets: Mapping[str, str],
    key: Sequence[str],
    compared: Sequence[str],
) -> str:
    """The statement writing ``targets`` (column -> expression over the staged columns), with
    the time of the change as the parameter after the dictionaries; it answers the rows
    written and how many of them were new."""
    now = f"${staging.parameters + 1}"
    columns = ", ".join(f'"{c}"' for c in targets)
    return f"""
WITH {staging.given()},
w AS (
  INSERT INTO {table} ({columns})
  SELECT {", ".join(targets.values())} FROM given
  ON CONFLICT ({", ".join(f'"{k}"' for k in key)}) DO UPDATE
  SET {assignments(compared)}, updated_at = {now}
  WHERE {changed(table, compared)}
  RETURNING updated_at
)
SELECT count(*), count(*) FILTER (WHERE updated_at IS NULL) FROM w
"""


async def upsert(
    session: AsyncSession,
    sql: str,
    staging: Staging,
    values: Sequence[Sequence[Any] | np.ndarray],
    now: dt.datetime,
) -> UpsertCounts:
    """Stage ``values`` and run an :func:`upsert_sql` statement over them."""
    given = len(values[0]) if values else 0
    if given == 0:
        return UpsertCounts()
    dictionaries = await stage(session, staging, values)
    raw = await driver_connection(session)
    written, inserted = await raw.fetchrow(sql, *dictionaries, now)
    return UpsertCounts(inserted, written - inserted, given - written)
