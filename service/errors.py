"""One error hierarchy, one JSON shape: ``{"error": {"code", "message", "details"}}``.

Services raise :class:`HazeError` (or the domain's :class:`RevisionError`, mapped here by
code); FastAPI's own validation and routing errors and the bus's
:class:`~service.bus.BusUnavailableError` are turned into the same shape. ``code`` is
stable and machine-readable. Infrastructure failures answer 503 with ``Retry-After``: the bus
(``bus.unavailable``) and a database that cannot be reached (``database.unavailable``, told
from a bug by the exception's type: :func:`service.storage.outage.is_unavailable`). ``message``
is in the caller's language (``Accept-Language`` or ``?lang=``, else the configured
default), and ``messages`` carries both languages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from emission_list.i18n import Text, pick, text
from emission_list.revisions import RevisionError
from service.api.language import request_language
from service.bus import BusUnavailableError
from service.loaded import loaded_classes
from service.storage.outage import DatabaseUnavailableError, is_unavailable

log = logging.getLogger("haze.api")

#: Seconds a client is asked to wait before retrying when the database is unreachable.
DATABASE_RETRY_AFTER_S = 5
#: Exception classes that may say the database is unreachable (checked by is_unavailable).
_DATABASE_ERRORS = (SQLAlchemyError, DatabaseUnavailableError)


class ErrorBody(BaseModel):
    code: str = Field(examples=["revision.published"])
    message: str = Field(examples=["Revision 1 is published and cannot change; start a new draft"])
    messages: dict[str, str] = Field(description="The message in zh-CN and en.")
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


class HazeError(Exception):
    """An API refusal with a status, a stable code and a bilingual message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Text,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message['en']}")
        self.status = status
        self.code = code
        self.message = message
        self.details = [dict(d) for d in details]
        self.headers = dict(headers or {})


class BodyTooLarge(StarletteHTTPException):
    """A request body above its path's limit [bytes] (see :mod:`service.api.body_limit`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.limit = limit


def not_found(code: str, zh: str, en: str) -> HazeError:
    return HazeError(404, code, text(zh, en))


def forbidden(zh: str, en: str) -> HazeError:
    return HazeError(403, "auth.forbidden", text(zh, en))


#: HTTP status of each domain refusal code of the list service.
REVISION_STATUS = {
    "revision.unknown": 404,
    "entry.unknown": 404,
    "region.unknown": 404,
    "revision.published": 409,
    "revision.stale": 409,
    "revision.number": 409,
    "duplicate_id": 409,
    "revision.invalid": 422,
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: Text,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error in the one JSON shape; a browser asking a page outside ``/api`` gets the
    console's error page instead (``app.state.error_page``, when the console is installed)."""
    page = _page_renderer(request)
    if page is not None:
        return page(request, status, code, message, details, headers)
    language = request_language(request)
    body = ErrorOut(
        error=ErrorBody(
            code=code,
            message=pick(message, language),
            messages=dict(message),
            details=[dict(d) for d in details],
        )
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


ErrorPage = Callable[
    [Request, int, str, Text, Sequence[Mapping[str, Any]], Mapping[str, str] | None], Response
]


def _page_renderer(request: Request) -> ErrorPage | None:
    app = request.scope.get("app")
    renderer = getattr(getattr(app, "state", None), "error_page", None)
    if renderer is None or request.url.path.startswith("/api/"):
        return None
    # htmx asks for HTML without saying so (its Accept is */*)
    wants_html = "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers
    return renderer if wants_html else None


def too_large_response(request: Request, exc: BodyTooLarge) -> Response:
    """413 ``body.too_large``, the path's limit in ``details``."""
    code, message = _HTTP_CODES[413]
    return error_response(request, 413, code, message, [{"limit_bytes": exc.limit}])


_HTTP_CODES: dict[int, tuple[str, Text]] = {
    400: (
        "request.unreadable",
        text("请求体无法解析（不是有效的 JSON 或表单）", "The body is not valid JSON or form data"),
    ),
    404: ("not_found", text("没有这个地址", "No such path")),
    405: ("method_not_allowed", text("此地址不支持该方法", "Method not allowed on this path")),
    413: ("body.too_large", text("请求体过大", "Request body too large")),
}


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "type": e.get("type", ""),
            "message": e.get("msg", ""),
        }
        for e in exc.errors()
    ]


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives the request's path (a path template's
    ``{name}`` matches one segment)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
    return sorted(methods)


def install(app: FastAPI, authenticate: Callable[[Request], Awaitable[object]]) -> None:
    """Register the handlers that give every error the one JSON shape; ``authenticate``
    refuses a request without a valid token (:class:`HazeError`), for the API's invalid
    bodies: who is calling is told before what is wrong with the body."""

    @app.exception_handler(HazeError)
    async def _haze(request: Request, exc: HazeError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RevisionError)
    async def _revision(request: Request, exc: RevisionError) -> Response:
        details = [e.to_dict() for e in exc.errors]
        status = REVISION_STATUS.get(exc.code, 409)
        return error_response(request, status, exc.code, exc.message, details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI reads the body before the dependencies run: who is calling comes first.
        if request.url.path.startswith("/api/v1"):
            try:
                await authenticate(request)
            except HazeError as refused:
                return await _haze(request, refused)
        message = text("请求内容不符合要求", "The request is not valid")
        return error_response(request, 422, "request.invalid", message, _validation_details(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, BodyTooLarge):
            return too_large_response(request, exc)
        code, message = _HTTP_CODES.get(
            exc.status_code, ("http.error", text("请求失败", "Request failed"))
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(request, exc.status_code, code, message, (), headers)

    @app.exception_handler(BusUnavailableError)
    async def _bus(request: Request, exc: BusUnavailableError) -> Response:
        if exc.nothing_accepted:
            message = text(
                "事件总线暂不可用，数据未被接收，请稍后重试", "Nothing was accepted: " + str(exc)
            )
        else:
            message = text(
                "事件总线未确认全部数据，部分可能已被接收；请稍后重试（重复提交是安全的）",
                "Not all was acknowledged, some may have been taken; retry later (a retry "
                "is safe): " + str(exc),
            )
        headers = {"Retry-After": str(exc.retry_after_s)}
        return error_response(request, 503, "bus.unavailable", message, (), headers)

    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = text(
            "服务内部错误，请联系值班人员", "Internal error; the on-call engineer was told"
        )
        return error_response(request, 500, "internal", message)

    async def _database(request: Request, exc: Exception) -> Response:
        if not is_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        message = text(
            "数据库暂不可用，请稍后重试（重复提交是安全的）",
            "The database is unavailable; retry later (a retry is safe)",
        )
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
        return error_response(request, 503, "database.unavailable", message, (), headers)

    # asyncpg's errors when it is loaded: on PostgreSQL the engine made before the app did.
    for database_error in (*_DATABASE_ERRORS, *loaded_classes("asyncpg", "PostgresError")):
        app.add_exception_handler(database_error, _database)
    app.add_exception_handler(Exception, _unexpected)


#: OpenAPI description of the error answers every endpoint can give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "The body is not valid JSON or form data (`request.unreadable`).",
        401: "No valid bearer token (`auth.missing`, `auth.invalid`).",
        403: "The token's role may not do this (`auth.forbidden`).",
        404: "Something the path names does not exist, or is not this token's to see.",
        409: "Conflicts with the current state (a published revision, a stale draft, a cycle).",
        413: "The body is larger than the configured limit (`body.too_large`).",
        422: "The request does not validate (`request.invalid`; every problem in `details`), or"
        " holds a NUL or a lone surrogate (`request.invalid_text`), or names what is unknown.",
        429: "Over the token's rate limit (`rate.limited`): see Retry-After and RateLimit-*.",
        431: "The request's headers are larger than the configured limit (`headers.too_large`).",
        503: "Infrastructure unavailable (`database.unavailable`, `bus.unavailable`); see "
        "`Retry-After`.",
    }.items()
}

#: OpenAPI description of 503, for the endpoints that hand their data to the event bus.
BUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorOut,
        "description": "The bus or the database is unavailable (`bus.unavailable`, "
        "`database.unavailable`): retry after `Retry-After` seconds; a retry is safe.",
    }
}
