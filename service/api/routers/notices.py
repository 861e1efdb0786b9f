"""``/subscriptions``, ``/notices``, an enterprise's notices and their acknowledgement, and
``/deliveries`` (the dead ones, sent again by operators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from service.api.deps import NoticesDep, OperatorDep, RuntimeDep, SessionDep
from service.api.schemas.inputs import INT_MAX
from service.api.schemas.notices import (
    DeliveryOut,
    DeliveryStatus,
    Level,
    NoticeOut,
    NoticeStatus,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
)
from service.api.schemas.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, not_found
from service.security import Principal
from service.services import subscriptions as subscription_service
from service.storage.repositories import deliveries, notices, subscriptions, utcnow
from service.storage.repositories.notices import NoticeFilter

router = APIRouter(tags=["notices"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

NoticeId = Annotated[int, Path(ge=1, le=INT_MAX)]
IdCursor = Annotated[
    int | None, Query(ge=1, le=INT_MAX, description="`next_cursor` of the page before.")
]


def _own_enterprise(principal: Principal, enterprise_id: str) -> None:
    """Operators see every enterprise; an enterprise only itself (another answers 404)."""
    if principal.role == "enterprise" and principal.enterprise_id != enterprise_id:
        raise not_found(
            "enterprise.unknown", f"没有企业 {enterprise_id}", f"No enterprise {enterprise_id}"
        )


@router.post(
    "/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated
)
async def post_subscription(
    body: SubscriptionIn,
    principal: NoticesDep,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> SubscriptionCreated:
    """Subscribe a webhook, a phone (SMS) or an address (email) to an enterprise's notices
    (an enterprise: its own) or a region's (operators). A webhook's signing secret is in
    this answer only (``Cache-Control: no-store``)."""
    response.headers["Cache-Control"] = "no-store"
    made = await subscription_service.create(
        session,
        principal,
        channel=body.channel,
        target=body.target,
        second_target=body.second_target,
        enterprise_id=body.enterprise_id,
        region=body.region,
        language=body.language,
        events=list(body.events),
        known_regions=set(runtime.state.tree.ids),
    )
    return SubscriptionCreated(**SubscriptionOut.of(made).model_dump(), secret=made.secret)


@router.get("/subscriptions", response_model=Page[SubscriptionOut])
async def get_subscriptions(
    principal: NoticesDep,
    session: SessionDep,
    enterprise_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SubscriptionOut]:
    """Subscriptions in the order they were made (an enterprise: its own)."""
    if principal.role == "enterprise":
        enterprise_id = principal.enterprise_id
    found, next_cursor = await subscriptions.page(
        session, enterprise_id=enterprise_id, limit=limit, after=cursor
    )
    return Page[SubscriptionOut](
        items=[SubscriptionOut.of(s) for s in found], next_cursor=next_cursor
    )


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def get_subscription(
    subscription_id: Annotated[str, Path(max_length=32)],
    principal: NoticesDep,
    session: SessionDep,
) -> SubscriptionOut:
    return SubscriptionOut.of(
        await subscription_service.visible(session, principal, subscription_id)
    )


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(
    subscription_id: Annotated[str, Path(max_length=32)],
    principal: NoticesDep,
    session: SessionDep,
) -> Response:
    """End a subscription; its notices not yet delivered are not sent."""
    found = await subscription_service.visible(session, principal, subscription_id)
    await subscriptions.delete(session, found)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/notices", response_model=Page[NoticeOut])
async def get_notices(
    _: OperatorDep,
    session: SessionDep,
    status_: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    level: Annotated[list[Level] | None, Query(max_length=4)] = None,
    older_than: Annotated[
        dt.timedelta | None,
        Query(description="ISO 8601 duration (PT30M): made at least this long ago."),
    ] = None,
    current: Annotated[bool, Query(description="Only each enterprise's latest notice.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: IdCursor = None,
) -> Page[NoticeOut]:
    """Notices newest first, e.g. ``?status=unacknowledged&level=orange&older_than=PT30M``:
    who has not acknowledged an orange notice for half an hour."""
    before = None
    if older_than is not None:
        before = utcnow() - min(older_than, dt.timedelta(days=3650))
    where = NoticeFilter(
        unacknowledged=status_ == "unacknowledged",
        acknowledged=status_ == "acknowledged",
        levels=tuple(level or ()),
        created_before=before,
        current_only=current,
    )
    return await _page(session, where, limit, cursor)


async def _page(
    session: SessionDep, where: NoticeFilter, limit: int, cursor: int | None
) -> Page[NoticeOut]:
    found, next_cursor = await notices.page(session, where, limit, cursor)
    sent = await notices.deliveries_of(session, [n.id for n in found])
    by_notice: dict[int, list] = {}
    for d in sent:
        by_notice.setdefault(d.notice_id, []).append(d)
    items = [NoticeOut.of(n, by_notice.get(n.id, [])) for n in found]
    return Page[NoticeOut](items=items, next_cursor=next_cursor)


@router.get("/enterprises/{enterprise_id}/notices", response_model=Page[NoticeOut])
async def get_enterprise_notices(
    enterprise_id: Annotated[str, Path(max_length=32)],
    principal: NoticesDep,
    session: SessionDep,
    status_: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: IdCursor = None,
) -> Page[NoticeOut]:
    """An enterprise's notices, newest first (an enterprise: its own only)."""
    _own_enterprise(principal, enterprise_id)
    where = NoticeFilter(
        enterprise_id=enterprise_id,
        unacknowledged=status_ == "unacknowledged",
        acknowledged=status_ == "acknowledged",
    )
    return await _page(session, where, limit, cursor)


@router.post("/enterprises/{enterprise_id}/notices/{notice_id}/ack", response_model=NoticeOut)
async def post_ack(
    enterprise_id: Annotated[str, Path(max_length=32)],
    notice_id: NoticeId,
    principal: NoticesDep,
    session: SessionDep,
) -> NoticeOut:
    """The enterprise acknowledges a notice (operators may record it for the enterprise, e.g.
    after a phone call); acknowledging again changes nothing."""
    _own_enterprise(principal, enterprise_id)
    notice = await subscription_service.acknowledge(
        session, enterprise_id, notice_id, principal.token_id, utcnow()
    )
    return NoticeOut.of(notice, await notices.deliveries_of(session, [notice.id]))


@router.get("/deliveries", response_model=Page[DeliveryOut])
async def get_deliveries(
    _: OperatorDep,
    session: SessionDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: IdCursor = None,
) -> Page[DeliveryOut]:
    """Deliveries newest first; ``?status=dead``: those given up, to send again."""
    found, next_cursor = await deliveries.page(session, status_, limit, cursor)
    return Page[DeliveryOut](items=[DeliveryOut.of(d) for d in found], next_cursor=next_cursor)


@router.post(
    "/deliveries/{delivery_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
)
async def post_resend(
    delivery_id: NoticeId, _: OperatorDep, session: SessionDep, runtime: RuntimeDep
) -> DeliveryOut:
    """Send a dead delivery again (with the same message id)."""
    delivery = await subscription_service.resend(session, delivery_id, utcnow())
    await session.commit()
    runtime.kick_workers()
    return DeliveryOut.of(delivery)
