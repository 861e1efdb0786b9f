"""Checks of a forecast, the same in the API (422 before it is queued) and the forecasts
consumer (dead-lettered: ``haze.forecasts`` takes records from other producers too).

A forecast is refused when its ``issued_at`` is before :data:`EARLIEST_ISSUED_AT` or more
than the tolerance in the future, when it has more than :data:`MAX_FORECAST_DAYS` days, when
its days are not consecutive, or when its first day is before the local issue date
(Asia/Shanghai). Each problem has its own code.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from emission_list.i18n import Text, text
from emission_list.warnings import local_zone
from service.api.schemas.alerts import ForecastIn

#: Days a forecast may cover (the national system issues up to 10; 15 with a margin).
MAX_FORECAST_DAYS = 15
#: No forecast was issued before this.
EARLIEST_ISSUED_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ForecastProblem:
    code: str
    field: str
    message: Text

    def detail(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message["en"]}


def forecast_problems(
    forecast: ForecastIn, now: dt.datetime, tolerance: dt.timedelta
) -> list[ForecastProblem]:
    """Every problem of ``forecast`` (empty: it can be decided)."""
    problems: list[ForecastProblem] = []
    issue_day: dt.date | None = None
    try:
        issued = forecast.issued_at.astimezone(dt.UTC)
        issue_day = forecast.issued_at.astimezone(local_zone()).date()
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        issued = None
    if issued is None or issued < EARLIEST_ISSUED_AT:
        problems.append(
            ForecastProblem(
                "forecast.issued_at.too_early",
                "issued_at",
                text(
                    f"发布时间早于 {EARLIEST_ISSUED_AT.date()}",
                    f"issued_at is before {EARLIEST_ISSUED_AT.date()}",
                ),
            )
        )
        issue_day = None
    elif issued > now + tolerance:
        problems.append(
            ForecastProblem(
                "forecast.future",
                "issued_at",
                text("发布时间晚于当前时间", "issued_at is in the future"),
            )
        )
    days = forecast.daily
    if len(days) > MAX_FORECAST_DAYS:
        problems.append(
            ForecastProblem(
                "forecast.too_many_days",
                "daily",
                text(
                    f"预报天数 {len(days)} 超过上限 {MAX_FORECAST_DAYS}",
                    f"{len(days)} forecast days: at most {MAX_FORECAST_DAYS}",
                ),
            )
        )
    gaps = [(a.date, b.date) for a, b in itertools.pairwise(days) if b.date - a.date != _DAY]
    if gaps:
        a, b = gaps[0]
        problems.append(
            ForecastProblem(
                "forecast.days_not_consecutive",
                "daily",
                text(
                    f"预报日期不连续：{a} 之后是 {b}",
                    f"forecast days are not consecutive: {a} then {b}",
                ),
            )
        )
    if issue_day is not None and days and days[0].date < issue_day:
        first = days[0].date
        problems.append(
            ForecastProblem(
                "forecast.starts_before_issue",
                "daily.0.date",
                text(
                    f"预报首日 {first} 早于发布日 {issue_day}（当地时间）",
                    f"the first forecast day {first} is before the local issue date {issue_day}",
                ),
            )
        )
    return problems


_DAY = dt.timedelta(days=1)
