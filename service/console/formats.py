"""How the console writes times and amounts: local time (Asia/Shanghai) to the minute,
kilograms a day with a thousands separator and one decimal, fractions as percentages.

The functions are Jinja2 filters of every template (``{{ order.starts_at|local_time }}``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from emission_list.aqi_categories import CATEGORIES
from emission_list.breakpoints import LOCAL_TIME
from emission_list.i18n import pick
from service.console.templating import environment


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:  # stored as UTC without an offset (SQLite)
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIME)


def local_time(moment: dt.datetime | None, *, date: bool = True) -> str:
    """``2026-12-03 16:00`` in Asia/Shanghai (``16:00`` without the date; '' for None)."""
    if moment is None:
        return ""
    return _local(moment).strftime("%Y-%m-%d %H:%M" if date else "%H:%M")


def kg_per_day(value: float) -> str:
    """A quantity in kg/day as the dashboard's tables show it: thousands separated, one
    decimal below 100 ("<0.1" for a positive amount that would show as 0.0)."""
    if 0 < value < 0.05:
        return "<0.1"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def category_namer(language: str) -> Callable[[int], str]:
    """The name of an AQI category number in ``language`` ("—" for 0, no AQI)."""

    def name(number: int) -> str:
        return pick(CATEGORIES[number - 1].name, language) if number > 0 else "—"

    return name


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
