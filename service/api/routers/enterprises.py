"""``/enterprises/{id}/actions`` (what an enterprise must do now) and ``/reductions``.

Polling is the hot path: the ETag comes from two in-memory look-ups on the action board, so
a matching ``If-None-Match`` is answered 304 with no evaluation and no database read (the
token check reads at most one indexed row, and not even that while it is cached).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.api.deps import OperatorDep, RuntimeDep, principal_of_request
from service.api.language import request_language
from service.api.schemas.actions import EnterpriseActionsOut
from service.api.schemas.reductions import RegionReductionsOut
from service.errors import ERROR_RESPONSES, forbidden, not_found
from service.runtime import Runtime

router = APIRouter(tags=["enterprises"], responses=ERROR_RESPONSES)


def _etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


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
    etag = f'{etag[:-1]}.{language}"'  # the body's language is part of the representation
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Accept-Language"}
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    answer = board.answer(enterprise_id)
    body = EnterpriseActionsOut.of(answer, language)  # type: ignore[arg-type]
    return JSONResponse(body.model_dump(mode="json"), headers=headers)


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
