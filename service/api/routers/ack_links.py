"""``/ack/{token}``: an enterprise acknowledges a notice through the signed link of its SMS or
email, without a token. ``GET`` shows the notice and a button (mail scanners that follow
links acknowledge nothing); ``POST`` records the acknowledgement, once: the link cannot be
replayed (409 ``ack.used``). A bad link answers 404 ``ack.link_invalid``, an old one 410
``ack.link_expired``. Requests count against the anonymous rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from service.api.deps import RuntimeDep, SessionDep
from service.console.formats import local_time
from service.console.templating import render
from service.errors import ERROR_RESPONSES, HazeError
from service.notify.ack_links import AckClaim
from service.rate_limit import ANONYMOUS
from service.runtime import Runtime
from service.services import subscriptions as subscription_service
from service.storage.models import Notice
from service.storage.repositories import notices, utcnow

Token = Annotated[str, Path(max_length=300)]


async def _count(request: Request, runtime: RuntimeDep) -> None:
    runtime.rate_limits.check(ANONYMOUS, request.client.host if request.client else "")


router = APIRouter(tags=["notices"], responses=ERROR_RESPONSES, dependencies=[Depends(_count)])


def _claim(runtime: Runtime, token: str) -> AckClaim:
    if runtime.ack_links is None:
        raise HazeError(503, "service.starting", {"zh-CN": "服务正在启动", "en": "Starting"})
    return runtime.ack_links.verify(token)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _page(request: Request, notice: Notice) -> Response:
    context = {"notice": notice, "when": local_time}
    return render(request, "ack/page.html", context, headers={"Referrer-Policy": "no-referrer"})


@router.get("/ack/{token}", include_in_schema=False)
async def ack_page(
    token: Token, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Response:
    claim = _claim(runtime, token)
    notice = await notices.get(session, claim.notice_id)
    if notice is None or notice.enterprise_id != claim.enterprise_id:
        raise HazeError(404, "notice.not_found", {"zh-CN": "没有此通知", "en": "No such notice"})
    return _page(request, notice)


@router.post("/ack/{token}")
async def ack_by_link(
    token: Token, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Acknowledge the notice the link was sent with (HTML for a browser, else JSON)."""
    claim = _claim(runtime, token)
    notice = await subscription_service.acknowledge_by_link(session, claim, utcnow())
    await session.commit()
    if _wants_html(request):
        return _page(request, notice)
    return JSONResponse(
        {
            "notice_id": notice.id,
            "enterprise_id": notice.enterprise_id,
            "acknowledged_at": notice.acknowledged_at.isoformat()
            if notice.acknowledged_at
            else None,
        }
    )
