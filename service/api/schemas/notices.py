"""API models of subscriptions, notices and their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.times import LocalInstant
from service.notify.message import EVENTS
from service.storage.models import Delivery, Notice, Subscription

Channel = Literal["webhook", "sms", "email"]
Event = Literal["actions.changed", "alert.issued", "alert.changed", "alert.ended", "alarm.raised"]
Language = Literal["zh-CN", "en"]
DeliveryStatus = Literal["pending", "delivered", "superseded", "dead", "disabled"]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "webhook",
                    "target": "https://ehs.example.com/haze",
                    "enterprise_id": "91150203MA0N2K3X8P",
                    "events": ["actions.changed"],
                },
                {
                    "channel": "sms",
                    "target": "+8613800000000",
                    "second_target": "+8613900000000",
                    "enterprise_id": "91150203MA0N2K3X8P",
                    "language": "zh-CN",
                },
                {
                    "channel": "email",
                    "target": "duty@baotou.example",
                    "region": "150203",
                    "events": ["alert.issued", "alert.changed", "alert.ended", "alarm.raised"],
                },
            ]
        },
    )

    channel: Channel
    target: str = Field(
        min_length=1, max_length=500, description="URL (webhook), phone number (sms), address."
    )
    second_target: str | None = Field(
        None, max_length=500, description="Escalation's second contact, same channel."
    )
    enterprise_id: str | None = Field(
        None, max_length=32, description="An enterprise's notices (an enterprise: its own)."
    )
    region: str | None = Field(
        None, max_length=32, description="Operators: the notices of a region and those under it."
    )
    language: Language = "zh-CN"
    events: list[Event] = Field(
        default_factory=lambda: ["actions.changed"], min_length=1, max_length=len(EVENTS)
    )


class SubscriptionOut(BaseModel):
    id: str
    channel: Channel
    target: str
    second_target: str | None
    enterprise_id: str | None
    region: str | None
    language: Language
    events: list[Event]
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    created_at: LocalInstant

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls.model_validate(s, from_attributes=True)


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(
        description="A webhook's signing secret (whsec_…), shown in this answer only."
    )


class DeliveryOut(BaseModel):
    id: int
    notice_id: int
    subscription_id: str
    target: str
    stage: Annotated[int, Field(description="0 first send, 1 sent again, 2 second contact.")]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: LocalInstant
    delivered_at: LocalInstant | None
    last_status: int | None
    last_error: str | None
    created_at: LocalInstant

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls.model_validate(d, from_attributes=True)


class NoticeOut(BaseModel):
    id: int
    event: str
    enterprise_id: str | None
    region: str
    level: str
    previous_level: str
    created_at: LocalInstant
    acknowledged_at: LocalInstant | None
    acknowledged_by: str | None
    escalation: int
    data: dict[str, Any] = Field(description="What the webhooks carry as `data`.")
    deliveries: list[DeliveryOut] = Field(default_factory=list)

    @classmethod
    def of(cls, n: Notice, deliveries: list[Delivery] | None = None) -> NoticeOut:
        return cls(
            id=n.id,
            event=n.event,
            enterprise_id=n.enterprise_id,
            region=n.region,
            level=n.level,
            previous_level=n.previous_level,
            created_at=n.created_at,
            acknowledged_at=n.acknowledged_at,
            acknowledged_by=n.acknowledged_by,
            escalation=n.escalation,
            data=dict(n.payload),
            deliveries=[DeliveryOut.of(d) for d in deliveries or ()],
        )


NoticeStatus = Literal["unacknowledged", "acknowledged"]
Level = Literal["yellow", "orange", "red", "none"]
OlderThan = dt.timedelta
