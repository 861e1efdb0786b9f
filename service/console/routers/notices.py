"""``/notices``: the enterprises that have not acknowledged an orange or red notice, and the
dead deliveries sent again; on an enterprise's page, acknowledging its notice and adding or
removing its subscriptions (a webhook's signing secret shown once, as a new token's is)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas.inputs import INT_MAX
from service.console import notice_views
from service.console.auth import OperatorViewDep, Viewer, ViewerDep, may_see_enterprise
from service.console.formats import local_time
from service.console.routers.enterprises import render_enterprise_page, unknown_enterprise
from service.console.templating import render
from service.errors import HazeError, not_found
from service.services import subscriptions as subscription_service
from service.storage.repositories import subscriptions as subscription_store
from service.storage.repositories import utcnow

router = APIRouter(include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=INT_MAX)]
EnterpriseId = Annotated[str, Path(max_length=32)]
#: A week and more of waiting is still a filter, not an input error.
MinutesWaited = Annotated[int, Query(ge=0, le=525_600)]


@router.get("/notices")
async def waiting_page(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    level: Annotated[list[Literal["orange", "red"]] | None, Query(max_length=2)] = None,
    waiting: MinutesWaited = 30,
    cursor: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> Response:
    """The current orange and red notices not acknowledged after ``waiting`` minutes."""
    levels = sorted(set(level or notice_views.CHASED_LEVELS))
    found = await notice_views.waiting(session, levels, waiting, cursor, utcnow())
    context = {
        "page": found,
        "levels": levels,
        "waiting": waiting,
        "first_page": cursor is None,
        "when": local_time,
    }
    return render(request, "notices/waiting.html", context)


@router.get("/notices/dead")
async def dead_page(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Deliveries given up, the latest first, each with a button to send it again."""
    rows, next_cursor = await notice_views.dead(session, cursor)
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "resent": request.query_params.get("resent"),
        "when": local_time,
    }
    return render(request, "notices/dead.html", context)


@router.post("/notices/deliveries/{delivery_id}/resend")
async def resend(
    delivery_id: RowId, viewer: OperatorViewDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Send a dead delivery again (same message id), then wake this process's workers."""
    await subscription_service.resend(session, delivery_id, utcnow())
    await session.commit()
    runtime.kick_workers()
    return RedirectResponse(f"/notices/dead?resent={delivery_id}", status_code=303)


def _own(viewer: Viewer, enterprise_id: str) -> None:
    if not may_see_enterprise(viewer, enterprise_id):
        raise unknown_enterprise(enterprise_id)


@router.post("/enterprises/{enterprise_id}/notices/{notice_id}/ack")
async def acknowledge(
    enterprise_id: EnterpriseId, notice_id: RowId, viewer: ViewerDep, session: SessionDep
) -> Response:
    """The enterprise acknowledges its notice (an operator records it, after a phone call)."""
    _own(viewer, enterprise_id)
    await subscription_service.acknowledge(
        session, enterprise_id, notice_id, viewer.principal.token_id, utcnow()
    )
    return RedirectResponse(
        f"/enterprises/{enterprise_id}?acknowledged={notice_id}#notices-heading", status_code=303
    )


@router.post("/enterprises/{enterprise_id}/subscriptions")
async def subscribe(
    request: Request,
    enterprise_id: EnterpriseId,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    channel: Annotated[str, Form(max_length=20)] = "",
    target: Annotated[str, Form(max_length=2000)] = "",
    language: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Add a subscription of the enterprise's notices; a webhook's secret is shown once."""
    _own(viewer, enterprise_id)
    form = notice_views.SubscriptionForm(channel, target.strip(), language)
    if form.check():
        try:
            made = await subscription_service.create(
                session,
                viewer.principal,
                channel=form.channel,
                target=form.target,
                second_target=None,
                enterprise_id=enterprise_id,
                region=None,
                language=form.language,
                events=["actions.changed"],
                known_regions=set(runtime.state.tree.ids),
            )
        except HazeError as refused:
            if refused.code != "subscription.target":
                raise
            form.problems["target"] = refused.message
        else:
            if made.secret is None:
                return RedirectResponse(
                    f"/enterprises/{enterprise_id}?subscribed={made.id}#subscriptions-heading",
                    status_code=303,
                )
            context = {"subscription": made, "secret": made.secret}
            return render(request, "notices/subscribed.html", context)
    return await render_enterprise_page(
        request, viewer, runtime, session, enterprise_id, form=form, status=422
    )


@router.post("/enterprises/{enterprise_id}/subscriptions/{subscription_id}/delete")
async def unsubscribe(
    enterprise_id: EnterpriseId,
    subscription_id: Annotated[str, Path(max_length=32)],
    viewer: ViewerDep,
    session: SessionDep,
) -> Response:
    """End one of the enterprise's subscriptions (its undelivered notices are not sent)."""
    _own(viewer, enterprise_id)
    found = await subscription_service.visible(session, viewer.principal, subscription_id)
    if found.enterprise_id != enterprise_id:  # an operator's path naming another enterprise
        raise not_found(
            "subscription.not_found",
            f"企业 {enterprise_id} 没有订阅 {subscription_id}",
            f"Enterprise {enterprise_id} has no subscription {subscription_id}",
        )
    await subscription_store.delete(session, found)
    return RedirectResponse(
        f"/enterprises/{enterprise_id}?unsubscribed=1#subscriptions-heading", status_code=303
    )
