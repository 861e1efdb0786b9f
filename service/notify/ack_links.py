"""Signed, expiring acknowledgement links for the SMS and email notices (no token needed).

A link is ``{base_url}/ack/{token}``; the token is an :mod:`itsdangerous` URL-safe timed
signature of the notice, the enterprise and a nonce (HMAC-SHA256 over the claim and the time it
was made). It proves who it was sent to and when; that it is used once is the database's
business (the nonce is stored with the delivery and consumed once), not the token's.

An SMS has room for little, and every character of the link is one less for the notice, so the
token is kept short: the claim is packed as ``notice_id~enterprise_id~nonce`` rather than JSON,
the nonce of a delivery is :func:`ack_nonce` of its message id (12 characters), and the MAC is
cut to 96 bits (RFC 2104 section 5 allows truncation to half the hash; a link is guessed online
only, one try per request). A link is then about 100 characters.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

from emission_list.i18n import text
from service.errors import HazeError
from service.notify.message import Notice

SALT = "haze.notify.ack"
_SEP = "~"
#: Bytes of the HMAC-SHA256 a token keeps (96 bits).
MAC_BYTES = 12


def ack_nonce(message_id: str) -> str:
    """The nonce of a delivery's link: 12 URL-safe characters derived from its message id
    (the same on every retry), so the delivery need not store a second random value."""
    digest = hashlib.sha256(message_id.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


class _TruncatedHmac(HMACAlgorithm):
    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return super().get_signature(key, value)[:MAC_BYTES]


@dataclass(frozen=True)
class AckClaim:
    """What a valid link says: which notice, to which enterprise, with which nonce, since when."""

    notice_id: int
    enterprise_id: str
    nonce: str
    signed_at: dt.datetime


class AckLinkInvalid(HazeError):
    """The token was not made with our key (tampered with, cut short, or made up)."""

    def __init__(self) -> None:
        super().__init__(
            404,  # no link of ours: as unknown as a notice that is not there
            "ack.link_invalid",
            text(
                "确认链接无效：请使用通知中的完整链接，或登录后确认。",
                "This acknowledgement link is not valid: use the whole link of the notice, "
                "or acknowledge after signing in.",
            ),
        )


class AckLinkExpired(HazeError):
    """The token is ours but older than the links' lifetime."""

    def __init__(self, signed_at: dt.datetime | None) -> None:
        super().__init__(
            410,
            "ack.link_expired",
            text(
                "确认链接已过期：请登录后确认该通知。",
                "This acknowledgement link has expired: acknowledge the notice after signing in.",
            ),
            [{"signed_at": signed_at.isoformat()}] if signed_at else [],
        )


class _Claim:
    """The serializer of a claim: ``[notice_id, enterprise_id, nonce]`` as one short string."""

    @staticmethod
    def dumps(claim: Any) -> str:
        return _SEP.join(str(part) for part in claim)

    @staticmethod
    def loads(packed: str | bytes) -> list[str]:
        if isinstance(packed, bytes):
            packed = packed.decode("utf-8")
        return packed.split(_SEP, 2)


class AckLinks:
    """Makes and checks acknowledgement links: ``{base_url}/ack/{token}``.

    ``max_age_s`` is a link's lifetime [s]; ``clock`` (seconds since the epoch, default
    :func:`time.time`) dates both the signing and the check, so tests can age a link.
    """

    def __init__(
        self,
        key: bytes,
        base_url: str,
        max_age_s: int,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if len(key) < 16:
            raise ValueError("an acknowledgement link key needs at least 16 bytes")
        self._key = key
        self._now = clock or time.time
        self._serializer = self._dated(None)
        self._by_time: dict[int, URLSafeTimedSerializer] = {}  # the notices of one change
        self.base_url = base_url.rstrip("/")
        self.max_age_s = max_age_s

    def _dated(self, at: float | None) -> URLSafeTimedSerializer:
        """A serializer dating its tokens ``at`` (None: by the clock)."""
        now = self._now

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(now() if at is None else at)

        return URLSafeTimedSerializer(
            self._key,
            salt=SALT,
            serializer=_Claim,
            signer=_Signer,
            signer_kwargs={"algorithm": _TruncatedHmac(hashlib.sha256)},
        )

    @classmethod
    def from_settings(cls, settings: Any, key: bytes | None = None) -> AckLinks:
        """Links as the settings say: ``HAZE_ACK_LINK_KEY`` (else ``key``), ``HAZE_PUBLIC_URL``
        and ``HAZE_ACK_LINK_HOURS``."""
        if settings.ack_link_key is not None:
            key = settings.ack_link_key.get_secret_value().encode("utf-8")
        if key is None:
            raise ValueError("set HAZE_ACK_LINK_KEY to sign acknowledgement links")
        return cls(key, settings.public_url, round(settings.ack_link_hours * 3600))

    def token(
        self, notice_id: int, enterprise_id: str, nonce: str, at: dt.datetime | None = None
    ) -> str:
        """The signed token of a claim (URL-safe), dated ``at`` (None: now). A notice's links
        are dated when it was made: every try of a delivery carries the same link, and the
        link's lifetime runs from the notice."""
        if _SEP in enterprise_id or not nonce:
            raise ValueError("an enterprise id holds no '~' and a nonce is not empty")
        return self._dated_at(at).dumps([int(notice_id), enterprise_id, nonce])

    def _dated_at(self, at: dt.datetime | None) -> URLSafeTimedSerializer:
        """The serializer of tokens dated ``at``, kept for the next notices of that time."""
        if at is None:
            return self._serializer
        second = int(at.timestamp())
        found = self._by_time.get(second)
        if found is None:
            if len(self._by_time) >= 64:
                self._by_time.clear()
            found = self._by_time[second] = self._dated(second)
        return found

    def url(
        self, notice_id: int, enterprise_id: str, nonce: str, at: dt.datetime | None = None
    ) -> str:
        """The link to put in a notice: ``{base_url}/ack/{token}``."""
        return f"{self.base_url}/ack/{self.token(notice_id, enterprise_id, nonce, at)}"

    def verify(self, token: str) -> AckClaim:
        """The claim of ``token``; :class:`AckLinkExpired` if it is older than ``max_age_s``,
        :class:`AckLinkInvalid` if it is not ours."""
        try:
            parts, signed = self._serializer.loads(
                token, max_age=self.max_age_s, return_timestamp=True
            )
        except SignatureExpired as expired:
            signed_at = expired.date_signed
            if signed_at is not None and signed_at.timestamp() > self._now():
                raise AckLinkInvalid() from None  # "signed" in the future: not by our clock
            raise AckLinkExpired(signed_at) from None
        except (BadData, UnicodeDecodeError):
            raise AckLinkInvalid() from None
        notice_id, enterprise_id, nonce = ([*parts, "", ""])[:3]
        if not notice_id.isdigit() or not enterprise_id or not nonce:
            raise AckLinkInvalid()
        return AckClaim(int(notice_id), enterprise_id, nonce, signed)


def delivery_link(
    links: AckLinks | None,
    notice_id: int,
    enterprise_id: str | None,
    event: str,
    created_at: dt.datetime,
    message_id: str,
) -> str | None:
    """The link an enterprise's notice (``actions.*``) carries in one delivery, dated by the
    notice, with :func:`ack_nonce` of the delivery's ``message_id`` as its nonce; None
    without links or for a region's alert (nobody acknowledges those)."""
    if links is None or not enterprise_id or not event.startswith("actions."):
        return None
    return links.url(notice_id, enterprise_id, ack_nonce(message_id), created_at)


def notice_ack_url(links: AckLinks | None, notice: Notice, message_id: str) -> str | None:
    """:func:`delivery_link` of a channel's notice."""
    return delivery_link(
        links, notice.notice_id, notice.enterprise_id, notice.event, notice.created_at, message_id
    )
