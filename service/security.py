"""Bearer tokens: creation, hashing, and who a presented token is.

A secret is ``haze_`` + 43 URL-safe characters (32 random bytes, 256 bits). Only its SHA-256
is stored; a presented secret is hashed and looked up by that hash (one indexed read), and the
stored hash is compared again in constant time. ``HAZE_ADMIN_TOKEN``, when set, is an operator
token compared in constant time and never stored.

Known principals are cached in this process for ``token_cache_s`` seconds (default 300,
longer than an enterprise's polling interval) so that polling costs no database read; a
token revoked through this process stops working at once, one revoked through another
process within that many seconds; an expiry is exact either way. A cache miss reads one row
by its unique hash, without the ORM.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from emission_list import credit_code
from emission_list.i18n import text
from service.errors import HazeError
from service.storage.models import ROLES, Token
from service.storage.repositories import stations, tokens, utcnow

SECRET_PREFIX = "haze_"
SECRET_BYTES = 32
ADMIN_ID = "admin"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id and role, and what it may touch."""

    token_id: str
    role: str
    enterprise_id: str | None = None
    station_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, token: Token | Row[Any]) -> Principal:
        return cls(token.id, token.role, token.enterprise_id, frozenset(token.station_ids or ()))


def _refuse(field_name: str, zh: str, en: str) -> HazeError:
    return HazeError(422, "token.invalid", text(zh, en), [{"field": field_name, "message": en}])


async def create_token(
    session: AsyncSession,
    role: str,
    *,
    enterprise_id: str | None = None,
    station_ids: Collection[str] = (),
    expires_at: dt.datetime | None = None,
    label: str = "",
    created_by: str | None = None,
) -> tuple[Token, str]:
    """Store a new token and return it with its secret (shown once, never stored)."""
    if role not in ROLES:
        raise _refuse("role", f"未知角色 {role}", f"Unknown role {role!r}")
    if role == "enterprise" and not credit_code.is_valid(enterprise_id):
        raise _refuse(
            "enterprise_id",
            "企业令牌需要有效的统一社会信用代码",
            "An enterprise token needs a valid unified social credit code",
        )
    if role != "enterprise" and enterprise_id is not None:
        raise _refuse(
            "enterprise_id", "只有企业令牌可指定企业", "Only enterprise tokens name an enterprise"
        )
    if role == "station":
        if not station_ids:
            raise _refuse("station_ids", "站点令牌需要站点", "A station token needs station ids")
        unknown = sorted(set(station_ids) - await stations.existing(session, set(station_ids)))
        if unknown:
            raise _refuse(
                "station_ids", f"未知站点 {', '.join(unknown)}", f"Unknown stations {unknown}"
            )
    elif station_ids:
        raise _refuse("station_ids", "只有站点令牌可指定站点", "Only station tokens name stations")
    if expires_at is not None and expires_at <= utcnow():
        raise _refuse("expires_at", "过期时间已过", "expires_at is in the past")
    secret = new_secret()
    token = Token(
        id=uuid.uuid4().hex,
        role=role,
        token_hash=hash_secret(secret),
        enterprise_id=enterprise_id,
        station_ids=sorted(set(station_ids)),
        label=label,
        created_at=utcnow(),
        expires_at=expires_at,
        revoked_at=None,
        created_by=created_by,
    )
    return await tokens.add(session, token), secret


async def revoke_token(session: AsyncSession, token_id: str) -> bool:
    """Revoke a stored token; False when there is none. The last usable operator token is
    not revoked (409 ``token.last_operator``): ``HAZE_ADMIN_TOKEN`` does not count, as it
    lives in a process's environment and no operator can see or renew it through the API."""
    usable = await tokens.usable_ids(session, "operator", lock=True)
    if usable == {token_id}:
        raise HazeError(
            409,
            "token.last_operator",
            text(
                "这是最后一个有效的操作员令牌，吊销后将无人能够管理；请先创建另一个操作员令牌",
                "This is the last usable operator token: revoking it would lock every "
                "operator out; create another operator token first",
            ),
            [{"token_id": token_id}],
        )
    return await tokens.revoke(session, token_id)


class Authenticator:
    """Resolves presented secrets to principals (None when unknown, revoked or expired)."""

    def __init__(
        self,
        engine: AsyncEngine,
        admin_token: str | None = None,
        cache_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock  # [s], only ever compared with itself
        self._engine = engine
        self._admin = admin_token
        self._cache_s = cache_s
        self._cache: dict[str, tuple[Principal, float, dt.datetime | None]] = {}

    async def principal(self, secret: str) -> Principal | None:
        if self._admin is not None and hmac.compare_digest(
            secret.encode("utf-8"), self._admin.encode("utf-8")
        ):
            return Principal(ADMIN_ID, "operator")
        digest = hash_secret(secret)
        cached = self._cache.get(digest)
        now = self.clock()
        if cached is not None and now < cached[1]:
            principal, _, expires_at = cached
            if expires_at is None or utcnow() < expires_at:
                return principal
        async with self._engine.connect() as connection:
            token = await tokens.principal_row(connection, digest)
        if token is None or not hmac.compare_digest(token.token_hash, digest):
            return None
        if token.revoked_at is not None or (
            token.expires_at is not None and token.expires_at <= utcnow()
        ):
            self._cache.pop(digest, None)
            return None
        principal = Principal.of(token)
        if self._cache_s > 0:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[digest] = (principal, now + self._cache_s, token.expires_at)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop a revoked token from the cache at once."""
        for digest, (principal, _, _) in list(self._cache.items()):
            if principal.token_id == token_id:
                del self._cache[digest]
