"""CSRF protection of every console form and state-changing request.

A signed double-submit token bound to the browser: the cookie ``haze_csrf`` (random,
HttpOnly, SameSite=Strict) is the binding, and the token a page embeds is its HMAC-SHA256
under the deployment's key (``console_keys``, made by the first process, so every process
behind a load balancer accepts the others' forms). A POST, PUT, PATCH or DELETE to a console
page must send the token as the form field ``csrftoken`` or the ``X-CSRFToken`` header (htmx
does, see ``static/console.js``); otherwise 403 ``csrf.invalid``. The check is a dependency
that :func:`service.console.app.install` puts on every console router, so no page can forget
it; the API (bearer tokens, no cookies) does not need one.

Written here rather than taken from a package: ``asgi-csrf`` 0.11 cannot parse multipart
bodies with python-multipart >= 0.0.26 (simonw/asgi-csrf#38, still open; older
python-multipart has CVE-2026-40347), and ``fastapi-csrf-protect`` keeps its key in
class-level configuration, one per process, where a deployment's key belongs to its app.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from emission_list.i18n import text
from service.api.deps import RuntimeDep
from service.errors import HazeError
from service.storage.repositories import console as console_store

FORM_FIELD = "csrftoken"
HEADER = "x-csrftoken"
COOKIE = "haze_csrf"
KEY_NAME = "csrf"
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _sign(key: str, binding: str) -> str:
    return hmac.new(key.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def _plausible(binding: str | None) -> bool:
    return bool(binding) and len(binding) <= 64 and binding.isascii()  # type: ignore[union-attr]


async def _key(request: Request, runtime: RuntimeDep) -> str:
    key = getattr(request.app.state, "csrf_key", None)
    if key is None:
        async with runtime.session_maker() as session:
            key = await console_store.shared_key(session, KEY_NAME)
            await session.commit()
        request.app.state.csrf_key = key
    return key


def refused() -> HazeError:
    return HazeError(
        403,
        "csrf.invalid",
        text(
            "表单已过期或缺少安全校验码，请刷新页面后重试",
            "The form has expired or lacks its security code; reload the page and try again",
        ),
    )


async def _sent_token(request: Request) -> str:
    header = request.headers.get(HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip() not in _FORMS:
        return ""
    try:
        form = await request.form()
    except StarletteHTTPException:  # a body over its limit: 413 as it is
        raise
    except Exception as exc:  # a body python-multipart cannot parse
        raise HazeError(
            400, "request.malformed", text("请求格式无法识别", "The request could not be read")
        ) from exc
    value = form.get(FORM_FIELD)
    return value if isinstance(value, str) else ""


async def check(request: Request, runtime: RuntimeDep) -> None:
    """Give the page its token (``request.state.csrf_token``); refuse an unsafe request
    whose token does not match the browser's binding."""
    key = await _key(request, runtime)
    binding = request.cookies.get(COOKIE)
    if request.method not in SAFE_METHODS:
        sent = await _sent_token(request)
        expected = _sign(key, binding) if _plausible(binding) else ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise refused()
    if not _plausible(binding):
        binding = secrets.token_urlsafe(24)
        request.state.csrf_new_binding = binding
    request.state.csrf_token = _sign(key, binding)  # type: ignore[arg-type]


def token_of(request: Request) -> str:
    """The token the page embeds (empty outside the console's routers)."""
    return getattr(request.state, "csrf_token", "")


def set_binding(request: Request, response: Response) -> None:
    """Set the binding cookie when this request made a new one."""
    binding = getattr(request.state, "csrf_new_binding", None)
    if binding:
        response.set_cookie(
            COOKIE,
            binding,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
