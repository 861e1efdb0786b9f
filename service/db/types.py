"""Column types that behave the same on PostgreSQL and SQLite.

- :class:`UTCDateTime`: timezone-aware UTC datetimes on both. PostgreSQL stores
  ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC text (one
  fixed format, so text order is time order) and comes back aware again. A naive datetime is
  refused rather than guessed.
- :data:`JSONType`: ``jsonb`` on PostgreSQL (it has equality, which ``json`` lacks, so upserts
  can tell a changed document from the same one), JSON text on SQLite; ``None`` is SQL NULL.
- :data:`BigIntPK`: 64-bit keys on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY`` is the
  auto-incrementing rowid (also 64-bit).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime, stored in UTC, read back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its text (``"nan"``, ``"inf"``).

    JSON has no NaN or infinity and PostgreSQL refuses them; the domain's readers
    (:meth:`emission_list.entries.Enterprise.from_dict`) read these texts back as numbers.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
