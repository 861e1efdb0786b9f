"""The ``from``/``to`` of the history listings: ISO 8601 with an offset, ``from`` inclusive,
``to`` exclusive; a refused range answers 422 with a stable code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from emission_list.i18n import text
from service.errors import HazeError


@dataclass(frozen=True)
class TimeRange:
    since: dt.datetime  # inclusive, UTC
    until: dt.datetime  # exclusive, UTC


def _refuse(code: str, zh: str, en: str, *fields: str) -> HazeError:
    details = [{"loc": ["query", f], "type": code, "message": en} for f in fields]
    return HazeError(422, code, text(zh, en), details)


def aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """``value`` in UTC; 422 ``range.offset`` when it has no UTC offset."""
    if value is None:
        return None
    return _utc(value, name)


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _refuse("range.offset", f"{name} 需要带时区偏移", f"{name} needs a UTC offset", name)
    return value.astimezone(dt.UTC)


def time_range(since: dt.datetime, until: dt.datetime) -> TimeRange:
    """A checked range: both with an offset (``range.offset``), ``from`` before ``to``
    (``range.order``)."""
    start, end = _utc(since, "from"), _utc(until, "to")
    if start >= end:
        raise _refuse("range.order", "from 须早于 to", "from must be before to", "from", "to")
    return TimeRange(start, end)
