"""Chasing the enterprises that have not acknowledged an orange or red notice.

After ``HAZE_ESCALATE_AFTER_MIN`` the notice is sent again to each subscription it went to;
after ``HAZE_ESCALATE_SECOND_AFTER_MIN``, to the subscriptions' second contacts. Only an
enterprise's latest notice is chased (a newer one replaced it), and each step is taken
once: the notice's ``escalation`` is raised in the same statement that picks it, so workers
of several processes never double a step.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.services.notices import delivery_row
from service.storage.models import Delivery, Notice, Subscription
from service.storage.repositories import notices, utcnow

CHASED_LEVELS = ("orange", "red")


async def _take(session: AsyncSession, step: int, made_before: dt.datetime) -> list[int]:
    """Raise to ``step`` the unacknowledged latest orange/red notices made before then."""
    newer = aliased(Notice)
    latest = (
        ~select(newer.id)
        .where(newer.enterprise_id == Notice.enterprise_id, newer.id > Notice.id)
        .exists()
    )
    result = await session.execute(
        update(Notice)
        .where(
            Notice.enterprise_id.is_not(None),
            Notice.event == "actions.changed",
            Notice.level.in_(CHASED_LEVELS),
            Notice.acknowledged_at.is_(None),
            Notice.escalation == step - 1,
            Notice.created_at <= made_before,
            latest,
        )
        .values(escalation=step)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def escalate(
    session: AsyncSession, now: dt.datetime, after: dt.timedelta, second_after: dt.timedelta
) -> int:
    """Take the steps due at ``now``; returns how many deliveries they queued (due at once)."""
    queued = []
    for step, wait in ((1, after), (2, second_after)):
        taken = await _take(session, step, now - wait)
        if not taken:
            continue
        first_sends = await session.execute(
            select(Delivery.notice_id, Delivery.key, Subscription)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(
                Delivery.notice_id.in_(taken),
                Delivery.stage == 0,
                Subscription.status == "active",
            )
        )
        for notice_id, key, subscription in first_sends:
            target = subscription.target if step == 1 else subscription.second_target
            if target:
                queued.append(delivery_row(notice_id, subscription, key, target, step, utcnow()))
    await notices.add_deliveries(session, queued)
    return len(queued)
