"""CSRF protection of the console's forms and htmx requests, by ``asgi-csrf``.

asgi-csrf (the double-submit check Datasette uses) sets a signed ``csrftoken`` cookie and
refuses a POST, PUT, PATCH or DELETE whose form field ``csrftoken`` or ``X-CSRFToken`` header
does not match it. The signing key is the deployment's own (``console_keys``, made by the
first process), so every process behind a load balancer accepts the others' forms. The API
(``/api/v1``, bearer tokens, no cookies) and the operational endpoints are not wrapped. A
refusal is the console's error (403 ``csrf.invalid``, both languages); a body the check cannot
even parse is 400 ``request.malformed`` instead of an exception.

A multipart form (a file upload) is checked here, as asgi-csrf would: its ``csrftoken`` field
must come before any file and equal the signed cookie; the body read to find it is replayed.
asgi-csrf 0.11 reads multipart bodies with a ``FormParser`` argument python-multipart 0.0.26
removed (simonw/asgi-csrf#38), and the python-multipart releases before it have known
vulnerabilities. A form that passes goes on with its token as the ``X-CSRFToken`` header,
which asgi-csrf accepts without reading the body.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from asgi_csrf import (
    DEFAULT_COOKIE_NAME,
    DEFAULT_SIGNING_NAMESPACE,
    asgi_csrf,
    cookies_from_scope,
)
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from emission_list.i18n import text
from service.errors import DATABASE_RETRY_AFTER_S, error_response
from service.runtime import Runtime
from service.storage.outage import is_unavailable
from service.storage.repositories import console as console_store

FORM_FIELD = "csrftoken"
HEADER = "x-csrftoken"
KEY_NAME = "csrf"
#: Paths the console does not own: the API and the operational endpoints.
UNGUARDED = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc")
#: Forms posted before anyone is signed in (no cookie yet) are checked all the same.
ALWAYS_PROTECT = {"/signin"}

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Any]


async def _refuse(scope: dict, send: Any, message_id: object) -> None:
    message = text(
        "表单已过期或缺少安全校验码，请刷新页面后重试",
        "The form has expired or lacks its security code; reload the page and try again",
    )
    answer = error_response(Request(scope), 403, "csrf.invalid", message)
    await answer(scope, _no_body, send)


async def _no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Token(Exception):
    """The form's ``csrftoken`` field was read (its value, or None: a file came first)."""

    def __init__(self, value: str | None) -> None:
        super().__init__(value)
        self.value = value


def _multipart_boundary(scope: dict) -> bytes | None:
    headers = dict(scope.get("headers") or [])
    if headers.get(HEADER.encode()) or not headers.get(b"cookie"):
        return None  # the header is checked by asgi-csrf; no cookie: nothing to check against
    kind, options = parse_options_header(headers.get(b"content-type", b""))
    return options.get(b"boundary") if kind == b"multipart/form-data" else None


async def _multipart_token(boundary: bytes, receive: Any) -> tuple[str | None, Any]:
    """The ``csrftoken`` field of a multipart body (None when a file or the end comes first),
    and a ``receive`` that replays what was read to find it."""
    read: list[dict] = []
    part: dict[str, Any] = {}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, name=[], value=[], data=bytearray())

    def on_header_end() -> None:
        name, value = b"".join(part["name"]).lower(), b"".join(part["value"])
        part["headers"][name] = value.strip()
        part["name"].clear()
        part["value"].clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(part["headers"].get(b"content-disposition", b""))
        if b"filename" in options:
            raise _Token(None)
        part["token"] = options.get(b"name") == FORM_FIELD.encode()

    def on_part_end() -> None:
        if part.get("token"):
            raise _Token(bytes(part["data"]).decode("utf-8"))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("token"):
            part["data"] += data[start:end]

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": lambda data, start, end: part["name"].append(data[start:end]),
        "on_header_value": lambda data, start, end: part["value"].append(data[start:end]),
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    token = None
    try:
        more = True
        while more:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            parser.write(message.get("body", b""))
            more = message.get("more_body", False)
    except _Token as found:
        token = found.value

    async def replay() -> dict:
        return read.pop(0) if read else await receive()

    return token, replay


class CsrfMiddleware:
    """asgi-csrf around the console's paths, keyed by the deployment's shared key."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._guarded: ASGIApp | None = None
        self._signer: URLSafeSerializer | None = None
        self._lock = asyncio.Lock()

    async def _inner(self, scope: dict, receive: Any, send: Any) -> None:
        scope["haze.csrf"]["passed"] = True
        await self.app(scope, receive, send)

    async def _build(self) -> ASGIApp:
        async with self._lock:
            if self._guarded is None:
                async with self.runtime.session_maker() as session:
                    key = await console_store.shared_key(session, KEY_NAME)
                    await session.commit()
                self._signer = URLSafeSerializer(key)
                self._guarded = asgi_csrf(
                    self._inner,
                    signing_secret=key,
                    always_protect=ALWAYS_PROTECT,
                    cookie_samesite="Strict",
                    send_csrf_failed=_refuse,
                )
        return self._guarded

    def _matches_cookie(self, scope: dict, token: str | None) -> bool:
        """Whether a form's token is the request's signed CSRF cookie (asgi-csrf's rule)."""
        cookie = cookies_from_scope(scope).get(DEFAULT_COOKIE_NAME, "")
        if token is None or not cookie or self._signer is None:
            return False
        try:
            self._signer.loads(cookie, DEFAULT_SIGNING_NAMESPACE)
        except BadSignature:
            return False
        return secrets.compare_digest(token, cookie)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNGUARDED):
            await self.app(scope, receive, send)
            return
        try:
            guarded = self._guarded or await self._build()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            message = text("数据库暂不可用，请稍后重试", "The database is unavailable; retry later")
            headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
            answer = error_response(
                Request(scope), 503, "database.unavailable", message, (), headers
            )
            await answer(scope, _no_body, send)
            return
        marker = scope["haze.csrf"] = {"passed": False}
        try:
            boundary = _multipart_boundary(scope)
            if boundary is not None:
                token, receive = await _multipart_token(boundary, receive)
                if not self._matches_cookie(scope, token):
                    await _refuse(scope, send, None)
                    return
                header = (HEADER.encode(), str(token).encode("latin-1"))
                scope["headers"] = [*scope["headers"], header]
            await guarded(scope, receive, send)
        except (AssertionError, IndexError, KeyError, UnicodeDecodeError, ValueError):
            if marker["passed"]:  # raised by the page itself: not the check's to answer
                raise
            message = text("请求格式无法识别", "The request could not be read")
            answer = error_response(Request(scope), 400, "request.malformed", message)
            await answer(scope, _no_body, send)
