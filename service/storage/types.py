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
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Double, Integer
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

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


class NamedNumbers(TypeDecorator[dict[str, float | None]]):
    """Numbers by name in one of a few fixed *layouts* (key orders), stored as a bare array
    in the layout's order: ``float8[]`` on PostgreSQL, a JSON list elsewhere.

    The readings consumer writes several AQI results per reading; as arrays its bulk upserts
    build them with ``ARRAY[...]``, which costs next to nothing where a JSON object per row
    (keys and all) was a fifth of the statement. The layout of a stored array is told by its
    length, so layouts have distinct lengths. A mapping is stored in the first layout holding
    all its names (names it lacks stored as null); NaN is stored as null.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, *layouts: tuple[str, ...]) -> None:
        super().__init__()
        if not layouts or len({len(layout) for layout in layouts}) != len(layouts):
            raise ValueError(f"layouts need distinct lengths: {layouts}")
        self.layouts = layouts

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Double()))
        return dialect.type_descriptor(JSON(none_as_null=True))

    def layout_of(self, names: Iterable[str]) -> tuple[str, ...]:
        wanted = set(names)
        for layout in self.layouts:
            if wanted <= set(layout):
                return layout
        raise ValueError(f"no layout holds {sorted(wanted)}: {self.layouts}")

    def process_bind_param(
        self, value: Mapping[str, Any] | None, dialect: Dialect
    ) -> list[float | None] | None:
        if value is None:
            return None
        numbers = [value.get(name) for name in self.layout_of(value)]
        return [None if n is None or math.isnan(n) else float(n) for n in numbers]

    def process_result_value(
        self, value: list[float | None] | None, dialect: Dialect
    ) -> dict[str, float | None] | None:
        if value is None:
            return None
        layout = next((lay for lay in self.layouts if len(lay) == len(value)), None)
        if layout is None:
            raise ValueError(f"a stored array of {len(value)} numbers fits no layout")
        return dict(zip(layout, value, strict=True))


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
