"""Input types shared by the API's schemas: what every datetime, date and number given to the
API must be before any service or database sees it.

- :data:`Instant`: an ISO 8601 date-time *text* with an offset (a bare number is not a time),
  whose instant is at least a day from either end of the calendar, so that moving it to UTC or
  to a local time zone cannot overflow (``9999-12-31T23:00:00-05:00`` is refused with a 422,
  not a 500).
- :data:`Stamp`: ISO text with an offset, any instant ``datetime`` holds: for fields whose
  own checks give an out-of-range instant its code (a forecast's ``issued_at``:
  ``forecast.issued_at.too_early``, ``forecast.future``).
- :data:`RangeBound`: the ``from``/``to`` of a listing: ISO text like :data:`Instant`, in the
  same bounds once it has an offset; one without is left to
  :func:`service.api.time_range.time_range`, which answers ``range.offset``.
- :data:`Day`: a calendar date as ISO text, a day from either end of the calendar;
  :data:`DayText` any date as ISO text (a forecast's days: their checks give the codes).
- ``INT_MIN``/``INT_MAX``: what a database ``INTEGER`` column holds (32 bits, signed); integer
  path, query and body fields stay within them (e.g. ``Path(ge=1, le=INT_MAX)``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

#: The instants the API takes: a day from either end of ``datetime``'s calendar.
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=1)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: object) -> object:
    """Dates and times come as ISO 8601 text (or already parsed); a number is refused."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 text such as 2026-12-05T14:00:00+08:00")
    return value


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    try:
        at = value.astimezone(dt.UTC)
    except OverflowError:
        at = None
    if at is None or not EARLIEST <= at <= LATEST:
        raise ValueError(f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not EARLIEST.date() <= value <= LATEST.date():
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_instant_in_range)]


Stamp = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def _bound_in_range(value: dt.datetime) -> dt.datetime:
    return value if value.utcoffset() is None else _instant_in_range(value)


RangeBound = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_bound_in_range)]
Day = Annotated[dt.date, BeforeValidator(_iso_text), AfterValidator(_day_in_range)]
DayText = Annotated[dt.date, BeforeValidator(_iso_text)]
