"""A stored notice as its channels see it: the :class:`~service.notify.message.Notice`, the
subscription's :class:`~service.notify.message.Target` and the message id.

The webhook body is ``{"type", "timestamp", "data"}`` (the Standard Webhooks shape): ``type``
the event, ``data`` the notice's stored payload with its id and how to acknowledge it (the
API path, and the signed link when the deployment makes them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row

from service.notify.ack_links import AckLinks, delivery_link
from service.notify.message import AlarmFacts, Notice, Target
from service.storage.models import Delivery, Subscription
from service.storage.models import Notice as NoticeRow


def message_id(delivery: Delivery | Row[Any]) -> str:
    """The same on every try of a delivery (receivers deduplicate on it)."""
    return f"msg_{delivery.id}"


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def ack_url(
    links: AckLinks | None, row: NoticeRow | Row[Any], delivery: Delivery | Row[Any]
) -> str | None:
    """The signed link of a stored notice in this delivery
    (:func:`~service.notify.ack_links.delivery_link`)."""
    mid = message_id(delivery)
    return delivery_link(links, row.id, row.enterprise_id, row.event, row.created_at, mid)


def _alarm_facts(payload: dict[str, Any]) -> AlarmFacts:
    return AlarmFacts(
        alarm_id=int(payload.get("alarm_id") or 0),
        kind=str(payload.get("kind") or ""),
        grade=str(payload.get("grade") or ""),
        subject=str(payload.get("subject_name") or payload.get("subject") or ""),
        started_at=_time(payload.get("started_at")),
        previous_grade=payload.get("previous_grade"),
    )


def notice_of(row: NoticeRow | Row[Any], link: str | None = None) -> Notice:
    """The notice as its channels see it; ``link`` its acknowledgement link, if any."""
    payload = dict(row.payload)
    data = {"notice_id": row.id, "event": row.event, **payload}
    if row.enterprise_id is not None:
        data["acknowledge"] = {
            "api": f"/api/v1/enterprises/{row.enterprise_id}/notices/{row.id}/ack",
            "link": link,
        }
    body = {"type": row.event, "timestamp": row.created_at.isoformat(), "data": data}
    name = payload.get("name") or {}
    return Notice(
        notice_id=row.id,
        event=row.event,
        created_at=row.created_at,
        region=row.region,
        region_name=payload.get("region_name") or {"zh-CN": row.region, "en": row.region},
        level=row.level,
        previous_level=row.previous_level,
        enterprise_id=row.enterprise_id,
        enterprise_name=name,
        production_cut=float(payload.get("production_cut") or 0.0),
        reductions_kg_per_day=dict(payload.get("reductions_kg_per_day") or {}),
        actions=tuple(a["text"] for a in payload.get("actions") or () if isinstance(a, dict)),
        valid_from=_time(payload.get("valid_from") or payload.get("starts_at")),
        valid_until=_time(payload.get("valid_until") or payload.get("ends_at")),
        body=body,
        ack_url=link,
        alarm=_alarm_facts(payload) if row.event == "alarm.raised" else None,
    )


def target_of(delivery: Delivery | Row[Any], subscription: Subscription | Row[Any]) -> Target:
    return Target(
        subscription_id=subscription.id,
        channel=subscription.channel,
        address=delivery.target,
        language=subscription.language,
        secret=subscription.secret,
    )
