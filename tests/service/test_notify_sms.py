"""The SMS channel against a real HTTP gateway on 127.0.0.1 (an aiohttp app in the test's
event loop): what arrives, and what each answer of the gateway comes to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs

import pytest
import pytest_asyncio
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.notify.ack_links import AckLinks, ack_nonce
from service.notify.sms import DETAIL_CHARS, SmsChannel, valid_phone
from service.settings import Settings
from tests.infra.servers import free_port
from tests.service.notice_samples import ENTERPRISE_ID, ORANGE, segments_apart, target

PHONE = "+8613800000000"


@dataclass
class Gateway:
    """A local SMS gateway: records each request and answers with ``answer`` (status, body,
    headers); ``hang`` makes it never answer."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    answer: tuple[int, str, dict[str, str]] = (200, '{"code": 0}', {})
    hang: bool = False

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append({"headers": dict(request.headers), "body": body.decode("utf-8")})
        if self.hang:
            await asyncio.Event().wait()  # until the client gives up and the server stops
        status, text, headers = self.answer
        return web.Response(status=status, text=text, headers=headers)


@pytest_asyncio.fixture(loop_scope="session")
async def gateway() -> AsyncIterator[Gateway]:
    gateway = Gateway()
    app = web.Application()
    app.router.add_post("/sms/send", gateway.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    gateway.url = f"http://{host}:{port}/sms/send"
    yield gateway
    await runner.cleanup()


def channel_for(url: str, **options) -> SmsChannel:
    config = Settings(
        sms_gateway_url=url, sms_auth_value="Bearer s3cret", sms_timeout_s=5.0, **options
    )
    links = AckLinks(b"k" * 32, "https://hb.example.gov.cn", 72 * 3600)
    return SmsChannel(config, ack_links=links)


async def test_an_sms_reaches_the_gateway_as_the_template_says(gateway: Gateway) -> None:
    channel = channel_for(gateway.url)
    try:
        attempt = await channel.deliver(ORANGE, target("sms", PHONE), "msg_1")
    finally:
        await channel.close()
    assert attempt.outcome == "delivered" and attempt.status == 200
    (request,) = gateway.received
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert set(body) == {"to", "text", "id"}
    assert body["to"] == PHONE and body["id"] == "msg_1"
    assert body["text"].startswith("【昆都仑区生态环境分局】包头钢铁<b>&公司：橙色预警")
    assert len(segments_apart(body["text"])) <= 3
    read_at = ORANGE.created_at.timestamp() + 60  # links are dated by their notice
    link = AckLinks(b"k" * 32, "https://hb.example.gov.cn", 3600, clock=lambda: read_at)
    token = body["text"].rsplit("/ack/", 1)[1]
    claim = link.verify(token)
    assert (claim.notice_id, claim.enterprise_id, claim.nonce) == (
        ORANGE.notice_id,
        ENTERPRISE_ID,
        ack_nonce("msg_1"),
    )


async def test_a_form_body_and_another_header(gateway: Gateway) -> None:
    channel = channel_for(
        gateway.url,
        sms_auth_header="X-Api-Key",
        sms_body_format="form",
        sms_body_template="mobile=$to&content=$text&lang=$language&ref=$message_id",
    )
    try:
        attempt = await channel.deliver(ORANGE, target("sms", "13800000000", "en"), "m&2")
    finally:
        await channel.close()
    assert attempt.outcome == "delivered"
    (request,) = gateway.received
    assert request["headers"]["X-Api-Key"] == "Bearer s3cret"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request["body"], strict_parsing=True).items()}
    assert form["mobile"] == "13800000000" and form["ref"] == "m&2" and form["lang"] == "en"
    assert form["content"].startswith("【Kundulun EEB】Baotou Stee…: orange warning")
    assert "/ack/" in form["content"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=60),
    kg=st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=4, max_size=4),
    cut=st.floats(min_value=0, max_value=1),
    language=st.sampled_from(["zh-CN", "en"]),
    max_segments=st.integers(min_value=1, max_value=4),
)
async def test_any_sms_the_gateway_gets_fits_its_segments(
    gateway: Gateway, name, kg, cut, language, max_segments
) -> None:
    notice = replace(
        ORANGE,
        enterprise_name={"zh-CN": name, "en": name},
        reductions_kg_per_day=dict(zip(["so2", "nox", "pm", "vocs"], kg, strict=True)),
        production_cut=cut,
    )
    gateway.received.clear()
    channel = channel_for(gateway.url, sms_max_segments=max_segments)
    try:
        attempt = await channel.deliver(notice, target("sms", PHONE, language), "msg_h")
    finally:
        await channel.close()
    assert attempt.outcome == "delivered"
    text = json.loads(gateway.received[0]["body"])["text"]
    assert 1 <= len(segments_apart(text)) <= max_segments


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "delay"),
    [
        (429, {"Retry-After": "7"}, "retry", 7.0),
        (503, {"Retry-After": "120"}, "retry", 120.0),
        (503, {}, "retry", None),
        (500, {"Retry-After": "7"}, "retry", None),
        (502, {}, "retry", None),
        (410, {}, "gone", None),
        (400, {}, "failed", None),
        (401, {}, "failed", None),
        (202, {}, "delivered", None),
    ],
)
async def test_what_the_gateway_answers_decides(
    gateway: Gateway, status: int, headers: dict, outcome: str, delay: float | None
) -> None:
    answer = '{"code": "E' + "x" * 1000 + '"}'
    gateway.answer = (status, answer, headers)
    channel = channel_for(gateway.url)
    try:
        attempt = await channel.deliver(ORANGE, target("sms", PHONE), "msg_3")
    finally:
        await channel.close()
    assert (attempt.outcome, attempt.status, attempt.retry_after_s) == (outcome, status, delay)
    if outcome != "delivered":
        assert attempt.detail.startswith(f"HTTP {status}: " + '{"code": "Exxx')
        assert len(attempt.detail) == len(f"HTTP {status}: ") + DETAIL_CHARS


async def test_a_closed_port_is_retried() -> None:
    channel = channel_for(f"http://127.0.0.1:{free_port()}/sms/send")
    try:
        attempt = await channel.deliver(ORANGE, target("sms", PHONE), "msg_4")
    finally:
        await channel.close()
    assert attempt.outcome == "retry" and attempt.status is None
    assert "unreachable" in attempt.detail


async def test_a_gateway_that_does_not_answer_is_retried(gateway: Gateway) -> None:
    gateway.hang = True
    channel = SmsChannel(Settings(sms_gateway_url=gateway.url, sms_timeout_s=0.2))
    try:
        attempt = await channel.deliver(ORANGE, target("sms", PHONE), "msg_5")
    finally:
        await channel.close()
    assert attempt.outcome == "retry" and "in time" in attempt.detail
    assert len(gateway.received) == 1


async def test_a_bad_number_is_refused_without_asking_the_gateway(gateway: Gateway) -> None:
    channel = channel_for(gateway.url)
    try:
        attempt = await channel.deliver(ORANGE, target("sms", "010-12345678"), "msg_6")
    finally:
        await channel.close()
    assert attempt.outcome == "failed" and gateway.received == []


async def test_a_shared_session_stays_open(gateway: Gateway) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        channel = SmsChannel(Settings(sms_gateway_url=gateway.url), session=session)
        assert (await channel.deliver(ORANGE, target("sms", PHONE), "a")).outcome == "delivered"
        await channel.close()
        assert not session.closed
        assert (await channel.deliver(ORANGE, target("sms", PHONE), "b")).outcome == "delivered"
    assert "Authorization" not in gateway.received[0]["headers"]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("+8613800000000", True),
        ("13800000000", True),
        ("+8619912345678", True),
        ("+447911123456", True),
        ("+8612800000000", False),  # no mainland mobile starts 12
        ("+86104000000", False),  # a Beijing landline
        ("12345678901", False),
        ("1380000000", False),
        ("138000000000", False),
        ("+86 138 0000 0000", False),
        ("8613800000000", False),
        ("+0123456789", False),
        ("", False),
        ("+８６13800000000", False),
    ],
)
def test_valid_phone(number: str, valid: bool) -> None:
    assert valid_phone(number) is valid


@pytest.mark.parametrize(
    "template",
    ['{"to": $to}', '{"to": "$to", "text": "$txt"}', '{"to": "$to"', "to=$to&cost=$5"],
)
def test_a_template_that_cannot_work_is_refused_at_start(template: str) -> None:
    with pytest.raises(ValidationError, match="HAZE_SMS_BODY_TEMPLATE"):
        Settings(sms_body_template=template)
