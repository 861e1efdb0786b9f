"""Operators create and revoke tokens: the API (``/tokens``) and the console's tokens page
make the same audited changes through these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import not_found
from service.runtime import Runtime
from service.security import create_token, revoke_token
from service.storage.models import Token
from service.storage.repositories import audit


async def create(
    session: AsyncSession,
    operator_id: str,
    role: str,
    *,
    enterprise_id: str | None = None,
    station_ids: Collection[str] = (),
    expires_at: dt.datetime | None = None,
    label: str = "",
) -> tuple[Token, str]:
    """A new token and its secret (shown once), audited; 422 ``token.invalid`` naming the
    field when it cannot be made."""
    token, secret = await create_token(
        session,
        role,
        enterprise_id=enterprise_id,
        station_ids=station_ids,
        expires_at=expires_at,
        label=label,
        created_by=operator_id,
    )
    await audit.record(session, operator_id, "token.create", f"token/{token.id}")
    return token, secret


async def revoke(runtime: Runtime, session: AsyncSession, operator_id: str, token_id: str) -> None:
    """Revoke a token, audited and committed; it stops working at once in this process (404
    ``token.unknown``; 409 ``token.last_operator`` for the last usable operator token)."""
    if not await revoke_token(session, token_id):
        raise not_found("token.unknown", f"没有令牌 {token_id}", f"No token {token_id}")
    await audit.record(session, operator_id, "token.revoke", f"token/{token_id}")
    await session.commit()  # before forgetting, or a request in between could re-cache it
    runtime.auth.forget(token_id)
