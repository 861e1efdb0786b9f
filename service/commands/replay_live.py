"""``haze replay kundulun --url ...``: push the sample episode through a running service.

The episode (2026-12-01 to 12-14) is moved in time, in whole days, so that its day ``--day``
(default 7, the peak: orange/red in force) is today. Its hourly readings of the hours before
the current one are posted in batches as the stations would (a reading already posted for
the current hour, as in the README's walkthrough, is left alone), and its forecasts issued up
to now are posted in issue order as the forecasters would; each forecast's decision is
printed in words as the service answers it. At the end come the alerts in force and what
one enterprise must do.
Everything goes through the public API with an operator token: nothing is written to the
database directly.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import httpx

from emission_list.samples import kundulun_episode, kundulun_list
from emission_list.warnings import Forecast

BATCH_ROWS = 500
_LOCAL = dt.timezone(dt.timedelta(hours=8))


class ReplayError(RuntimeError):
    pass


def _shifted_readings(shift: dt.timedelta, until: dt.datetime) -> Iterator[dict[str, Any]]:
    episode = kundulun_episode()
    for row in episode.readings.rows():
        at = dt.datetime.fromisoformat(row["observed_at"]) + shift
        if at <= until:
            yield row | {"observed_at": at.isoformat()}


def _shifted_forecast(forecast: Forecast, shift: dt.timedelta) -> dict[str, Any]:
    return {
        "region": forecast.region,
        "issued_at": (forecast.issued_at + shift).isoformat(),
        "daily": [
            {"date": (d.date + shift).isoformat(), "aqi": d.aqi, "driver": str(d.driver)}
            for d in forecast.days
        ],
    }


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            detail = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            detail = response.text[:200]
        raise ReplayError(f"{response.request.method} {response.request.url.path}: {detail}")
    return response.json()


def replay(
    client: httpx.Client,
    *,
    day: int = 7,
    language: str = "en",
    now: dt.datetime | None = None,
    out: TextIO | None = None,
) -> dict[str, int]:
    """Push the shifted episode through the service behind ``client``; counts of what went."""
    out = out or sys.stdout
    episode = kundulun_episode()
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(_LOCAL).date()
    shift = dt.timedelta(days=(today - (episode.start + dt.timedelta(days=day - 1))).days)
    print(
        f"Episode {episode.start}..{episode.end} moved by {shift.days} days: "
        f"day {day} is today ({today}).",
        file=out,
    )
    current_hour = now.astimezone(_LOCAL).replace(minute=0, second=0, microsecond=0)
    until = current_hour - dt.timedelta(hours=1)
    print(
        f"Readings of the hours up to {until:%Y-%m-%d %H:00} (+08:00), not the current hour; "
        "forecasts issued up to now.",
        file=out,
    )
    counts = {"readings_accepted": 0, "readings_rejected": 0, "forecasts": 0}
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            answer = _check(client.post("/api/v1/readings", json=batch))
            counts["readings_accepted"] += answer["accepted"]
            counts["readings_rejected"] += len(answer["rejected"])
            batch.clear()

    forecasts = sorted(episode.forecasts, key=lambda f: f.issued_at)
    pending = [f for f in forecasts if f.issued_at + shift <= now]
    for row in _shifted_readings(shift, until):
        at = dt.datetime.fromisoformat(row["observed_at"])
        while pending and pending[0].issued_at + shift <= at:
            flush()
            _post_forecast(client, _shifted_forecast(pending.pop(0), shift), counts, out)
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            flush()
    flush()
    for forecast in pending:
        _post_forecast(client, _shifted_forecast(forecast, shift), counts, out)
    print(
        f"Readings: {counts['readings_accepted']} accepted, "
        f"{counts['readings_rejected']} rejected; forecasts: {counts['forecasts']}.",
        file=out,
    )
    _summary(client, language, out)
    return counts


_EVENTS = {
    "issue": "issues the {level} warning",
    "upgrade": "raises the warning to {level}",
    "downgrade": "lowers the warning to {level}",
    "lift": "lifts the warning",
    "hold": "keeps the {level} warning",
    "propose": "proposes lifting the warning (an operator approves it)",
    "approve": "lifting approved",
    "expire": "the warning expires",
}


def describe(body: dict[str, Any], answer: dict[str, Any]) -> str:
    """One line in words: the forecast, what it decided, what that does to enterprises."""
    days = body["daily"]
    issued = dt.datetime.fromisoformat(body["issued_at"]).astimezone(_LOCAL)
    head = (
        f"{issued:%m-%d %H:%M} forecast for {body['region']} "
        f"({days[0]['date'][5:]}..{days[-1]['date'][5:]}, peak AQI {max(d['aqi'] for d in days)})"
    )
    if answer.get("status") == "queued":
        return f"{head}: queued for a consumer to decide"
    if answer.get("duplicate"):
        return f"{head}: already applied before, nothing changes"
    decided = answer.get("level", "?")
    level = (answer.get("alert") or {}).get("level") or "none"  # the region's, afterwards
    done = [_EVENTS.get(e["kind"], e["kind"]).format(level=level) for e in answer["events"]]
    if not done and decided == level:
        done = ["no warning" if level == "none" else f"already at {level}, no change"]
    elif not done:
        said = "no warning" if decided == "none" else decided
        done = [f"decides {said}, but the {level} warning in force stays"]
    changed = answer.get("enterprises_changed", 0)
    effect = (
        "nothing changes for enterprises"
        if changed == 0
        else f"{changed} enterprise{'s' if changed != 1 else ''} must change what they do"
    )
    return f"{head}: {'; '.join(done)}; {effect}"


def _post_forecast(
    client: httpx.Client, body: dict[str, Any], counts: dict[str, int], out: TextIO
) -> None:
    answer = _check(client.post("/api/v1/forecasts", json=body))
    counts["forecasts"] += 1
    print(f"  {describe(body, answer)}", file=out)


def _summary(client: httpx.Client, language: str, out: TextIO) -> None:
    active = _check(client.get("/api/v1/alerts/active", params={"limit": 1000}))["items"]
    print("Alerts in force or scheduled:", file=out)
    for alert in active:
        print(
            f"  {alert['region']}: {alert['level']} ({alert['response']}, {alert['source']}) "
            f"{alert['starts_at'][:16]} .. {alert['ends_at'][:16]}",
            file=out,
        )
    if not active:
        print("  none", file=out)
    enterprise = kundulun_list().entries[0].enterprise_id
    actions = _check(client.get(f"/api/v1/enterprises/{enterprise}/actions"))
    print(
        f"Enterprise {enterprise}: level {actions['level']}, production cut "
        f"{actions['production_cut']:.0%}, reductions {actions['reductions_kg_per_day']} kg/day",
        file=out,
    )
    for action in actions["actions"]:
        print(f"  - {action['text']}", file=out)


def main(url: str, token: str, *, day: int = 7, language: str = "en") -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        try:
            replay(client, day=day, language=language)
        except httpx.TransportError as exc:
            print(f"haze replay: cannot reach {url}: {exc}", file=sys.stderr)
            return 2
        except ReplayError as exc:
            print(f"haze replay: {exc}", file=sys.stderr)
            return 1
    return 0
