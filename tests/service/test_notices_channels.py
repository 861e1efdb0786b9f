"""SMS and email notices end to end on the embedded default (SQLite and PostgreSQL): a warning
reaches a real HTTP SMS gateway and a real SMTP server on 127.0.0.1, the signed link in them
acknowledges the notice once and cannot be replayed, and the lift sends the termination
notice."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from api_client import Api, served_api
from notify_helpers import FAST_RETRIES, eventually, warn
from smtp_mailbox import Mailbox

from tests.infra.servers import free_port

PHONE = "+8613800000000"
MAILBOX = "ehs@enterprise.example.cn"
LINK = re.compile(r"https?://\S+/ack/[A-Za-z0-9_.~-]+")


class Gateway:
    """An HTTP SMS gateway: keeps each JSON body it is sent and the auth header it came with."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.auth: list[str | None] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.sent.append(json.loads(await request.read()))
        self.auth.append(request.headers.get("Authorization"))
        return web.json_response({"code": 0})


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Gateway, int]]:
    found, port = Gateway(), free_port()
    app = web.Application()
    app.router.add_post("/sms", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield found, port
    await runner.cleanup()


@pytest.fixture
async def channels_api(
    seeded_database_url: str, gateway: tuple[Gateway, int], smtp_server: tuple[Mailbox, int]
) -> AsyncIterator[Api]:
    settings = {
        **FAST_RETRIES,
        "sms_gateway_url": f"http://127.0.0.1:{gateway[1]}/sms",
        "sms_auth_value": "Bearer gateway-secret",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_server[1],
        "smtp_from": "notices@kundulun.example.gov.cn",
        "public_url": "http://haze",
    }
    async with served_api(seeded_database_url, **settings) as found:
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        yield found


async def _subscribe(api: Api, channel: str, target: str, language: str) -> None:
    body = {"channel": channel, "target": target, "language": language}
    made = await api.client.post("/api/v1/subscriptions", json=body, headers=api.as_("enterprise"))
    assert made.status_code == 201, made.text
    assert made.json()["secret"] is None  # only webhooks sign


async def test_sms_and_email_reach_the_enterprise_and_the_link_acknowledges_once(
    channels_api: Api, gateway: tuple[Gateway, int], smtp_server: tuple[Mailbox, int]
) -> None:
    api, (sms, _), (mailbox, _) = channels_api, gateway, smtp_server
    await _subscribe(api, "sms", PHONE, "zh-CN")
    await _subscribe(api, "email", MAILBOX, "en")
    await warn(api, "orange")

    async def both_arrived() -> bool:
        return len(sms.sent) == 1 and len(mailbox.messages) == 1

    await eventually(both_arrived, "the orange SMS and email")
    (text,) = [body["text"] for body in sms.sent]
    assert sms.sent[0]["to"] == PHONE and sms.auth == ["Bearer gateway-secret"]
    assert "橙色" in text and "昆都仑区" in text and text.startswith("【")
    ((_, message),) = mailbox.messages
    plain = message.get_body(("plain",)).get_content()
    assert message["To"] == MAILBOX and "Orange" in plain
    sms_link, mail_link = LINK.search(text).group(0), LINK.search(plain).group(0)
    assert sms_link != mail_link  # each delivery its own link, for the same notice

    page = await api.client.get(urlsplit(sms_link).path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="ack-confirm"' in page.text
    acked = await api.client.post(urlsplit(sms_link).path)
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] is not None
    replay = await api.client.post(urlsplit(sms_link).path)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "ack.used"
    other = await api.client.post(urlsplit(mail_link).path)  # the notice is acknowledged
    assert other.status_code == 409
    path = urlsplit(sms_link).path
    tampered = await api.client.post(path[:-2] + ("AA" if path[-2:] != "AA" else "BB"))
    assert tampered.status_code == 404 and tampered.json()["error"]["code"] == "ack.link_invalid"
    notices = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/notices", headers=api.as_("enterprise")
    )
    (notice,) = notices.json()["items"]
    assert notice["acknowledged_by"] == "link"

    await warn(api, "none")

    async def ended() -> bool:
        return len(sms.sent) == 2 and len(mailbox.messages) == 2

    await eventually(ended, "the termination SMS and email")
    assert "昆都仑区" in sms.sent[1]["text"] and "恢复正常生产" in sms.sent[1]["text"]
    assert "resume" in mailbox.messages[1][1].get_body(("plain",)).get_content()
