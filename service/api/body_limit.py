"""Refuse request bodies above ``HAZE_MAX_BODY_BYTES`` with 413, declared or streamed."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):  # no body to limit on the polling path
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            scope["haze.body_too_large"] = True
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            if scope.get("haze.body_too_large"):
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited, send)
