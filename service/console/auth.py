"""Who is signed in: a token pasted once becomes a session cookie.

The cookie ``haze_session`` holds a random secret (HttpOnly, SameSite=Strict, Secure when the
page was served over HTTPS); the database keeps its SHA-256 (``console_sessions``). Every page
reads the session and its token in one query: a session ends at sign-out, at its expiry
(``HAZE_CONSOLE_SESSION_HOURS``, never after the token's own) or when its token is revoked.
Station tokens cannot sign in. Page requests count against the token's rate limit, failed
sign-ins against the client address's (as failed API calls do).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from service.api.deps import RuntimeDep, SessionDep
from service.errors import HazeError
from service.rate_limit import ANONYMOUS
from service.runtime import Runtime
from service.security import ADMIN_ID, Principal, hash_secret
from service.storage.repositories import console as console_store
from service.storage.repositories import utcnow

SESSION_COOKIE = "haze_session"
SIGNIN_PATH = "/signin"


class SignInRequired(Exception):
    """The page needs a signed-in person; answered by a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Viewer:
    """The person signed in: their token's principal and their session."""

    principal: Principal
    session_id: str
    expires_at: dt.datetime

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def enterprise_id(self) -> str | None:
        return self.principal.enterprise_id

    @property
    def is_operator(self) -> bool:
        return self.principal.role == "operator"

    @property
    def home(self) -> str:
        return home_of(self.principal)


def home_of(principal: Principal) -> str:
    """Where a person starts: operators at the dashboard, an enterprise at its own page."""
    if principal.role == "operator":
        return "/dashboard"
    return f"/enterprises/{principal.enterprise_id}"


def signin_url(next_path: str) -> str:
    return f"{SIGNIN_PATH}?next={quote(next_path, safe='/')}"


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path of this site (no scheme, no host), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def _admin_id(runtime: Runtime) -> str | None:
    return ADMIN_ID if runtime.settings.admin_token is not None else None


async def current_viewer(
    request: Request, runtime: Runtime, session: AsyncSession
) -> Viewer | None:
    """The signed-in person of this request, or None."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > 100:
        return None
    now = utcnow()
    live = await console_store.live_session(
        session, hash_secret(secret), admin_id=_admin_id(runtime), now=now
    )
    if live is None:
        return None
    principal = Principal(live.token_id, live.role, live.enterprise_id)
    return Viewer(principal, live.session_id, live.expires_at)


async def get_viewer(request: Request, runtime: RuntimeDep, session: SessionDep) -> Viewer:
    known = request.scope.get("haze.viewer")
    if known is not None:
        return known
    viewer = await current_viewer(request, runtime, session)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/")
    runtime.rate_limits.check(viewer.role, viewer.principal.token_id)
    request.scope["haze.viewer"] = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_operator(viewer: ViewerDep) -> Viewer:
    if not viewer.is_operator:
        raise HazeError(
            403,
            "console.operators_only",
            {"zh-CN": "此页面仅供生态环境局操作员使用", "en": "This page is for bureau operators"},
        )
    return viewer


OperatorViewDep = Annotated[Viewer, Depends(get_operator)]


def may_see_enterprise(viewer: Viewer, enterprise_id: str) -> bool:
    """Operators see every enterprise; an enterprise only itself (others answer 404)."""
    return viewer.is_operator or viewer.enterprise_id == enterprise_id


async def open_session(
    runtime: Runtime,
    session: AsyncSession,
    principal: Principal,
    response: Response,
    *,
    secure: bool,
) -> None:
    """Store a session for ``principal`` and set its cookie on ``response``."""
    now = utcnow()
    expires_at = now + dt.timedelta(hours=runtime.settings.console_session_hours)
    token_expiry = None
    if principal.token_id != ADMIN_ID:
        token_expiry = await console_store.token_expiry(session, principal.token_id)
    if token_expiry is not None:
        expires_at = min(expires_at, token_expiry)
    secret = secrets.token_urlsafe(32)
    await console_store.open_session(
        session,
        hash_secret(secret),
        token_id=principal.token_id,
        role=principal.role,
        enterprise_id=principal.enterprise_id,
        expires_at=expires_at,
        now=now,
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max(1, int((expires_at - now).total_seconds())),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


async def end_session(session: AsyncSession, viewer: Viewer | None, response: Response) -> None:
    if viewer is not None:
        await console_store.end_session(session, viewer.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def count_failed_signin(runtime: Runtime, request: Request) -> None:
    """A wrong token counts against the client address (429 once over the limit)."""
    runtime.rate_limits.check(ANONYMOUS, request.client.host if request.client else "")
