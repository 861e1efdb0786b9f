"""The one convention for instants in answers: ISO 8601 in the bureau's local time,
Asia/Shanghai, written with its offset (``2026-12-07T00:00:00+08:00``).

Every date of the API (forecast days, a list's ``effective_from``, a day's AQI) is a local
date, and warnings start and end on local hours, so instants in the same offset line up with
them (``valid_until`` at local midnight reads as midnight). China keeps one zone without
daylight saving, so the offset is always +08:00. Requests may use any offset. See
docs/service-design.md, "Times".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import PlainSerializer

from emission_list.breakpoints import LOCAL_TIME


def local_iso(moment: dt.datetime) -> str:
    """``moment`` in Asia/Shanghai as ISO 8601 with offset (a naive value is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIME).isoformat()


#: An instant as answered: see :func:`local_iso`.
LocalInstant = Annotated[dt.datetime, PlainSerializer(local_iso, return_type=str, when_used="json")]
