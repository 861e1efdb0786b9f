"""``/tokens``: operators create, list and revoke bearer tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.api.deps import OperatorDep, RuntimeDep, SessionDep
from service.api.schemas.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from service.api.schemas.tokens import TokenCreated, TokenIn, TokenOut
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES
from service.services import token_admin
from service.storage.repositories import tokens

router = APIRouter(
    prefix="/tokens", tags=["tokens"], responses=ERROR_RESPONSES, dependencies=[TextGuard]
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def post_token(
    body: TokenIn, operator: OperatorDep, session: SessionDep, response: Response
) -> TokenCreated:
    """Create a token; its secret is in this answer only (it is stored as a SHA-256 hash),
    which no cache may keep (``Cache-Control: no-store``)."""
    response.headers["Cache-Control"] = "no-store"
    token, secret = await token_admin.create(
        session,
        operator.token_id,
        body.role,
        enterprise_id=body.enterprise_id,
        station_ids=body.station_ids,
        expires_at=body.expires_at,
        label=body.label,
    )
    return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)


@router.get("", response_model=Page[TokenOut])
async def get_tokens(
    _: OperatorDep,
    session: SessionDep,
    include_revoked: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TokenOut]:
    """Tokens in the order they were made, a page at a time (no secrets: only hashes are kept)."""
    found, next_cursor = await tokens.page(
        session, include_revoked=include_revoked, limit=limit, after=cursor
    )
    return Page[TokenOut](items=[TokenOut.of(t) for t in found], next_cursor=next_cursor)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_token(
    token_id: str, operator: OperatorDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Revoke a token; it stops working at once in this process. The last usable operator
    token cannot be revoked (409 ``token.last_operator``)."""
    await token_admin.revoke(runtime, session, operator.token_id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
