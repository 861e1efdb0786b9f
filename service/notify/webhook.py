"""Webhooks as the Standard Webhooks specification has them.

Each attempt is a POST of the notice's JSON body with ``webhook-id`` (the same on every retry,
so a receiver deduplicates), ``webhook-timestamp`` (this attempt's, in seconds) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under the
subscription's ``whsec_`` secret, made by the ``standardwebhooks`` package). Any 2xx is
delivered; 410 Gone disables the subscription; everything else (429 and 503 with their
``Retry-After``, other statuses, timeouts, refused connections) is retried by the worker.
Redirects are not followed and at most a few kilobytes of an answer are read.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import TYPE_CHECKING

import msgspec
from standardwebhooks.webhooks import Webhook

from service.notify.message import Attempt, Notice, Target, retry_after

if TYPE_CHECKING:  # imported when the first webhook is sent (an idle process saves ~8 MB)
    import aiohttp

SECRET_PREFIX = "whsec_"
#: An answer's body is read this far, for the delivery's error text.
ANSWER_BYTES = 2_000
USER_AGENT = "haze-response-webhooks/1"


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: ``whsec_`` + base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body_bytes(notice: Notice) -> bytes:
    """The body of a notice (compact JSON, UTF-8; msgspec: a worker encodes thousands a
    second)."""
    return msgspec.json.encode(notice.body)


def signed_headers(
    secret: str, message_id: str, body: bytes, at: dt.datetime | None = None
) -> dict[str, str]:
    at = at or dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class WebhookChannel:
    """Posts notices with one shared HTTP connection pool."""

    def __init__(self, timeout_s: float, connections: int = 256) -> None:
        self._timeout_s = timeout_s
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
            timeout = aiohttp.ClientTimeout(total=self._timeout_s)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False
            )
        return self._session

    async def deliver(self, notice: Notice, target: Target, message_id: str) -> Attempt:
        import aiohttp

        body = body_bytes(notice)
        headers = signed_headers(target.secret or "", message_id, body)
        try:
            async with self._client().post(
                target.address, data=body, headers=headers, allow_redirects=False
            ) as answer:
                return await _attempt(answer)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return Attempt("retry", None, f"{type(exc).__name__}: {exc}"[:300])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _attempt(answer: aiohttp.ClientResponse) -> Attempt:
    import aiohttp

    status = answer.status
    if 200 <= status < 300:
        return Attempt("delivered", status)
    try:
        text = (await answer.content.read(ANSWER_BYTES)).decode("utf-8", "replace")
    except (TimeoutError, aiohttp.ClientError):
        text = ""
    detail = f"HTTP {status}: {text.strip()}"[:300]
    if status == 410:
        return Attempt("gone", status, detail)
    wait = retry_after(answer.headers.get("Retry-After")) if status in (429, 503) else None
    return Attempt("retry", status, detail, wait)
