"""What a channel is handed: a notice, where it goes, and what came of an attempt.

A :class:`Notice` is one enterprise's change (or one region's alert event) as stored in
``notices``; the delivery worker (:mod:`consumers.delivery`) hands it with a :class:`Target`
(one subscription) to the subscription's :class:`Channel` and records the :class:`Attempt`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from emission_list.i18n import Text

#: The events a subscription can ask for. ``actions.ended`` is the termination notice (the
#: enterprise's warning ended: it may resume production); it goes to every ``actions.changed``
#: subscription. ``alarm.raised``: the compliance check raised (or confirmed) an alarm.
EVENTS = ("actions.changed", "alert.issued", "alert.changed", "alert.ended", "alarm.raised")
NOTICE_EVENTS = (*EVENTS, "actions.ended")
CHANNELS = ("webhook", "sms", "email")

Outcome = Literal["delivered", "retry", "gone", "failed"]


@dataclass(frozen=True)
class AlarmFacts:
    """What an ``alarm.raised`` notice names: the alarm, what was found, on what, since when."""

    alarm_id: int
    kind: str  # one of service.storage.models.ALARM_KINDS
    grade: str  # suspected | confirmed
    subject: str  # the line's name (else its id), the logger's MN or the pollutant code
    started_at: dt.datetime | None = None
    previous_grade: str | None = None  # "suspected": this notice confirms an earlier one


@dataclass(frozen=True)
class Notice:
    """One notice, with everything the texts need in both languages."""

    notice_id: int
    event: str  # one of NOTICE_EVENTS
    created_at: dt.datetime
    region: str  # the enterprise's region, or the alert's
    region_name: Text
    level: str  # none | yellow | orange | red (after the change)
    previous_level: str
    enterprise_id: str | None = None  # None: a region's alert event
    enterprise_name: Text = field(default_factory=dict)
    production_cut: float = 0.0  # fraction 0..1
    reductions_kg_per_day: dict[str, float] = field(default_factory=dict)
    actions: tuple[Text, ...] = ()  # the measures in words
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    #: The language-neutral JSON a webhook receives (``type``, ``timestamp``, ``data``).
    body: dict[str, Any] = field(default_factory=dict)
    #: The signed acknowledgement link (no token needed), for the texts of SMS and email.
    ack_url: str | None = None
    alarm: AlarmFacts | None = None  # an alarm.raised notice's alarm


@dataclass(frozen=True)
class Target:
    """Where one subscription sends: its channel's address, language and signing secret."""

    subscription_id: str
    channel: str  # one of CHANNELS
    address: str  # URL, phone number (E.164) or email address
    language: str  # zh-CN | en
    secret: str | None = None  # a webhook's ``whsec_...`` signing secret


@dataclass(frozen=True)
class Attempt:
    """What one try came to: ``delivered``; ``retry`` (after ``retry_after_s`` if the receiver
    said, else the worker's backoff); ``gone`` (HTTP 410: disable the subscription);
    ``failed`` (permanent, e.g. an address the gateway refuses: the notice is dead)."""

    outcome: Outcome
    status: int | None = None  # HTTP status or SMTP code
    detail: str = ""
    retry_after_s: float | None = None


class Channel(Protocol):
    async def deliver(self, notice: Notice, target: Target, message_id: str) -> Attempt:
        """Send ``notice`` to ``target`` once. ``message_id`` is the same on every retry
        (a webhook's ``webhook-id``). Never raises for what the receiver answered."""
        ...

    async def close(self) -> None: ...


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
