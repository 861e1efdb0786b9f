"""``haze replay``: the sample Kundulun winter episode through the domain core, as a timeline.

Observed daily AQI comes from the sample stations' hourly readings; warnings come from the
sample forecasts through the national rules and the alert lifecycle; what the list requires
comes from the evaluator run at each day's highest level in force.
"""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from emission_list import aqi, averages
from emission_list.breakpoints import get_table
from emission_list.catalog import default_catalog
from emission_list.compiler import compile_revision
from emission_list.evaluator import Evaluator
from emission_list.i18n import pick
from emission_list.levels import Level
from emission_list.lifecycle import AlertEvent, RegionAlertState, apply_forecast, own_levels
from emission_list.regions import STATE_LEVEL
from emission_list.samples import (
    KUNDULUN,
    Episode,
    kundulun_episode,
    kundulun_list,
    kundulun_region_tree,
    kundulun_regions,
    kundulun_stations,
)
from emission_list.warnings import decide, national_rules

_LOCAL = dt.timezone(dt.timedelta(hours=8))
_LABEL = 32  # width of the region column of the level matrix
_SYMBOL = {Level.NONE: "·", Level.YELLOW: "Y", Level.ORANGE: "O", Level.RED: "R"}
_HEADINGS = {
    "events": {"zh-CN": "预警事件", "en": "Warning events"},
    "levels": {
        "zh-CN": "各区域每日最高预警级别",
        "en": "Highest level in force per region and day",
    },
    "days": {
        "zh-CN": "逐日时间线（昆都仑区；实测日AQI；减排量 kg/日）",
        "en": "Day by day (Kundulun District; observed daily AQI; reductions in kg/day)",
    },
    "legend": {
        "zh-CN": "· 无  Y 黄色  O 橙色  R 红色",
        "en": "· none  Y yellow  O orange  R red",
    },
    "columns": {
        "zh-CN": "日期         AQI 类别 级别    企业数     SO2     NOx      PM    VOCs  缺口",
        "en": "date         AQI cat  level   firms      SO2     NOx      PM    VOCs  short",
    },
}


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    observed_aqi: float
    category: int
    level: Level
    affected: int
    reductions: np.ndarray  # (4,) kg/day in Kundulun
    shortfall: bool


def observed_daily_aqi(episode: Episode, station_ids: list[str], days: list[dt.date]) -> np.ndarray:
    """Daily AQI of the mean concentrations over the given stations, one value per day."""
    readings = episode.readings
    wanted = np.isin(np.asarray(readings.station_ids)[readings.station_index], station_ids)
    local = readings.observed_at[wanted] + np.timedelta64(8, "h") - np.timedelta64(1, "h")
    day = local.astype("datetime64[D]")
    hour = ((local - day) // np.timedelta64(1, "h")).astype(np.intp)
    day_index = (day - np.datetime64(days[0])).astype(np.intp)
    station = np.unique(readings.station_index[wanted], return_inverse=True)[1]
    inside = (day_index >= 0) & (day_index < len(days))
    n_stations = int(station.max()) + 1 if len(station) else 0

    def cube(values: np.ndarray) -> np.ndarray:
        out = np.full((n_stations, len(days), 24), np.nan)
        out[station[inside], day_index[inside], hour[inside]] = values[wanted][inside]
        return out

    columns = {}
    for pollutant in ("so2", "no2", "co", "pm10", "pm25"):
        columns[f"{pollutant}_24h"] = np.nanmean(
            averages.daily_mean(cube(getattr(readings, pollutant))), axis=0
        )
    o3 = cube(readings.o3)
    columns["o3_8h"] = np.nanmean(averages.o3_daily_max_8h(o3), axis=0)
    return aqi.evaluate_columns(columns, episode.aqi_edition).aqi


class EpisodeClock:
    """Applies the episode's forecasts in issue order as time moves forward."""

    def __init__(self, episode: Episode) -> None:
        self._pending = list(episode.forecasts)
        self._rules = national_rules()
        self.states: dict[str, RegionAlertState] = {}
        self.events: list[AlertEvent] = []

    def advance(self, until: dt.datetime) -> None:
        """Apply every forecast issued at or before ``until``."""
        while self._pending and self._pending[0].issued_at <= until:
            forecast = self._pending.pop(0)
            state = self.states.get(forecast.region, RegionAlertState(region=forecast.region))
            state, new_events = apply_forecast(state, decide(forecast, self._rules), forecast)
            self.states[forecast.region] = state
            self.events.extend(new_events)


def main(language: str = "en", width: int = 100, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    episode = kundulun_episode()
    tree = kundulun_region_tree()
    revision = kundulun_list()
    evaluator = Evaluator(compile_revision(revision, default_catalog(), tree))
    names = {r.region_id: pick(r.name, language) for r in kundulun_regions()}
    days = [
        episode.start + dt.timedelta(days=i) for i in range((episode.end - episode.start).days + 1)
    ]
    in_kundulun = set(tree.subtree(KUNDULUN))
    stations = [s.station_id for s in kundulun_stations() if s.region in in_kundulun]
    observed = observed_daily_aqi(episode, stations, days)

    clock = EpisodeClock(episode)
    kundulun = tree.index[KUNDULUN]
    day_state = np.zeros((len(days), len(tree)), dtype=np.int8)
    rows: list[DayRow] = []
    for i, day in enumerate(days):
        start = dt.datetime.combine(day, dt.time(), _LOCAL)
        own = np.zeros(len(tree), dtype=np.int8)
        for hour in range(24):
            at = start + dt.timedelta(hours=hour, minutes=59)
            clock.advance(at)
            np.maximum(own, own_levels(tree, clock.states, at), out=own)
        evaluator.update(own)
        day_state[i] = evaluator.region_state
        report = evaluator.region_report()
        under = evaluator.compiled.rows_under(kundulun)
        rows.append(
            DayRow(
                day=day,
                observed_aqi=float(observed[i]),
                category=int(aqi.category_of(observed[i : i + 1])[0]),
                level=Level(int(report.level[kundulun])),
                affected=int(np.count_nonzero(evaluator.reductions[under].sum(axis=1) > 0)),
                reductions=report.required[kundulun],
                shortfall=bool(report.shortfall[kundulun].sum() > 0),
            )
        )

    print(f"{pick(episode.name, language)} — {days[0]} … {days[-1]}", file=out)
    print(
        f"{pick({'zh-CN': '清单', 'en': 'List'}, language)} r{revision.number}: "
        f"{len(revision.entries)} {pick({'zh-CN': '家企业', 'en': 'enterprises'}, language)}; "
        f"AQI: {get_table(episode.aqi_edition).name}",
        file=out,
    )
    print(f"\n{pick(_HEADINGS['events'], language)}", file=out)
    for event in clock.events:
        when = event.at.astimezone(_LOCAL).strftime("%m-%d %H:%M")
        head = f"  {when}  {names[event.region]}  {event.kind}: "
        print(
            textwrap.fill(
                pick(event.reason, language),
                width=width,
                initial_indent=head,
                subsequent_indent=" " * 15,
                break_on_hyphens=False,
            ),
            file=out,
        )

    print(
        f"\n{pick(_HEADINGS['levels'], language)}   ({pick(_HEADINGS['legend'], language)})",
        file=out,
    )
    print(" " * (_LABEL + 1) + " ".join(f"{d.day:02d}" for d in days), file=out)
    for r in range(len(tree)):
        label = ("  " * int(tree.depth[r]) + names[tree.ids[r]])[:_LABEL]
        cells = "  ".join(_SYMBOL[Level(int(STATE_LEVEL[c]))] for c in day_state[:, r])
        print(f"{label:<{_LABEL}} {cells}", file=out)

    print(f"\n{pick(_HEADINGS['days'], language)}", file=out)
    print(pick(_HEADINGS["columns"], language), file=out)
    for row in rows:
        so2, nox, pm, vocs = row.reductions
        print(
            f"{row.day}  {row.observed_aqi:4.0f} {row.category:3d}  {row.level.label:<7} "
            f"{row.affected:5d} {so2:8.0f}{nox:8.0f}{pm:8.0f}{vocs:8.0f}  "
            f"{'!' if row.shortfall else '-'}",
            file=out,
        )
    return 0
