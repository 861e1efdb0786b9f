"""What the console's notice pages show: the enterprises still to acknowledge an orange or
red notice, the dead deliveries, and an enterprise's own notices and subscriptions.

Each function reads one page's rows with a fixed number of queries (a page of notices, then
all their deliveries at once), whatever the number of notices stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text, text
from service.storage.models import Delivery, Notice, Subscription
from service.storage.repositories import deliveries as delivery_store
from service.storage.repositories import notices as notice_store
from service.storage.repositories import subscriptions as subscription_store
from service.storage.repositories.notices import NoticeFilter

#: The levels whose notices an enterprise must acknowledge (and is chased for).
CHASED_LEVELS = ("orange", "red")
CHANNELS = ("webhook", "sms", "email")
LANGUAGES = ("zh-CN", "en")
PAGE_SIZE = 50
RECENT_NOTICES = 10
SUBSCRIPTIONS_SHOWN = 100


@dataclass(frozen=True)
class ChannelState:
    """A notice's deliveries on one channel: how many are in each status."""

    channel: str
    statuses: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    channels: tuple[ChannelState, ...]

    @property
    def name(self) -> Text:
        found = self.notice.payload.get("name") or {}
        fallback = self.notice.enterprise_id or self.notice.region
        return {"zh-CN": found.get("zh-CN") or fallback, "en": found.get("en") or fallback}


@dataclass(frozen=True)
class WaitingRow(NoticeRow):
    waited: dt.timedelta = dt.timedelta()

    @property
    def hours_minutes(self) -> tuple[int, int]:
        minutes = int(self.waited.total_seconds() // 60)
        return divmod(minutes, 60)


def channel_states(sent: Sequence[tuple[Delivery, str]]) -> dict[int, tuple[ChannelState, ...]]:
    """Per notice id, its deliveries counted by channel (in CHANNELS order) and status."""
    counted: dict[int, dict[str, Counter[str]]] = {}
    for delivery, channel in sent:
        counted.setdefault(delivery.notice_id, {}).setdefault(channel, Counter())[
            delivery.status
        ] += 1
    return {
        notice_id: tuple(
            ChannelState(channel, tuple(sorted(by_channel[channel].items())))
            for channel in CHANNELS
            if channel in by_channel
        )
        for notice_id, by_channel in counted.items()
    }


async def _rows(session: AsyncSession, found: Sequence[Notice]) -> dict[int, tuple]:
    sent = await notice_store.deliveries_by_channel(session, [n.id for n in found])
    return channel_states(sent)


@dataclass(frozen=True)
class WaitingPage:
    rows: list[WaitingRow]
    next_cursor: str | None


async def waiting(
    session: AsyncSession,
    levels: Sequence[str],
    longer_than_min: int,
    cursor: int | None,
    now: dt.datetime,
) -> WaitingPage:
    """Enterprises whose current notice at ``levels`` is unacknowledged after
    ``longer_than_min`` minutes, the longest waiting first."""
    before = now - dt.timedelta(minutes=longer_than_min)
    found, next_cursor = await notice_store.waiting(session, levels, before, PAGE_SIZE, cursor)
    states = await _rows(session, found)
    rows = [WaitingRow(n, states.get(n.id, ()), now - n.created_at) for n in found]
    return WaitingPage(rows, next_cursor)


async def dead(
    session: AsyncSession, cursor: str | None
) -> tuple[list[delivery_store.DeadDelivery], str | None]:
    after = delivery_store.parse_dead_cursor(cursor) if cursor else None
    return await delivery_store.dead_page(session, PAGE_SIZE, after)


@dataclass
class SubscriptionForm:
    """The add-a-subscription form as typed, with a problem beside the field it concerns."""

    channel: str = "webhook"
    target: str = ""
    language: str = "zh-CN"
    problems: dict[str, Text] = field(default_factory=dict)

    def check(self) -> bool:
        """Record the problems the service would not name by field; True when none."""
        if self.channel not in CHANNELS:
            self.problems["channel"] = text("请选择通知渠道", "Choose a channel")
        if not self.target:
            self.problems["target"] = text("请填写联系方式", "Give where the notices go")
        elif len(self.target) > 500 or "\x00" in self.target:
            self.problems["target"] = text(
                "联系方式过长或含有无效字符", "The target is too long or holds an invalid character"
            )
        if self.language not in LANGUAGES:
            self.problems["language"] = text("请选择语言", "Choose a language")
        return not self.problems


@dataclass(frozen=True)
class EnterpriseNotices:
    """An enterprise's notices section: its latest notice, its recent ones, where they go."""

    latest: NoticeRow | None
    recent: list[NoticeRow]
    subscriptions: list[Subscription]
    form: SubscriptionForm


async def of_enterprise(
    session: AsyncSession, enterprise_id: str, form: SubscriptionForm | None = None
) -> EnterpriseNotices:
    found, _ = await notice_store.page(
        session, NoticeFilter(enterprise_id=enterprise_id), RECENT_NOTICES, None
    )
    states = await _rows(session, found)
    recent = [NoticeRow(n, states.get(n.id, ())) for n in found]
    subscribed, _ = await subscription_store.page(
        session, enterprise_id=enterprise_id, limit=SUBSCRIPTIONS_SHOWN
    )
    return EnterpriseNotices(
        recent[0] if recent else None, recent, subscribed, form or SubscriptionForm()
    )
