"""Warning decisions from a region's daily AQI forecast, with the criteria held as data.

The criteria are a :class:`RuleSet` (:mod:`emission_list.warning_rules`: when a rule fires);
the texts come from :mod:`emission_list.warning_texts`. Both are re-exported here. The highest
level with a firing rule wins; among the firing rules of that level the one whose run starts
first (then the longer run, then the rule listed first) names the decision, so the warning
covers the episode from its first bad day.

The response follows what drives the episode over the run's days: any PM2.5-driven day gives
the full response (enterprise emissions feed PM2.5, so a dust day mixed with PM2.5 days does
not excuse the list); else any O3-driven day gives the O3 response (VOC and NOx measures
only); else (dust, wildfire, transport from outside) health advice only.

References
----------
环大气〔2024〕6号, heavy-pollution warning levels (yellow, orange, red over forecast daily AQI).
HJ 633, AQI categories (AQI ≤ 150: lightly polluted or better).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from emission_list.i18n import LANGUAGES, Text, pick
from emission_list.levels import Driver, Level, Response
from emission_list.regions import RegionTree
from emission_list.warning_rules import (
    Rule,
    RuleBook,
    RuleMatch,
    RuleSet,
    national_rules,
    shipped_rule_sets,
)
from emission_list.warning_texts import (
    LOCAL_TIMEZONE,
    join_texts,
    level_name,
    local_midnight,
    local_zone,
    message,
)

__all__ = [
    "LOCAL_TIMEZONE",
    "Decision",
    "Forecast",
    "ForecastDay",
    "Rule",
    "RuleBook",
    "RuleMatch",
    "RuleSet",
    "decide",
    "join_texts",
    "level_name",
    "lightly_polluted_or_better_hours",
    "local_midnight",
    "local_zone",
    "message",
    "national_rules",
    "observed_exceedance",
    "response_for",
    "shipped_rule_sets",
]


# --------------------------------------------------------------------------- forecasts


@dataclass(frozen=True)
class ForecastDay:
    """One forecast day: its local date, daily AQI and what drives it."""

    date: dt.date
    aqi: int
    driver: Driver = Driver.PM25

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise ValueError(f"forecast day needs a date, got {self.date!r}")
        if isinstance(self.aqi, bool) or not isinstance(self.aqi, int | np.integer):
            raise ValueError(f"forecast AQI must be an integer, got {self.aqi!r}")
        if self.aqi < 0:
            raise ValueError(f"forecast AQI must be non-negative, got {self.aqi}")
        object.__setattr__(self, "aqi", int(self.aqi))
        object.__setattr__(self, "driver", Driver(self.driver))


@dataclass(frozen=True)
class Forecast:
    """A region's daily AQI forecast as issued.

    Parameters
    ----------
    region
        Region id (administrative division code).
    issued_at
        Issue time, timezone-aware.
    days
        Consecutive local days, strictly increasing; the first may be the local issue date,
        none may precede it.
    """

    region: str
    issued_at: dt.datetime
    days: tuple[ForecastDay, ...]

    def __post_init__(self) -> None:
        days = tuple(self.days)
        object.__setattr__(self, "days", days)
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("forecast issued_at must be timezone-aware")
        if not days:
            raise ValueError("a forecast needs at least one day")
        for a, b in itertools.pairwise(days):
            if b.date - a.date != dt.timedelta(days=1):
                raise ValueError(f"forecast days must be consecutive: {a.date} then {b.date}")
        issue_day = self.issued_at.astimezone(local_zone(LOCAL_TIMEZONE)).date()
        if days[0].date < issue_day:
            raise ValueError(
                f"forecast starts on {days[0].date}, before its issue date {issue_day}"
            )

    @classmethod
    def from_values(
        cls,
        region: str,
        issued_at: dt.datetime,
        first_date: dt.date,
        aqi: Sequence[int],
        drivers: Sequence[Driver | str] | Driver | str = Driver.PM25,
    ) -> Forecast:
        """Build a forecast from a first date and daily AQI values (one driver or one per day)."""
        if isinstance(drivers, str):
            drivers = [drivers] * len(aqi)
        if len(drivers) != len(aqi):
            raise ValueError("one driver per forecast day")
        return cls(
            region,
            issued_at,
            tuple(
                ForecastDay(first_date + dt.timedelta(days=i), int(a), Driver(d))
                for i, (a, d) in enumerate(zip(aqi, drivers, strict=True))
            ),
        )

    @property
    def aqi(self) -> np.ndarray:
        """Daily AQI per forecast day, int64."""
        return np.array([d.aqi for d in self.days], dtype=np.int64)

    @property
    def dates(self) -> tuple[dt.date, ...]:
        return tuple(d.date for d in self.days)


# --------------------------------------------------------------------------- decisions


def response_for(drivers: Iterable[Driver | str]) -> Response:
    """Response ordered for an episode with these day drivers (PM2.5 > O3 > advice only)."""
    found = {Driver(d) for d in drivers}
    if Driver.PM25 in found:
        return Response.FULL
    if Driver.O3 in found:
        return Response.O3
    return Response.ADVISORY


@dataclass(frozen=True)
class Decision:
    """The level a forecast calls for, the rule that fired and the days that made it.

    ``response``, ``rule_id``, ``driver``, ``run_start`` and ``run_end`` are None and ``days``
    is empty when the level is NONE. ``matches`` lists every firing rule (any level).
    """

    region: str
    issued_at: dt.datetime
    rule_set: str
    level: Level
    response: Response | None
    rule_id: str | None
    days: tuple[dt.date, ...]
    driver: Driver | None
    reason: Text
    run_start: dt.date | None = None
    run_end: dt.date | None = None
    matches: tuple[RuleMatch, ...] = ()


def _span(start: dt.date, end: dt.date) -> dict[str, str]:
    if start == end:
        return message("span.one", start=start.isoformat())
    return message("span.many", start=start.isoformat(), end=end.isoformat())


def _enumerate(parts: Iterable[Text]) -> dict[str, str]:
    """Join texts into a list (、 in Chinese, commas in English)."""
    parts, sep = list(parts), message("list.sep")
    return {lang: pick(sep, lang).join(pick(p, lang) for p in parts) for lang in LANGUAGES}


def _day_list(days: Sequence[ForecastDay]) -> dict[str, str]:
    return _enumerate(
        message(
            "forecast.day", date=d.date.isoformat(), aqi=d.aqi, driver=message(f"driver.{d.driver}")
        )
        for d in days
    )


def decide(forecast: Forecast, rules: RuleSet) -> Decision:
    """Decide the warning level a forecast calls for under a rule set.

    Parameters
    ----------
    forecast
        The region's daily AQI forecast.
    rules
        Criteria in force for the region (see :meth:`RuleBook.for_region`).

    Returns
    -------
    Decision
        Highest level with a firing rule, the rule, the run's dates, the driver and the
        response, and a bilingual reason naming the rule and each day's AQI.

    References
    ----------
    环大气〔2024〕6号, warning levels over forecast daily AQI.
    """
    aqi = forecast.aqi
    matches = rules.matches(aqi)
    if not matches:
        peak = int(np.argmax(aqi))
        return Decision(
            region=forecast.region,
            issued_at=forecast.issued_at,
            rule_set=rules.name,
            level=Level.NONE,
            response=None,
            rule_id=None,
            days=(),
            driver=None,
            reason=message(
                "decision.none",
                span=_span(forecast.days[0].date, forecast.days[-1].date),
                rule_set=rules.name,
                max_aqi=int(aqi[peak]),
                max_date=forecast.days[peak].date.isoformat(),
            ),
            matches=(),
        )
    top = max(m.rule.level for m in matches)
    best = min(
        (m for m in matches if m.rule.level == top), key=lambda m: (m.start, m.start - m.end)
    )
    rule, run = best.rule, forecast.days[best.start : best.end]
    response = response_for(d.driver for d in run)
    if response is Response.FULL:
        driver = Driver.PM25
    elif response is Response.O3:
        driver = Driver.O3
    else:  # the driver of the worst day of the run (earliest on ties)
        driver = run[int(np.argmax(aqi[best.start : best.end]))].driver
    drivers = dict.fromkeys(
        d.driver for d in run if response is Response.ADVISORY or d.driver is driver
    )
    drivers_text = _enumerate(message(f"driver.{d}") for d in drivers)
    peak_text: Text = {}
    if rule.peak_above is not None:
        n_peak = sum(d.aqi > rule.peak_above for d in run)
        peak_text = message("decision.peak", n=n_peak, peak_above=rule.peak_above)
    rule_id = f"{rules.name}/{rule.id}"
    reason = message(
        "decision.fired",
        Level=level_name(top, capital=True),
        span=_span(run[0].date, run[-1].date),
        above=rule.aqi_above,
        hours=24 * len(run),
        peak=peak_text or {lang: "" for lang in LANGUAGES},
        days=_day_list(run),
        rule_id=rule_id,
        rule=rule.description,
        response=message(f"response.{response}", drivers=drivers_text),
    )
    return Decision(
        region=forecast.region,
        issued_at=forecast.issued_at,
        rule_set=rules.name,
        level=top,
        response=response,
        rule_id=rule_id,
        days=tuple(d.date for d in run),
        driver=driver,
        reason=reason,
        run_start=run[0].date,
        run_end=run[-1].date,
        matches=tuple(matches),
    )


def lightly_polluted_or_better_hours(
    forecast: Forecast,
    at: dt.datetime,
    *,
    max_aqi: int = 150,
    timezone: str = LOCAL_TIMEZONE,
) -> float:
    """Forecast hours from ``at`` with daily AQI ≤ ``max_aqi`` without a break [h].

    The run starts at the local day containing ``at`` and counts from ``at``; when the
    forecast begins on a later day, it starts at that day's local midnight (hours before it
    are not forecast, so they do not count). It ends at the end of the last consecutive
    forecast day with AQI ≤ ``max_aqi``. Zero when that first day is worse, or when ``at``
    lies after the forecast.

    References
    ----------
    HJ 633, AQI categories: ≤ 150 is lightly polluted or better.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    day = at.astimezone(local_zone(timezone)).date()
    first = forecast.days[0].date
    start = max((day - first).days, 0)
    clean = forecast.aqi <= max_aqi
    if start >= len(clean) or not clean[start]:
        return 0.0
    dirty_after = np.flatnonzero(~clean[start:])
    last = start + (int(dirty_after[0]) if len(dirty_after) else len(clean) - start) - 1
    end_time = local_midnight(forecast.days[last].date + dt.timedelta(days=1), timezone)
    from_time = max(at, local_midnight(forecast.days[start].date, timezone))
    return (end_time - from_time).total_seconds() / 3600.0


def observed_exceedance(
    aqi_by_region: np.ndarray,
    own_level_codes: np.ndarray,
    threshold: float = 200,
    tree: RegionTree | None = None,
) -> np.ndarray:
    """Regions whose observed AQI exceeds ``threshold`` with no warning in force (missed forecast).

    Parameters
    ----------
    aqi_by_region
        Observed AQI per region, NaN where unknown (never flagged).
    own_level_codes
        State (or level) codes per region, 0 for no warning. With ``tree`` (a
        :class:`~emission_list.regions.RegionTree`, arrays in its preorder) these are each
        region's own codes and an ancestor's warning counts as in force; without it the codes
        are taken as the ones in force.
    threshold
        AQI that must be exceeded; 200 is the top of "moderately polluted" (HJ 633).

    Returns
    -------
    numpy.ndarray
        Boolean mask, same shape as ``aqi_by_region``.
    """
    aqi = np.asarray(aqi_by_region, dtype=float)
    codes = np.asarray(own_level_codes)
    if tree is not None:
        codes = tree.effective_states(codes)
    with np.errstate(invalid="ignore"):
        return (aqi > threshold) & (codes == 0)
