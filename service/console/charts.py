"""Charts drawn on the server: what the SVG templates draw, in viewBox units.

:func:`forecast_bars`: a forecast's daily AQI as bars with the 150/200/300 lines (the
warning criteria of 环大气〔2024〕6号 read the forecast daily AQI against them).
:func:`hourly_chart`: a station's hourly AQI over a run of hours on the six HJ 633 category
bands; a line joins consecutive hours only, so a missing hour is a visible gap.
:func:`series_chart`: a logger's values around an alarm against time, one line per code, with
the allowed value (the cut load, the emission limit) and the alarm's start and clearing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from emission_list.aqi_categories import CATEGORIES, category_of
from emission_list.breakpoints import LOCAL_TIME
from service.hj212 import codes

#: Forecast daily AQI the criteria compare with (yellow, orange, red).
CRITERIA_LINES: tuple[int, ...] = (150, 200, 300)
#: Upper AQI of each category band (HJ 633 Table 2); the last band ends at 500.
BAND_TOPS: tuple[int, ...] = (50, 100, 150, 200, 300, 500)


def _axis_top(largest: float, floor: int) -> int:
    """The first band top at or above ``largest`` (at least ``floor``)."""
    return next((top for top in BAND_TOPS if top >= max(largest, floor)), 500)


@dataclass(frozen=True)
class Bar:
    day: dt.date
    aqi: int
    category: int
    driver: str
    counted: bool  # one of the days the rule that fired counted
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Line:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    baseline: float
    bars: list[Bar]
    lines: list[Line]


def forecast_bars(
    days: Sequence[tuple[dt.date, int, str]],
    counted: Sequence[dt.date] = (),
    *,
    width: float = 360,
    height: float = 180,
) -> BarChart:
    """Bars of ``(date, daily AQI, driver)``; ``counted`` marks the days a rule counted."""
    left, right, top, bottom = 36.0, width - 8, 10.0, height - 24
    axis = _axis_top(max((aqi for _, aqi, _ in days), default=0), 350)
    scale = (bottom - top) / axis
    step = (right - left) / max(len(days), 1)
    categories = category_of(np.array([aqi for _, aqi, _ in days], dtype=float))
    bars = [
        Bar(
            day=day,
            aqi=aqi,
            category=int(categories[i]),
            driver=driver,
            counted=day in counted,
            x=round(left + i * step + step * 0.15, 1),
            y=round(bottom - min(aqi, axis) * scale, 1),
            width=round(step * 0.7, 1),
            height=round(min(aqi, axis) * scale, 1),
        )
        for i, (day, aqi, driver) in enumerate(days)
    ]
    lines = [Line(v, round(bottom - v * scale, 1)) for v in CRITERIA_LINES if v <= axis]
    return BarChart(width, height, left, right, bottom, bars, lines)


@dataclass(frozen=True)
class Band:
    category: int
    low: int
    high: int
    y: float
    height: float


@dataclass(frozen=True)
class HourPoint:
    at: dt.datetime  # the hour's end (HJ 663), local time
    aqi: int
    category: int
    primary: str
    x: float
    y: float


@dataclass(frozen=True)
class DayTick:
    day: dt.date
    x: float


@dataclass(frozen=True)
class HourlyChart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    baseline: float
    bands: list[Band]
    runs: list[str]  # polyline points of each run of consecutive hours
    points: list[HourPoint]
    gaps: list[tuple[float, float]]  # (x, width) of each run of missing hours
    ticks: list[DayTick]
    levels: list[Line]  # the band edges on the axis


@dataclass(frozen=True)
class Hour:
    """One hour's AQI as the chart reads it (``aqi`` None: no valid AQI)."""

    aqi: int | None
    category: int = 0
    primary: str = ""


def hourly_chart(
    hours: Sequence[dt.datetime],
    values: Mapping[dt.datetime, Hour],
    *,
    width: float = 960,
    height: float = 320,
) -> HourlyChart:
    """The hours ``hours`` (consecutive, hour-ending, aware) with the AQI of each in
    ``values`` (an hour missing there, or with ``aqi`` None, is a gap)."""
    left, right, top, bottom = 40.0, width - 10, 10.0, height - 28
    known = [values[h].aqi for h in hours if h in values and values[h].aqi is not None]
    axis = _axis_top(max(known, default=0), 200)
    scale = (bottom - top) / axis
    step = (right - left) / max(len(hours), 1)
    bands = []
    low = 0
    for category, high in zip(CATEGORIES, BAND_TOPS, strict=True):
        if low >= axis:
            break
        shown = min(high, axis)
        y = bottom - shown * scale
        bands.append(Band(category.number, low, high, round(y, 1), round((shown - low) * scale, 1)))
        low = high
    points: list[HourPoint] = []
    runs: list[str] = []
    gaps: list[tuple[float, float]] = []
    run: list[str] = []
    gap_start: int | None = None
    for i, hour in enumerate(hours):
        x = round(left + (i + 0.5) * step, 1)
        value = values.get(hour)
        if value is None or value.aqi is None:
            if run:
                runs.append(" ".join(run))
                run = []
            gap_start = i if gap_start is None else gap_start
            continue
        if gap_start is not None:
            gaps.append((round(left + gap_start * step, 1), round((i - gap_start) * step, 1)))
            gap_start = None
        y = round(bottom - min(value.aqi, axis) * scale, 1)
        local = hour.astimezone(LOCAL_TIME)
        points.append(HourPoint(local, value.aqi, value.category, value.primary, x, y))
        run.append(f"{x},{y}")
    if run:
        runs.append(" ".join(run))
    if gap_start is not None:
        gaps.append((round(left + gap_start * step, 1), round((len(hours) - gap_start) * step, 1)))
    # The hour ending at local midnight is the day's last: the day starts at its slot's end.
    ticks = [
        DayTick(h.astimezone(LOCAL_TIME).date(), round(left + (i + 1) * step, 1))
        for i, h in enumerate(hours[:-1])
        if h.astimezone(LOCAL_TIME).hour == 0
    ]
    levels = [Line(v, round(bottom - v * scale, 1)) for v in (0, *BAND_TOPS) if v <= axis]
    return HourlyChart(
        width, height, left, right, top, bottom, bands, runs, points, gaps, ticks, levels
    )


@dataclass(frozen=True)
class ValueTick:
    value: float
    y: float


@dataclass(frozen=True)
class TimeTick:
    at: dt.datetime  # local time
    x: float


@dataclass(frozen=True)
class SeriesDot:
    at: dt.datetime  # local time, the interval's start
    value: float
    flag: str
    valid: bool
    x: float
    y: float


@dataclass(frozen=True)
class SeriesLine:
    code: str
    index: int  # the line's place (its colour class)
    runs: list[str]  # polyline points of each run without a missing value
    dots: list[SeriesDot]


@dataclass(frozen=True)
class SeriesChart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    baseline: float
    lines: list[SeriesLine]
    allowed: ValueTick | None
    marks: list[tuple[str, float]]  # ("started" | "cleared", x)
    ticks: list[ValueTick]
    times: list[TimeTick]

    @property
    def empty(self) -> bool:
        return not any(line.dots for line in self.lines)


def _first(point: tuple[dt.datetime, str, float | None, str]) -> dt.datetime:
    return point[0]


def _nice_step(span: float) -> float:
    """A round step giving about four ticks over ``span`` (1, 2 or 5 × 10^n)."""
    raw = span / 4 if span > 0 else 1.0
    power = 10 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


#: Data flags shown as valid (``service/hj212/codes.json``). Others are drawn hollow.
NORMAL_FLAGS = codes.VALID_FLAGS


def series_chart(
    points: Sequence[tuple[dt.datetime, str, float | None, str]],
    *,
    allowed: float | None = None,
    valid_flags: frozenset[str] = NORMAL_FLAGS,
    started: dt.datetime | None = None,
    cleared: dt.datetime | None = None,
    width: float = 720,
    height: float = 260,
) -> SeriesChart:
    """Points ``(start of interval, code, value, data flag)`` (aware times; a None value
    breaks its line) against time from the earliest point to the latest, the y axis from 0 to a
    round value above the largest value and ``allowed``."""
    left, right, top, bottom = 48.0, width - 12, 12.0, height - 28
    times = [at for at, _, _, _ in points]
    marked = [m for m in (started, cleared) if m is not None]
    first, last = min(times + marked, default=None), max(times + marked, default=None)
    values = [v for _, _, v, _ in points if v is not None and np.isfinite(v)]
    largest = max([*values, allowed or 0.0, 0.0])
    step = _nice_step(largest * 1.1)
    axis = step * max(1, int(np.ceil(largest * 1.1 / step)))
    span = (last - first).total_seconds() if first and last and last > first else 1.0

    def x_of(at: dt.datetime) -> float:
        return round(left + (at - first).total_seconds() / span * (right - left), 1)  # type: ignore[operator]

    def y_of(value: float) -> float:
        return round(bottom - min(max(value, 0.0), axis) / axis * (bottom - top), 1)

    lines = []
    for index, code in enumerate(dict.fromkeys(code for _, code, _, _ in points)):
        runs, run, dots = [], [], []
        for at, _, value, flag in sorted((p for p in points if p[1] == code), key=_first):
            if value is None or not np.isfinite(value):
                if run:
                    runs.append(" ".join(run))
                run = []
                continue
            x, y = x_of(at), y_of(value)
            local = at.astimezone(LOCAL_TIME)
            dots.append(SeriesDot(local, value, flag, flag in valid_flags, x, y))
            run.append(f"{x},{y}")
        if run:
            runs.append(" ".join(run))
        lines.append(SeriesLine(code, index % 4, runs, dots))
    ticks = [ValueTick(round(step * i, 6), y_of(step * i)) for i in range(int(axis / step) + 1)]
    marks = [(name, x_of(at)) for name, at in (("started", started), ("cleared", cleared)) if at]
    chosen = [first + (last - first) * i / 4 for i in range(5)] if first and last else []
    return SeriesChart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        lines,
        None if allowed is None else ValueTick(allowed, y_of(allowed)),
        marks,
        ticks,
        [TimeTick(at.astimezone(LOCAL_TIME), x_of(at)) for at in chosen],
    )
