"""Refuse requests whose headers are too large (431), and mark every answer ``nosniff``.

``haze serve`` also has the HTTP parser stop reading headers past the limit
(:mod:`service.api.http_limits`); this middleware holds the same line for any other server that
runs the app, before anything reads a header.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from emission_list.i18n import pick, text
from service.errors import ErrorBody, ErrorOut

NOSNIFF = (b"x-content-type-options", b"nosniff")
TOO_LARGE = text("请求头过大", "Request headers too large")


def headers_too_large(limit: int, language: str) -> JSONResponse:
    """The 431 answer (in the configured language: the request's headers are not read)."""
    body = ErrorOut(
        error=ErrorBody(
            code="headers.too_large",
            message=pick(TOO_LARGE, language),
            messages=dict(TOO_LARGE),
            details=[{"max_header_bytes": limit}],
        )
    )
    return JSONResponse(body.model_dump(), status_code=431, headers={"Connection": "close"})


def header_bytes(scope: dict) -> int:
    """The size of a request's target and headers as on the wire [bytes]."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4  # ": " and CRLF
    return size


class HeaderGuardMiddleware:
    def __init__(self, app: Any, max_header_bytes: int, language: str = "zh-CN") -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.language = language

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if header_bytes(scope) > self.max_header_bytes:
            answer = headers_too_large(self.max_header_bytes, self.language)
            await answer(scope, receive, self._nosniff(send))
            return
        await self.app(scope, receive, self._nosniff(send))

    @staticmethod
    def _nosniff(send: Any) -> Any:
        async def send_nosniff(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), NOSNIFF]
            await send(message)

        return send_nosniff
