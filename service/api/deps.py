"""Request dependencies: the runtime, a session committed at the boundary, who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import text
from service.api.language import request_language
from service.errors import HazeError, forbidden
from service.rate_limit import ANONYMOUS
from service.runtime import Runtime
from service.security import Principal


# Dependencies are ``async`` even when they await nothing: FastAPI runs a plain ``def`` in a
# worker thread, a hop that costs more than the whole answer of a 304.
async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A session for the request, committed when the endpoint returns without error."""
    async with runtime.session_maker() as session:
        yield session
        await session.commit()


# "function": committed before the answer is sent, so an acknowledged change is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_language(request: Request) -> str:
    return request_language(request)


LanguageDep = Annotated[str, Depends(get_language)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `haze serve` (first start), `haze token create` or POST /tokens.",
)


async def authenticate(runtime: Runtime, secret: str | None, client: str = "") -> Principal:
    """The principal of a presented secret, its request counted against its role's rate
    limit; 401 when there is none or it is not valid (counted against the client address)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if not secret:
        runtime.rate_limits.check(ANONYMOUS, client)
        raise HazeError(
            401,
            "auth.missing",
            text("需要持有令牌（Authorization: Bearer …）", "A bearer token is required"),
            headers=challenge,
        )
    principal = await runtime.auth.principal(secret)
    if principal is None:
        runtime.rate_limits.check(ANONYMOUS, client)
        raise HazeError(
            401,
            "auth.invalid",
            text("令牌无效、已过期或已吊销", "The token is unknown, expired or revoked"),
            headers=challenge,
        )
    runtime.rate_limits.check(principal.role, principal.token_id)
    return principal


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


async def get_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    secret = credentials.credentials if credentials else None
    principal = await authenticate(runtime, secret, _client(request))
    request.scope["haze.principal"] = principal  # counted once, even if asked again
    return principal


async def principal_of_request(request: Request) -> Principal:
    """:func:`get_principal` without the dependency machinery, for the polling hot path; the
    principal, or the refusal, :class:`~service.api.polling.PollingFastPath` found."""
    refusal = request.scope.get("haze.refusal")
    if refusal is not None:
        raise refusal
    known = request.scope.get("haze.principal")
    if known is not None:
        return known
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    bearer = secret.strip() if scheme.lower() == "bearer" else None
    return await authenticate(request.app.state.runtime, bearer, _client(request))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only tokens of ``roles``."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise forbidden(
                f"{principal.role} 角色无权执行此操作",
                f"Tokens of role {principal.role} may not do this",
            )
        return principal

    return check


OperatorDep = Annotated[Principal, Depends(require("operator"))]
#: Operators and enterprises (notices and subscriptions; an enterprise: its own).
NoticesDep = Annotated[Principal, Depends(require("operator", "enterprise"))]
#: Enterprises only (explaining an alarm of their own).
EnterpriseDep = Annotated[Principal, Depends(require("enterprise"))]
