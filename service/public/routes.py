"""The public routes: ``/cap/alerts/{id}.xml``, ``/cap/alerts.atom`` and ``/public``.

No token or session: warnings are public. Requests count per client address against
``HAZE_RATE_LIMIT_PUBLIC``. Answers carry a strong ETag (a digest of the body; a matching
``If-None-Match`` gets 304) and ``Cache-Control: public, max-age=60``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service.api.deps import RuntimeDep, SessionDep
from service.console.formats import local_time
from service.console.templating import render
from service.errors import ERROR_RESPONSES, not_found
from service.public import publishing
from service.public.cap_document import MEDIA_TYPE
from service.public.feed import MEDIA_TYPE_ATOM
from service.rate_limit import PUBLIC
from service.storage.repositories import utcnow

MAX_AGE_S = 60
CACHE = {"Cache-Control": f"public, max-age={MAX_AGE_S}"}
FEED_PATH = "/cap/alerts.atom"
PAGE_PATH = "/public"


async def _count(request: Request, runtime: RuntimeDep) -> None:
    runtime.rate_limits.check(PUBLIC, request.client.host if request.client else "")


router = APIRouter(tags=["public"], responses=ERROR_RESPONSES, dependencies=[Depends(_count)])


def _document_url(request: Request) -> object:
    base = str(request.base_url).rstrip("/")
    return lambda alert_id: f"{base}/cap/alerts/{alert_id}.xml"


def _cached(request: Request, body: bytes, media_type: str) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**CACHE, "ETag": etag}
    sent = request.headers.get("if-none-match", "")
    if etag in (tag.strip() for tag in sent.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/cap/alerts/{alert_id}.xml",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "A CAP 1.2 document."}},
)
async def cap_alert(
    alert_id: str, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """One change of a warning as a CAP 1.2 document (``application/cap+xml``): Alert on
    issue, Update with references on each change, Cancel on lift."""
    number = int(alert_id) if alert_id.isascii() and alert_id.isdigit() else None
    found = None
    if number is not None and number < 2**63:
        web = str(request.base_url).rstrip("/") + PAGE_PATH
        found = await publishing.cap_xml(runtime, session, number, web)
    if found is None:
        raise not_found(
            "alert.not_found",
            f"没有编号为 {alert_id} 的公开预警信息",
            f"No public warning message {alert_id}",
        )
    return _cached(request, found[1], MEDIA_TYPE)


@router.get(
    FEED_PATH,
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE_ATOM: {}}, "description": "An Atom 1.0 feed."}},
)
async def cap_feed(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The warnings running now or ended within the last 7 days, each entry linking to its
    latest CAP document."""
    base = str(request.base_url).rstrip("/")
    body = await publishing.atom(
        runtime,
        session,
        utcnow(),
        _document_url(request),  # type: ignore[arg-type]
        self_url=base + FEED_PATH,
        page_url=base + PAGE_PATH,
    )
    return _cached(request, body, MEDIA_TYPE_ATOM)


Cursor = Annotated[str, Query(max_length=32)]


@router.get(PAGE_PATH, include_in_schema=False)
async def public_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    after: Cursor = "",
    before: Cursor = "",
) -> Response:
    """The warnings in force, scheduled and lately ended, in both languages (``?lang=en``)."""
    content = await publishing.page(runtime, session, utcnow(), after=after, before=before)
    context = {"page": content, "when": local_time, "feed": FEED_PATH}
    headers = {**CACHE, "Vary": "Accept-Language, Cookie"}
    return render(request, "public/index.html", context, headers=headers)
