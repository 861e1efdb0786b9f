"""Signed, expiring acknowledgement links: a round trip, and each way a link is refused."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from service.errors import HazeError
from service.notify.ack_links import (
    AckLinkExpired,
    AckLinkInvalid,
    AckLinks,
    ack_nonce,
    notice_ack_url,
)
from service.settings import Settings
from tests.service.notice_samples import ALERT, ENDED, ENTERPRISE_ID, ORANGE

KEY = b"an acknowledgement key of 32 bytes!"
START = 1_796_000_000.0  # 2026-11-30 UTC


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def links(clock: Clock | None = None, key: bytes = KEY, max_age_s: int = 3600) -> AckLinks:
    return AckLinks(key, "https://hb.example.gov.cn/", max_age_s, clock=clock)


def test_round_trip() -> None:
    url = links(Clock()).url(42, ENTERPRISE_ID, "n0nce")
    base, token = url.rsplit("/ack/", 1)
    assert base == "https://hb.example.gov.cn"
    claim = links(Clock(START + 3599)).verify(token)
    assert (claim.notice_id, claim.enterprise_id, claim.nonce) == (42, ENTERPRISE_ID, "n0nce")
    assert claim.signed_at == dt.datetime.fromtimestamp(START, dt.UTC)


@given(
    notice_id=st.integers(min_value=0, max_value=2**63 - 1),
    # text that UTF-8 can carry (no lone surrogates): ids and nonces are ASCII in practice
    enterprise=st.text(
        st.characters(exclude_characters="~", exclude_categories=("Cs",)), min_size=1, max_size=30
    ),
    nonce=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30),
)
def test_any_claim_comes_back(notice_id: int, enterprise: str, nonce: str) -> None:
    maker = links(Clock())
    claim = maker.verify(maker.token(notice_id, enterprise, nonce))
    assert (claim.notice_id, claim.enterprise_id, claim.nonce) == (notice_id, enterprise, nonce)


def test_an_old_link_is_expired_not_invalid() -> None:
    token = links(Clock()).token(42, ENTERPRISE_ID, "n")
    with pytest.raises(AckLinkExpired) as refused:
        links(Clock(START + 3601)).verify(token)
    assert (refused.value.status, refused.value.code) == (410, "ack.link_expired")
    assert refused.value.details == [{"signed_at": "2026-11-30T00:53:20+00:00"}]


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_a_tampered_link_is_invalid() -> None:
    maker = links(Clock())
    token = maker.token(42, ENTERPRISE_ID, "n")
    payload, stamp, mac = token.split(".")
    forged_claim = base64.urlsafe_b64encode(f"43~{ENTERPRISE_ID}~n".encode()).decode().rstrip("=")
    tampered = [
        _flip(token, 0),  # the claim
        _flip(token, len(payload) + 2),  # the time
        _flip(token, len(token) - 1),  # the MAC
        f"{forged_claim}.{stamp}.{mac}",  # another notice under this MAC
        token[:-1],
        f"{payload}.{stamp}",
        "",
        "not-a-token",
        "a.b.c",
        links(Clock(), key=b"another key, 32 bytes long......").token(42, ENTERPRISE_ID, "n"),
    ]
    for bad in tampered:
        with pytest.raises(AckLinkInvalid) as refused:
            maker.verify(bad)
        assert (refused.value.status, refused.value.code) == (404, "ack.link_invalid")


def test_a_link_signed_in_the_future_is_refused() -> None:
    """A clock skew between processes is no way to make a link live longer."""
    token = links(Clock(START + 7200)).token(42, ENTERPRISE_ID, "n")
    with pytest.raises(AckLinkInvalid):
        links(Clock()).verify(token)


def test_the_two_refusals_are_api_errors_in_both_languages() -> None:
    for error in (AckLinkInvalid(), AckLinkExpired(None)):
        assert isinstance(error, HazeError) and set(error.message) == {"zh-CN", "en"}
    assert AckLinkInvalid().code != AckLinkExpired(None).code


def test_a_channels_link_names_the_delivery_and_is_dated_by_its_notice() -> None:
    made = ORANGE.created_at.timestamp()
    maker = links(Clock(made + 60))
    url = notice_ack_url(maker, ORANGE, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    assert url is not None and len(url) <= 110
    assert url == notice_ack_url(
        links(Clock(made + 120)), ORANGE, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    )
    claim = maker.verify(url.rsplit("/", 1)[1])
    assert claim.signed_at == ORANGE.created_at
    assert claim.nonce == ack_nonce("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") and len(claim.nonce) == 12
    assert ack_nonce("msg_a") != ack_nonce("msg_b")
    assert notice_ack_url(maker, ENDED, "m") is not None
    assert notice_ack_url(maker, ALERT, "m") is None  # a region's alert: nobody acknowledges
    assert notice_ack_url(None, ORANGE, "m") is None
    assert notice_ack_url(maker, replace(ORANGE, enterprise_id=None), "m") is None


def test_from_settings() -> None:
    config = Settings(
        ack_link_key="k" * 32, public_url="https://hb.example.gov.cn", ack_link_hours=2
    )
    maker = AckLinks.from_settings(config)
    assert maker.max_age_s == 7200 and maker.base_url == "https://hb.example.gov.cn"
    assert Settings().ack_link_hours == 72 and Settings().public_url == "http://127.0.0.1:8000"
    with pytest.raises(ValueError, match="HAZE_ACK_LINK_KEY"):
        AckLinks.from_settings(Settings())
    with pytest.raises(ValidationError, match="HAZE_ACK_LINK_KEY"):
        Settings(ack_link_key="short")
