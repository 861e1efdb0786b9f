"""The outcomes of recent forecasts, by ``(region, issued_at)``.

The forecasts consumer remembers what it decided for each forecast; on the in-process bus the
``POST /forecasts`` that published it answers with that outcome once the handler returned.
Only the last :data:`KEPT` are kept (a process does not answer for old forecasts).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from service.services.warnings import Outcome

KEPT = 1024
OutcomeKey = tuple[str, dt.datetime]


class RecentOutcomes:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._outcomes: OrderedDict[OutcomeKey, Outcome] = OrderedDict()

    def remember(self, region: str, issued_at: dt.datetime, outcome: Outcome) -> None:
        self._outcomes[(region, issued_at)] = outcome
        while len(self._outcomes) > self._kept:
            self._outcomes.popitem(last=False)

    def get(self, region: str, issued_at: dt.datetime) -> Outcome | None:
        return self._outcomes.get((region, issued_at))
