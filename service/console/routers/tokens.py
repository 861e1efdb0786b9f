"""``/tokens``: operators create tokens (the secret shown once, on the answer page), list
them (never a secret or hash) and revoke them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.breakpoints import LOCAL_TIME
from emission_list.i18n import Text, text
from service.api.deps import RuntimeDep, SessionDep
from service.console.auth import OperatorViewDep
from service.console.formats import local_time
from service.console.templating import render
from service.errors import HazeError
from service.services import token_admin
from service.storage.models import ROLES
from service.storage.repositories import tokens, utcnow

router = APIRouter(include_in_schema=False)

TOKENS_PAGE = 50
Field200 = Annotated[str, Form(max_length=200)]
_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass
class TokenForm:
    """The create form as typed, with a problem beside the field it concerns."""

    role: str = "enterprise"
    enterprise_id: str = ""
    station_ids: str = ""
    label: str = ""
    expires_at: str = ""
    problems: dict[str, Text] = field(default_factory=dict)

    def expiry(self) -> dt.datetime | None:
        if not self.expires_at:
            return None
        try:
            return dt.datetime.fromisoformat(self.expires_at).replace(tzinfo=LOCAL_TIME)
        except ValueError:
            self.problems["expires_at"] = text("无法识别的过期时间", "The expiry cannot be read")
            return None


async def _page(
    request: Request,
    session: AsyncSession,
    form: TokenForm,
    *,
    cursor: str | None = None,
    status: int = 200,
    problem: Text | None = None,
) -> Response:
    found, next_cursor = await tokens.page(
        session, include_revoked=True, limit=TOKENS_PAGE, after=cursor
    )
    context: dict[str, Any] = {
        "tokens": found,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "form": form,
        "roles": ROLES,
        "problem": problem,
        "revoked": request.query_params.get("revoked"),
        "now": utcnow(),
        "when": local_time,
    }
    return render(request, "tokens/index.html", context, status=status)


@router.get("/tokens")
async def tokens_page(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return await _page(request, session, TokenForm(), cursor=cursor)


@router.post("/tokens")
async def create_token(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    role: Field200 = "",
    enterprise_id: Field200 = "",
    station_ids: Annotated[str, Form(max_length=2000)] = "",
    label: Field200 = "",
    expires_at: Field200 = "",
) -> Response:
    """Create a token; the answer page shows its secret, the only time it is shown."""
    form = TokenForm(role, enterprise_id.strip(), station_ids.strip(), label.strip(), expires_at)
    expiry = form.expiry()
    if role not in ROLES:
        form.problems["role"] = text("请选择角色", "Choose a role")
    if "\x00" in form.label:
        form.problems["label"] = text("备注含有无效字符", "The label holds an invalid character")
    if not form.problems:
        try:
            token, secret = await token_admin.create(
                session,
                viewer.principal.token_id,
                role,
                enterprise_id=form.enterprise_id or None,
                station_ids=[s for s in _SEPARATORS.split(form.station_ids) if s],
                expires_at=expiry,
                label=form.label,
            )
        except HazeError as refused:
            if refused.code != "token.invalid":
                raise
            where = refused.details[0].get("field", "role") if refused.details else "role"
            form.problems[str(where)] = refused.message
        else:
            context = {"token": token, "secret": secret, "when": local_time}
            return render(request, "tokens/created.html", context)
    return await _page(request, session, form, status=422)


@router.post("/tokens/{token_id}/revoke")
async def revoke(
    request: Request,
    token_id: str,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    """Revoke a token (the last usable operator token is refused, with the reason)."""
    try:
        await token_admin.revoke(runtime, session, viewer.principal.token_id, token_id)
    except HazeError as refused:
        if refused.code != "token.last_operator":
            raise
        await session.rollback()
        return await _page(request, session, TokenForm(), status=409, problem=refused.message)
    return RedirectResponse(f"/tokens?revoked={token_id}", status_code=303)
