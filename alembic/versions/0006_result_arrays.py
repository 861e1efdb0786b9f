"""AQI results hold their IAQI and means as arrays of numbers in a fixed order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

``iaqi`` and ``means`` of ``aqi_results`` and ``region_aqi`` were JSON objects; building one
per row was a fifth of the readings consumer's bulk upserts. They become bare arrays in a
fixed order (``float8[]`` on PostgreSQL, a JSON list on SQLite; see
``service.storage.types.NamedNumbers``): IAQI by pollutant, means either hourly by pollutant (6)
or the 24-hour window's statistics (7). Stored documents are converted both ways.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("aqi_results", "region_aqi")
_POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
_WINDOW = ("so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h", "o3_8h_max")


def _pg_array(column: str, names: Sequence[str]) -> str:
    elements = ", ".join(f"NULLIF({column}->>'{n}', 'nan')::float8" for n in names)
    return f"ARRAY[{elements}]::float8[]"


def _pg_object(column: str, names: Sequence[str]) -> str:
    pairs = ", ".join(f"'{n}', {column}[{i}]" for i, n in enumerate(names, 1))
    return f"jsonb_build_object({pairs})"


def _sqlite_array(column: str, names: Sequence[str]) -> str:
    elements = ", ".join(f"json_extract({column}, '$.{n}')" for n in names)
    return f"json_array({elements})"


def _sqlite_object(column: str, names: Sequence[str]) -> str:
    pairs = ", ".join(f"'{n}', json_extract({column}, '$[{i}]')" for i, n in enumerate(names))
    return f"json_object({pairs})"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgresql:
            daily = f"means ? '{_WINDOW[-1]}' OR means ? '{_WINDOW[0]}'"
            op.execute(
                f"ALTER TABLE {table} "
                f"ALTER COLUMN iaqi TYPE float8[] USING {_pg_array('iaqi', _POLLUTANTS)}, "
                f"ALTER COLUMN means TYPE float8[] USING CASE WHEN means IS NULL THEN NULL "
                f"WHEN {daily} THEN {_pg_array('means', _WINDOW)} "
                f"ELSE {_pg_array('means', _POLLUTANTS)} END"
            )
        else:
            daily = f"json_type(means, '$.{_WINDOW[-1]}') IS NOT NULL"
            op.execute(
                f"UPDATE {table} SET iaqi = {_sqlite_array('iaqi', _POLLUTANTS)}, "
                f"means = CASE WHEN means IS NULL THEN NULL "
                f"WHEN {daily} THEN {_sqlite_array('means', _WINDOW)} "
                f"ELSE {_sqlite_array('means', _POLLUTANTS)} END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgresql:
            op.execute(
                f"ALTER TABLE {table} "
                f"ALTER COLUMN iaqi TYPE jsonb USING {_pg_object('iaqi', _POLLUTANTS)}, "
                f"ALTER COLUMN means TYPE jsonb USING CASE WHEN means IS NULL THEN NULL "
                f"WHEN cardinality(means) = {len(_WINDOW)} THEN {_pg_object('means', _WINDOW)} "
                f"ELSE {_pg_object('means', _POLLUTANTS)} END"
            )
        else:
            op.execute(
                f"UPDATE {table} SET iaqi = {_sqlite_object('iaqi', _POLLUTANTS)}, "
                f"means = CASE WHEN means IS NULL THEN NULL "
                f"WHEN json_array_length(means) = {len(_WINDOW)} "
                f"THEN {_sqlite_object('means', _WINDOW)} "
                f"ELSE {_sqlite_object('means', _POLLUTANTS)} END"
            )
