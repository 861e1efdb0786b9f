"""Bearer tokens: only the SHA-256 of each secret is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.storage.models import Token
from service.storage.repositories import paging, utcnow


async def add(session: AsyncSession, token: Token) -> Token:
    session.add(token)
    await session.flush()
    return token


async def principal_row(connection: AsyncConnection, token_hash: str) -> Row[Any] | None:
    """What authentication needs of the token with this hash: one indexed read, no ORM (the
    polling path pays for every microsecond)."""
    statement = select(
        Token.id,
        Token.role,
        Token.token_hash,
        Token.enterprise_id,
        Token.station_ids,
        Token.expires_at,
        Token.revoked_at,
    ).where(Token.token_hash == token_hash)
    return (await connection.execute(statement)).first()


async def label(session: AsyncSession, token_id: str) -> str | None:
    """The label of the token ``token_id`` (None when there is no such token)."""
    return await session.scalar(select(Token.label).where(Token.id == token_id))


async def list_all(session: AsyncSession, *, include_revoked: bool = False) -> Sequence[Token]:
    statement = select(Token).order_by(Token.created_at, Token.id)
    if not include_revoked:
        statement = statement.where(Token.revoked_at.is_(None))
    return (await session.execute(statement)).scalars().all()


async def page(
    session: AsyncSession,
    *,
    include_revoked: bool = False,
    limit: int = paging.DEFAULT_LIMIT,
    after: str | None = None,
) -> tuple[list[Token], str | None]:
    """Up to ``limit`` tokens in the order they were made, after the token with id ``after``
    (the cursor is a token id), and the next cursor."""
    statement = select(Token)
    if not include_revoked:
        statement = statement.where(Token.revoked_at.is_(None))
    keys = None
    if after is not None:
        position = select(Token.created_at).where(Token.id == after).scalar_subquery()
        keys = (position, after)
    statement = paging.keyset(statement, [Token.created_at, Token.id], keys, limit)
    return paging.page(list((await session.execute(statement)).scalars()), limit, lambda t: t.id)


async def revoke(session: AsyncSession, token_id: str, at: dt.datetime | None = None) -> bool:
    """Mark a token revoked; False when there is no such token (revoking twice is fine)."""
    token = await session.get(Token, token_id)
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = at or utcnow()
        await session.flush()
    return True


async def usable_ids(
    session: AsyncSession, role: str, at: dt.datetime | None = None, *, lock: bool = False
) -> set[str]:
    """The ids of the tokens of ``role`` that are neither revoked nor expired; ``lock`` holds
    their rows until the transaction ends (PostgreSQL), so that two revocations cannot each
    count on the other's token."""
    at = at or utcnow()
    statement = (
        select(Token.id)
        .where(Token.role == role, Token.revoked_at.is_(None))
        .where((Token.expires_at.is_(None)) | (Token.expires_at > at))
    )
    if lock:
        statement = statement.with_for_update()
    return set((await session.execute(statement)).scalars())


async def any_usable(session: AsyncSession, role: str, at: dt.datetime | None = None) -> bool:
    """Whether some token of ``role`` is neither revoked nor expired."""
    at = at or utcnow()
    statement = (
        select(Token.id)
        .where(Token.role == role, Token.revoked_at.is_(None))
        .where((Token.expires_at.is_(None)) | (Token.expires_at > at))
        .limit(1)
    )
    return (await session.execute(statement)).first() is not None
