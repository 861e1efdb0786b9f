"""Making, listing and ending subscriptions; acknowledging notices; sending dead ones again.

An enterprise subscribes for itself only; an operator for any enterprise on the list or any
region (a region's subscription gets the notices of the enterprises in it and under it, and
its alerts). A target must suit its channel: an http(s) URL for a webhook, a mobile number
for SMS, an address for email. A webhook's signing secret is made here and shown once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import text
from service.errors import HazeError, not_found
from service.notify import webhook
from service.notify.ack_links import AckClaim, ack_nonce
from service.security import Principal
from service.services.notice_messages import message_id
from service.storage.models import Delivery, Notice, Subscription
from service.storage.repositories import notices, subscriptions, utcnow

ALERT_EVENTS = ("alert.issued", "alert.changed", "alert.ended")


def _invalid(field: str, code: str, zh: str, en: str) -> HazeError:
    return HazeError(422, code, text(zh, en), [{"field": field, "message": en}])


def target_problem(channel: str, target: str) -> str | None:
    """Why ``target`` cannot be an address of ``channel`` (None: it can)."""
    if channel == "webhook":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "a webhook target is an http:// or https:// URL"
        return None
    if channel == "sms":
        from service.notify.sms import valid_phone

        return None if valid_phone(target) else "an SMS target is a mobile number (+86…)"
    from service.notify.email import valid_email

    return None if valid_email(target) else "an email target is an address (name@domain)"


def _check_targets(channel: str, target: str, second: str | None) -> None:
    for field, value in (("target", target), ("second_target", second)):
        if value is None:
            continue
        problem = target_problem(channel, value)
        if problem is not None:
            raise _invalid(field, "subscription.target", f"联系方式与渠道不符：{problem}", problem)


def scope_of(
    principal: Principal, enterprise_id: str | None, region: str | None, known: set[str]
) -> tuple[str | None, str | None]:
    """``(enterprise_id, region)`` the subscription may have; ``known`` are the regions."""
    if principal.role == "enterprise":
        if region is not None or enterprise_id not in (None, principal.enterprise_id):
            raise HazeError(
                403,
                "auth.forbidden",
                text(
                    "企业只能订阅本企业的通知", "An enterprise subscribes to its own notices only"
                ),
            )
        return principal.enterprise_id, None
    if (enterprise_id is None) == (region is None):
        raise _invalid(
            "enterprise_id",
            "subscription.scope",
            "请给出企业（enterprise_id）或区域（region）之一",
            "Give one of enterprise_id and region",
        )
    if region is not None and region not in known:
        raise _invalid("region", "region.unknown", f"未知区域 {region}", f"Unknown region {region}")
    return enterprise_id, region


async def create(
    session: AsyncSession,
    principal: Principal,
    *,
    channel: str,
    target: str,
    second_target: str | None,
    enterprise_id: str | None,
    region: str | None,
    language: str,
    events: list[str],
    known_regions: set[str],
) -> Subscription:
    enterprise_id, region = scope_of(principal, enterprise_id, region, known_regions)
    _check_targets(channel, target.strip(), second_target.strip() if second_target else None)
    wanted = sorted(set(events))
    subscription = Subscription(
        id="sub_" + uuid.uuid4().hex[:24],
        enterprise_id=enterprise_id,
        region=region,
        channel=channel,
        target=target.strip(),
        second_target=second_target.strip() if second_target else None,
        language=language,
        events=wanted,
        wants_alerts=any(e in ALERT_EVENTS for e in wanted),
        secret=webhook.new_secret() if channel == "webhook" else None,
        status="active",
        created_by=principal.token_id,
        created_at=utcnow(),
    )
    return await subscriptions.add(session, subscription)


async def visible(
    session: AsyncSession, principal: Principal, subscription_id: str
) -> Subscription:
    """The subscription, if the caller may see it (an enterprise: its own); else 404."""
    found = await subscriptions.get(session, subscription_id)
    if found is None or (
        principal.role == "enterprise" and found.enterprise_id != principal.enterprise_id
    ):
        raise not_found(
            "subscription.not_found",
            f"没有订阅 {subscription_id}",
            f"No subscription {subscription_id}",
        )
    return found


def _no_notice(notice_id: int) -> HazeError:
    return not_found("notice.not_found", f"没有通知 {notice_id}", f"No notice {notice_id}")


async def acknowledge(
    session: AsyncSession, enterprise_id: str, notice_id: int, by: str, now: dt.datetime
) -> Notice:
    """Record that the enterprise read the notice (once; acknowledging again changes
    nothing). Another enterprise's notice, or a region's, answers 404."""
    notice = await notices.get(session, notice_id)
    if notice is None or notice.enterprise_id != enterprise_id:
        raise _no_notice(notice_id)
    if notice.acknowledged_at is None:
        notice.acknowledged_at, notice.acknowledged_by = now, by[:64]
        await session.flush()
    return notice


async def acknowledge_by_link(session: AsyncSession, claim: AckClaim, now: dt.datetime) -> Notice:
    """An acknowledgement through a signed link (:mod:`service.notify.ack_links`): the
    notice must be the enterprise's and the nonce one of its deliveries'; a link is used
    once, the first acknowledgement of the notice (409 ``ack.used`` after)."""
    notice_id = claim.notice_id
    notice = await notices.get(session, notice_id)
    sent = await notices.deliveries_of(session, [notice_id]) if notice is not None else []
    nonces = {ack_nonce(message_id(d)) for d in sent}
    if notice is None or notice.enterprise_id != claim.enterprise_id or claim.nonce not in nonces:
        raise _no_notice(notice_id)
    claimed = await session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by="link")
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise HazeError(
            409,
            "ack.used",
            text(
                "此确认链接已使用过，通知已确认", "This link was used: the notice is acknowledged"
            ),
        )
    await session.refresh(notice)
    return notice


async def resend(session: AsyncSession, delivery_id: int, now: dt.datetime) -> Delivery:
    """Send a dead delivery again, as if new (the same message id; 24 h from now)."""
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise not_found(
            "delivery.not_found", f"没有投递记录 {delivery_id}", f"No delivery {delivery_id}"
        )
    if delivery.status != "dead":
        raise HazeError(
            409,
            "delivery.not_dead",
            text("只能重发已放弃的通知", "Only dead deliveries are sent again"),
            [{"field": "status", "message": delivery.status}],
        )
    delivery.status, delivery.created_at, delivery.next_attempt_at = "pending", now, now
    delivery.lease_until = None
    await session.flush()
    return delivery
