"""Console sessions and the keys every process shares.

A session row names the token it was opened with; :func:`live_session` reads the session and
that token in one query, so a revoked or expired token ends every session opened with it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import ConsoleKey, ConsoleSession, Token
from service.storage.repositories import utcnow

#: How long a session's row outlives its expiry (who was signed in when, for the audit).
KEEP_ENDED = dt.timedelta(days=30)


@dataclass(frozen=True)
class LiveSession:
    """A session still open, and who it is for."""

    session_id: str
    token_id: str
    role: str
    enterprise_id: str | None
    expires_at: dt.datetime


async def open_session(
    session: AsyncSession,
    secret_hash: str,
    *,
    token_id: str,
    role: str,
    enterprise_id: str | None,
    expires_at: dt.datetime,
    now: dt.datetime | None = None,
) -> str:
    """Store a new session; returns its id. Sessions ended or expired more than
    :data:`KEEP_ENDED` ago are deleted on the way (sign-ins are rare: no sweeper needed)."""
    now = now or utcnow()
    await session.execute(
        delete(ConsoleSession).where(ConsoleSession.expires_at < now - KEEP_ENDED)
    )
    row = ConsoleSession(
        id=secrets.token_hex(16),
        secret_hash=secret_hash,
        token_id=token_id,
        role=role,
        enterprise_id=enterprise_id,
        created_at=now,
        expires_at=expires_at,
        ended_at=None,
    )
    session.add(row)
    await session.flush()
    return row.id


async def live_session(
    session: AsyncSession, secret_hash: str, *, admin_id: str | None, now: dt.datetime
) -> LiveSession | None:
    """The open session with this secret's hash whose token still works, else None.

    ``admin_id`` is the principal id of ``HAZE_ADMIN_TOKEN`` when that token is set (it has
    no row); a session opened with it lives while the setting does.
    """
    statement = (
        select(ConsoleSession, Token.id, Token.revoked_at, Token.expires_at)
        .outerjoin(Token, Token.id == ConsoleSession.token_id)
        .where(ConsoleSession.secret_hash == secret_hash)
    )
    found = (await session.execute(statement)).first()
    if found is None:
        return None
    row, stored_id, revoked_at, token_expires = found
    if row.ended_at is not None or row.expires_at <= now:
        return None
    if stored_id is None:
        token_works = admin_id is not None and row.token_id == admin_id
    else:
        token_works = revoked_at is None and (token_expires is None or token_expires > now)
    if not token_works:
        return None
    return LiveSession(row.id, row.token_id, row.role, row.enterprise_id, row.expires_at)


async def token_expiry(session: AsyncSession, token_id: str) -> dt.datetime | None:
    """When the stored token ``token_id`` expires (None: never, or no such token)."""
    return await session.scalar(select(Token.expires_at).where(Token.id == token_id))


async def end_session(
    session: AsyncSession, session_id: str, now: dt.datetime | None = None
) -> None:
    """Sign a session out (kept, with the time it ended)."""
    statement = (
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
    await session.execute(statement)


async def shared_key(session: AsyncSession, name: str) -> str:
    """The deployment's key ``name``, made (256 random bits) by the first process asking."""
    value = await session.scalar(select(ConsoleKey.value).where(ConsoleKey.name == name))
    if value is not None:
        return value
    try:
        async with session.begin_nested():
            session.add(ConsoleKey(name=name, value=secrets.token_urlsafe(32)))
    except IntegrityError:  # another process made it first: take theirs
        pass
    return (await session.scalars(select(ConsoleKey.value).where(ConsoleKey.name == name))).one()
