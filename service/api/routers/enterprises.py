"""``/enterprises/{id}/actions`` (what an enterprise must do now) and ``/reductions``.

Polling is the hot path: the ETag comes from two in-memory look-ups on the action board, so
a matching ``If-None-Match`` is answered 304 with no evaluation and no database read (the
token check reads at most one indexed row, and not even that while it is cached). The polls
that are answered are answered before the router, by :mod:`service.api.polling`; the route
here gives the refusals, and every answer where that path is off (``HAZE_POLLING_FAST_PATH``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.deps import OperatorDep, RuntimeDep, principal_of_request
from service.api.language import request_language
from service.api.polling import answer_headers, etag_matches, representation_etag
from service.api.schemas.actions import EnterpriseActionsOut
from service.api.schemas.reductions import RegionReductionsOut
from service.errors import ERROR_RESPONSES, forbidden, not_found
from service.runtime import Runtime

router = APIRouter(tags=["enterprises"], responses=ERROR_RESPONSES)


@router.get(
    "/enterprises/{enterprise_id}/actions",
    response_model=EnterpriseActionsOut,
    responses={304: {"description": "Unchanged since the ETag sent in If-None-Match."}},
    openapi_extra={
        "security": [{"HTTPBearer": []}],
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of the last answer: 304 while it is still current.",
            },
            {
                "name": "lang",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["zh-CN", "en"]},
            },
        ],
    },
)
async def get_actions(enterprise_id: str, request: Request) -> Response:
    """The enterprise's level, the alert it comes from, the list revision, production cut,
    required reductions [kg/day], the actions in words and their validity. Poll with
    ``If-None-Match``: 304 while nothing changed. An enterprise token reads only its own.

    The hot path of polling: the checks are done here rather than by dependencies, whose
    resolution would cost more than the rest of a 304."""
    principal = await principal_of_request(request)
    runtime: Runtime = request.app.state.runtime
    language = request_language(request)
    if_none_match = request.headers.get("if-none-match")
    if principal.role == "station":
        raise forbidden("站点令牌无权查看企业措施", "A station token may not read actions")
    board = runtime.state.board
    etag = board.etag(enterprise_id)
    if etag is None or (
        principal.role == "enterprise" and principal.enterprise_id != enterprise_id
    ):
        raise not_found(
            "enterprise.unknown",
            f"现行清单中没有企业 {enterprise_id}",
            f"No enterprise {enterprise_id} on the published list",
        )
    etag = representation_etag(etag, language)  # the body's language is part of it
    headers = answer_headers(etag)
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    body = request.app.state.action_bodies.body(board, enterprise_id, etag, language)
    return Response(body, headers=headers, media_type="application/json")


@router.get("/reductions", response_model=RegionReductionsOut)
async def get_reductions(
    _: OperatorDep, runtime: RuntimeDep, region: str | None = None
) -> RegionReductionsOut:
    """Required reductions of the region and everything under it (default: the root) against
    its baseline and against the minimum ratios of the level in force."""
    state = runtime.state
    if region is None and len(state.tree):
        region = state.tree.ids[0]
    if region is None or region not in state.tree:
        raise not_found("region.unknown", f"未知区域 {region}", f"Unknown region {region}")
    return RegionReductionsOut.of(state.board, region)
