"""The SMS channel: one POST per notice to the bureau's HTTP SMS gateway.

The request is ``HAZE_SMS_BODY_TEMPLATE`` with ``$to``, ``$text``, ``$message_id`` and
``$language`` replaced (values JSON-escaped, or percent-encoded for a form body), the credential
in ``HAZE_SMS_AUTH_HEADER``. What the gateway answers decides the :class:`Attempt`: 2xx
delivered; 429 and 503 retry after its ``Retry-After``; other 5xx, a timeout or no connection
retry; 410 gone; any other 4xx failed, with the status and the start of the answer.
"""

from __future__ import annotations

import re

import aiohttp

from service.notify.ack_links import AckLinks, notice_ack_url
from service.notify.message import Attempt, Notice, Target, retry_after
from service.notify.sms_body import render_body
from service.notify.texts import sender_signature, sms_text
from service.settings import Settings

#: How much of a gateway's answer goes into an attempt's ``detail`` [characters].
DETAIL_CHARS = 300
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


def valid_phone(value: str) -> bool:
    """A number an SMS can go to: E.164 (``+8613800000000``; under +86 a mobile number) or an
    11-digit mainland mobile number (``13800000000``)."""
    if value.startswith("+86"):
        return _MAINLAND_MOBILE.fullmatch(value[3:]) is not None
    return bool(_E164.fullmatch(value) or _MAINLAND_MOBILE.fullmatch(value))


class SmsChannel:
    """Sends notices through an HTTP SMS gateway (see the module). ``ack_links`` makes the
    acknowledgement link of an enterprise's notice, with the delivery's ``message_id`` as its
    nonce; without it the SMS carries none."""

    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession | None = None,
        ack_links: AckLinks | None = None,
    ) -> None:
        if not settings.sms_gateway_url:
            raise ValueError("HAZE_SMS_GATEWAY_URL is empty: SMS is off")
        self.settings = settings
        self.ack_links = ack_links
        self._session = session
        self._own_session = session is None
        self._headers = {"Content-Type": _CONTENT_TYPES[settings.sms_body_format]}
        if settings.sms_auth_value is not None:
            self._headers[settings.sms_auth_header] = settings.sms_auth_value.get_secret_value()
        self._signature = sender_signature(settings)

    def text(self, notice: Notice, target: Target, message_id: str) -> str:
        """The SMS ``target`` gets for ``notice``."""
        link = notice.ack_url or notice_ack_url(self.ack_links, notice, message_id)
        return sms_text(
            notice, target.language, link, self.settings.sms_max_segments, self._signature
        )

    async def deliver(self, notice: Notice, target: Target, message_id: str) -> Attempt:
        if not valid_phone(target.address):
            return Attempt("failed", detail=f"not a mobile number: {target.address[:40]!r}")
        values = {
            "to": target.address,
            "text": self.text(notice, target, message_id),
            "message_id": message_id,
            "language": target.language,
        }
        settings = self.settings
        body = render_body(settings.sms_body_template, settings.sms_body_format, values)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self.settings.sms_timeout_s)
        try:
            async with self._session.post(
                self.settings.sms_gateway_url,
                data=body.encode("utf-8"),
                headers=self._headers,
                timeout=timeout,
            ) as response:
                answer = (await response.content.read(DETAIL_CHARS * 4)).decode("utf-8", "replace")
                return _attempt(response.status, response.headers.get("Retry-After"), answer)
        except TimeoutError:
            return Attempt("retry", detail="the SMS gateway did not answer in time")
        except aiohttp.ClientError as error:
            return Attempt("retry", detail=f"SMS gateway unreachable: {type(error).__name__}")

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


def _attempt(status: int, retry_after_header: str | None, answer: str) -> Attempt:
    detail = f"HTTP {status}: {answer.strip()[:DETAIL_CHARS]}"
    if 200 <= status < 300:
        return Attempt("delivered", status)
    if status in (429, 503):
        return Attempt("retry", status, detail, retry_after(retry_after_header))
    if status >= 500:
        return Attempt("retry", status, detail)
    if status == 410:
        return Attempt("gone", status, detail)
    return Attempt("failed", status, detail)
