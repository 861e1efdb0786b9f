"""How the console writes times and amounts: local time (Asia/Shanghai) to the minute,
kilograms a day with a thousands separator and one decimal, fractions as percentages.

The functions are Jinja2 filters of every template (``{{ order.starts_at|local_time }}``).
"""

from __future__ import annotations

import datetime as dt

from emission_list.breakpoints import LOCAL_TIME
from service.console.templating import environment


def local_time(moment: dt.datetime | None) -> str:
    """``2026-12-03 16:00`` in Asia/Shanghai ('' for None; a naive value is UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def kg(value: float) -> str:
    """A mass flow [kg/day] as written on the page: ``1,680.5``."""
    return f"{value:,.1f}"


def percent(fraction: float) -> str:
    """A fraction 0..1 as ``25%`` (one decimal where it has one: ``12.5%``)."""
    return f"{round(fraction * 100, 1):g}%"


def local_date(moment: dt.datetime | None) -> str:
    """The local (Asia/Shanghai) date of ``moment``: ``2026-12-03``."""
    return local_time(moment)[:10]


environment.filters.update(local_time=local_time, local_date=local_date, kg=kg, percent=percent)
