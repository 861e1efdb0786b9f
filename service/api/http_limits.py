"""Make uvicorn's HTTP parser stop reading a request head at ``HAZE_MAX_HEADER_BYTES``.

httptools (uvicorn's fast parser) gathers a header whole before handing it over, however
large; :func:`limited_httptools` gives a protocol that counts the bytes of a request's head
as they arrive and answers 431 (``headers.too_large``) and closes the connection once they
pass the limit. h11 has its own bound, ``h11_max_incomplete_event_size``: see
:func:`uvicorn_options`.
"""

from __future__ import annotations

import json
from typing import Any

from service.api.header_guard import TOO_LARGE


def _answer_431(limit: int) -> bytes:
    body = json.dumps(
        {
            "error": {
                "code": "headers.too_large",
                "message": TOO_LARGE["en"],
                "messages": dict(TOO_LARGE),
                "details": [{"max_header_bytes": limit}],
            }
        },
        ensure_ascii=False,
    ).encode("utf-8")
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        "x-content-type-options: nosniff\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def limited_httptools(max_header_bytes: int) -> type[Any]:
    """uvicorn's httptools protocol, refusing request heads above ``max_header_bytes``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    answer = _answer_431(max_header_bytes)

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _head_bytes = 0
        _in_head = True

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head, self._head_bytes = True, 0

        def data_received(self, data: bytes) -> None:
            if not self._in_head:
                super().data_received(data)
                return
            allowed = max_header_bytes - self._head_bytes
            self._head_bytes += len(data)
            if len(data) <= allowed:
                super().data_received(data)
                return
            super().data_received(data[:allowed])  # the head may end within the limit
            if self.transport.is_closing():
                return
            if self._in_head:
                self.logger.warning("Request headers above %d bytes refused", max_header_bytes)
                self.transport.write(answer)
                self.transport.close()
                return
            super().data_received(data[allowed:])

    return LimitedHttpToolsProtocol


def uvicorn_options(max_header_bytes: int) -> dict[str, Any]:
    """``uvicorn.run`` options bounding request heads with whichever parser is installed."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return {"http": "h11", "h11_max_incomplete_event_size": max_header_bytes}
    return {
        "http": limited_httptools(max_header_bytes),
        "h11_max_incomplete_event_size": max_header_bytes,
    }
