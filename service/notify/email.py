"""The email channel: one message per notice over SMTP (:mod:`aiosmtplib`).

A message (:func:`service.notify.texts.email_message`: plain text and HTML in the
subscription's language) goes to ``HAZE_SMTP_HOST``; what the server says decides the
:class:`Attempt`: accepted delivered; a 4xx reply, a timeout or no connection retry; a 5xx
reply (a refused recipient, a refused sender) failed.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import aiosmtplib

from service.notify.ack_links import AckLinks, notice_ack_url
from service.notify.message import Attempt, Notice, Target
from service.notify.texts import email_message, sender_signature
from service.settings import Settings

_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_TRANSIENT = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPServerDisconnected,
    OSError,
    TimeoutError,
)


def valid_email(value: str) -> bool:
    """A plain address an SMTP server can be asked to deliver to: ``local@domain.tld``
    (ASCII, at most 254 characters; no display name). Whether it exists only its server says."""
    return len(value) <= 254 and _ADDRESS.fullmatch(value) is not None


class EmailChannel:
    """Sends notices by SMTP (see the module). ``ack_links`` as for the SMS channel: the
    delivery's ``message_id`` is the link's nonce."""

    def __init__(self, settings: Settings, ack_links: AckLinks | None = None) -> None:
        if not settings.smtp_host:
            raise ValueError("HAZE_SMTP_HOST is empty: email is off")
        self.settings = settings
        self.ack_links = ack_links
        self._signature = sender_signature(settings)

    def message(self, notice: Notice, target: Target, message_id: str) -> EmailMessage:
        """The email ``target`` gets for ``notice``."""
        link = notice.ack_url or notice_ack_url(self.ack_links, notice, message_id)
        return email_message(
            notice,
            target.language,
            link,
            self.settings.smtp_from,
            to=target.address,
            signature=self._signature,
        )

    async def deliver(self, notice: Notice, target: Target, message_id: str) -> Attempt:
        if not valid_email(target.address):
            return Attempt("failed", detail=f"not an email address: {target.address[:60]!r}")
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                self.message(notice, target, message_id),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=password if settings.smtp_username else None,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            return _replied(max(r.code for r in refused.recipients), refused.recipients[0].message)
        except aiosmtplib.SMTPResponseException as error:
            return _replied(error.code, error.message)
        except _TRANSIENT as error:
            return Attempt("retry", detail=f"SMTP server unreachable: {type(error).__name__}")
        except aiosmtplib.SMTPException as error:
            return Attempt("failed", detail=f"SMTP: {type(error).__name__}: {error}"[:300])
        return Attempt("delivered", 250)

    async def close(self) -> None:
        """Nothing to close: each notice opens and closes its own SMTP connection."""


def _replied(code: int, message: str) -> Attempt:
    detail = f"SMTP {code}: {message.strip()[:300]}"
    return Attempt("retry" if 400 <= code < 500 else "failed", code, detail)
