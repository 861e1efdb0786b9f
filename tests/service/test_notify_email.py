"""The email channel against a real SMTP server on 127.0.0.1 (:mod:`aiosmtpd`): what arrives,
and what a refusal or no server comes to."""

from __future__ import annotations

import pytest
from smtp_mailbox import Mailbox

from service.notify.ack_links import AckLinks, ack_nonce
from service.notify.email import EmailChannel, valid_email
from service.settings import Settings
from tests.infra.servers import free_port
from tests.service.notice_samples import ENDED, ENTERPRISE_ID, ORANGE, target

SENDER = "Kundulun EEB <notices@hb.example.gov.cn>"
KEY = b"k" * 32


def channel_for(port: int) -> EmailChannel:
    config = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from=SENDER, smtp_timeout_s=10)
    return EmailChannel(config, AckLinks(KEY, "https://hb.example.gov.cn", 72 * 3600))


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_an_email_arrives_in_the_language_asked(
    smtp_server: tuple[Mailbox, int], language: str
) -> None:
    mailbox, port = smtp_server
    channel = channel_for(port)
    attempt = await channel.deliver(ORANGE, target("email", "ops@example.org", language), "m1")
    await channel.close()
    assert attempt.outcome == "delivered"
    ((recipients, message),) = mailbox.messages
    assert recipients == ["ops@example.org"] and message["To"] == "ops@example.org"
    assert message["From"] == SENDER and message["Content-Language"] == language
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    words = {"zh-CN": ("橙色", "限产要求", "贵单位"), "en": ("Orange", "Production cut", "your")}
    for word in words[language]:
        assert word in plain and word in html
    other = words["en" if language == "zh-CN" else "zh-CN"]
    assert not any(w in plain or w in html for w in other)
    link = next(w for w in plain.split() if "/ack/" in w)
    assert link in html
    read_at = ORANGE.created_at.timestamp() + 60  # links are dated by their notice
    reader = AckLinks(KEY, "https://hb.example.gov.cn", 3600, clock=lambda: read_at)
    claim = reader.verify(link.rsplit("/", 1)[1])
    assert (claim.notice_id, claim.enterprise_id, claim.nonce) == (
        42,
        ENTERPRISE_ID,
        ack_nonce("m1"),
    )
    name = ORANGE.enterprise_name[language]
    assert name in plain and name not in html
    assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html


async def test_a_resend_keeps_its_message_id(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    channel = channel_for(port)
    for _ in range(2):
        attempt = await channel.deliver(ENDED, target("email", "ops@example.org"), "m2")
        assert attempt.outcome == "delivered"
    first, second = (m for _, m in mailbox.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert "可恢复正常生产" in first.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("address", "outcome", "code", "said"),
    [
        ("nobody@example.org", "failed", 550, "5.1.1 No such user here"),
        ("later@example.org", "retry", 451, "4.3.0 Mailbox busy, try again later"),
    ],
)
async def test_a_refused_recipient(
    smtp_server: tuple[Mailbox, int], address: str, outcome: str, code: int, said: str
) -> None:
    mailbox, port = smtp_server
    attempt = await channel_for(port).deliver(ORANGE, target("email", address), "m3")
    assert (attempt.outcome, attempt.status) == (outcome, code)
    assert attempt.detail == f"SMTP {code}: {said}"
    assert mailbox.messages == []


async def test_no_server_is_retried() -> None:
    attempt = await channel_for(free_port()).deliver(ORANGE, target("email", "a@example.org"), "m")
    assert attempt.outcome == "retry" and attempt.status is None
    assert "unreachable" in attempt.detail


async def test_a_bad_address_is_refused_without_asking_the_server(
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp_server
    attempt = await channel_for(port).deliver(ORANGE, target("email", "ops@localhost"), "m")
    assert attempt.outcome == "failed" and mailbox.messages == []


def test_email_off_without_a_host() -> None:
    with pytest.raises(ValueError, match="HAZE_SMTP_HOST"):
        EmailChannel(Settings())


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("ops@example.org", True),
        ("zhang.san+haze@hb.baotou.gov.cn", True),
        ("o'brien@example.co.uk", True),
        ("ops@localhost", False),
        ("ops@@example.org", False),
        ("ops.@example.org", False),
        (".ops@example.org", False),
        ("ops@-example.org", False),
        ("Ops <ops@example.org>", False),
        ("ops@example.org\r\nBcc: x@example.org", False),
        ("张三@example.org", False),
        ("", False),
        ("a" * 250 + "@example.org", False),
    ],
)
def test_valid_email(address: str, valid: bool) -> None:
    assert valid_email(address) is valid
