"""How the console writes times and quantities: Beijing time, kilograms per day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from emission_list.aqi_categories import CATEGORIES
from emission_list.breakpoints import LOCAL_TIME
from emission_list.i18n import pick


def local_time(moment: dt.datetime | None, *, date: bool = True) -> str:
    """``2026-12-03 14:00`` in Asia/Shanghai (``14:00`` without the date; "" for None)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(LOCAL_TIME)
    return local.strftime("%Y-%m-%d %H:%M" if date else "%H:%M")


def kg_per_day(value: float) -> str:
    """A quantity in kg/day as the tables show it: thousands separated, one decimal below 100
    ("<0.1" for a positive amount that would show as 0.0)."""
    if 0 < value < 0.05:
        return "<0.1"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def category_namer(language: str) -> Callable[[int], str]:
    """The name of an AQI category number in ``language`` ("—" for 0, no AQI)."""

    def name(number: int) -> str:
        return pick(CATEGORIES[number - 1].name, language) if number > 0 else "—"

    return name
