"""The words of a notice: SMS within its segments, email in two parts, local times, both
languages; the SMS length rule is checked against tests/service/notice_samples.py."""

from __future__ import annotations

import email
import email.policy
import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.notify.ack_links import AckLinks, ack_nonce
from service.notify.message import NOTICE_EVENTS
from service.notify.texts import email_message, notice_texts, sms_segments, sms_text
from tests.service.notice_samples import (
    ALARM,
    ALERT,
    ENDED,
    ENTERPRISE_ID,
    ORANGE,
    segments_apart,
)

LINKS = AckLinks(b"k" * 32, "https://hb.example.gov.cn", 72 * 3600)
#: A link as a channel makes it: a delivery id of Standard Webhooks' shape gives the nonce.
ACK_URL = LINKS.url(ORANGE.notice_id, ENTERPRISE_ID, ack_nonce("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"))
SENDER = "Kundulun EEB <notices@hb.example.gov.cn>"


def parsed(message) -> email.message.EmailMessage:
    """``message`` as a receiver reads it back from the wire."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),
        ("aa" + "€" * 152, 3),  # 306 septets, but an escape pair is never split
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("aa" + "😀" * 66, 3),  # 134 units, but a surrogate pair is never split
        ("", 1),
    ],
)
def test_segment_count_by_hand(text: str, count: int) -> None:
    assert sms_segments(text) == count
    assert len(segments_apart(text)) == count


def test_the_full_sms_says_everything_when_there_is_room() -> None:
    zh = sms_text(ORANGE, "zh-CN", ACK_URL, 10)
    assert zh.startswith("【昆都仑区生态环境分局】包头钢铁<b>&公司：橙色预警")
    for part in ("12月7日08:00至12月9日20:00", "限产30%", "SO2 123.4", "NOx 50", "VOCs 7.5"):
        assert part in zh
    assert "颗粒物" not in zh  # nothing to cut for PM
    assert "烧结机停产50%以上、禁止重型柴油车运输" in zh and zh.endswith(ACK_URL)
    en = sms_text(ORANGE, "en", ACK_URL, 10)
    assert en.startswith("【Kundulun EEB】Baotou Steel <b>& Co: orange warning")
    for part in ("12-07 08:00 to 12-09 20:00", "production cut 30%", "SO2 123.4"):
        assert part in en
    assert "stop sintering machines above 50%" in en and en.endswith(ACK_URL)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_detail_goes_first_the_link_stays_at_the_default_three_segments(language: str) -> None:
    full = sms_text(ORANGE, language, ACK_URL, 10)
    three = sms_text(ORANGE, language, ACK_URL, 3)
    assert len(segments_apart(full)) > 3 >= len(segments_apart(three))
    assert ACK_URL in three
    level, cut = ("橙色", "限产30%") if language == "zh-CN" else ("orange", "production cut 30%")
    assert level in three and cut in three
    assert "烧结" not in three and "sintering" not in three  # measures went first


@settings(max_examples=300)
@given(
    name=st.text(min_size=0, max_size=80),
    kg=st.dictionaries(
        st.sampled_from(["so2", "nox", "pm", "vocs"]),
        st.floats(min_value=0, max_value=1e9, allow_nan=False),
    ),
    cut=st.floats(min_value=0, max_value=1),
    measures=st.lists(st.text(min_size=1, max_size=40), max_size=6),
    language=st.sampled_from(["zh-CN", "en"]),
    event=st.sampled_from(NOTICE_EVENTS),
    max_segments=st.integers(min_value=1, max_value=6),
    with_link=st.booleans(),
)
def test_any_sms_keeps_within_its_segments(
    name, kg, cut, measures, language, event, max_segments, with_link
) -> None:
    notice = replace(
        ORANGE,
        event=event,
        enterprise_name={"zh-CN": name, "en": name},
        reductions_kg_per_day=kg,
        production_cut=cut,
        actions=tuple({"zh-CN": m, "en": m} for m in measures),
    )
    text = sms_text(notice, language, ACK_URL if with_link else None, max_segments)
    assert 1 <= len(segments_apart(text)) <= max_segments
    signature = "【昆都仑区生态环境分局】" if language == "zh-CN" else "【Kundulun EEB】"
    assert text.startswith(signature)
    if max_segments >= 2 and event == "actions.changed":
        level = "橙色" if language == "zh-CN" else "orange"
        assert level in text and ("12月7日08:00" in text or "12-07 08:00" in text)
    measured = ("措施：" if language == "zh-CN" else "Measures:") in text
    cuts = ("减排（千克/日）" if language == "zh-CN" else "Cuts kg/day") in text
    if measured and any(v > 0 for v in kg.values()):
        assert cuts  # the kg/day go only after the measures


def test_termination_notice_and_a_regions_alert() -> None:
    zh = sms_text(ENDED, "zh-CN", ACK_URL, 3)
    assert "昆都仑区重污染天气预警已于12月8日12:30结束，可恢复正常生产" in zh
    en = sms_text(ENDED, "en", None, 3)
    assert "ended at 12-08 12:30; you may resume normal production" in en
    alert = sms_text(ALERT, "zh-CN", None, 3)
    assert (
        alert
        == "【昆都仑区生态环境分局】昆都仑区发布橙色重污染天气预警，12月7日08:00至12月9日20:00。"
    )
    assert sms_text(ALERT, "en", None, 3).startswith(
        "【Kundulun EEB】Orange haze warning for Kundulun"
    )


@pytest.mark.parametrize("event", NOTICE_EVENTS)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_event_has_its_words(event: str, language: str) -> None:
    notice = replace(ORANGE, event=event)
    assert "{" not in sms_text(notice, language, ACK_URL, 3)
    message = parsed(email_message(notice, language, ACK_URL, SENDER, to="a@example.org"))
    for part in ("plain", "html"):
        assert "{" not in message.get_body((part,)).get_content()
    assert "{" not in message["Subject"]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_email_carries_the_orders_in_both_parts(language: str) -> None:
    message = parsed(email_message(ORANGE, language, ACK_URL, SENDER, to="ops@example.org"))
    assert message["Content-Language"] == language
    assert message["From"] == SENDER and message["To"] == "ops@example.org"
    assert message["Date"] == "Sun, 06 Dec 2026 18:00:00 +0800"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    words = {
        "zh-CN": ("橙色", "2026年12月7日 08:00", "2026年12月9日 20:00", "30%", "二氧化硫", "123.4"),
        "en": ("Orange", "2026-12-07 08:00", "2026-12-09 20:00", "30%", "Sulphur dioxide", "7.5"),
    }[language]
    for word in (*words, ACK_URL, pick_measure(language)):
        assert word in plain and word in html
    assert f'href="{ACK_URL}"' in html
    assert "包头钢铁<b>&公司" in plain or "Baotou Steel <b>& Co" in plain
    assert "<b>&" not in html and "&lt;b&gt;&amp;" in html
    assert message["Subject"].startswith(
        "【昆都仑区生态环境分局】橙色预警"
        if language == "zh-CN"
        else "[Kundulun EEB] Orange warning"
    )


def pick_measure(language: str) -> str:
    return ORANGE.actions[0][language]


def test_message_id_follows_the_notice() -> None:
    one = email_message(ORANGE, "en", ACK_URL, SENDER)
    again = email_message(ORANGE, "en", ACK_URL, SENDER)
    other = email_message(ENDED, "en", ACK_URL, SENDER)
    assert one["Message-ID"] == again["Message-ID"] == "<haze-notice-42.en@hb.example.gov.cn>"
    assert other["Message-ID"] != one["Message-ID"]


def test_a_termination_email_says_production_may_resume() -> None:
    message = parsed(email_message(ENDED, "zh-CN", None, SENDER))
    plain = message.get_body(("plain",)).get_content()
    assert "可恢复正常生产" in plain and "2026年12月8日 12:30" in plain
    assert "\n减排措施:" not in plain and "/ack/" not in plain


def test_the_tables_are_bilingual_and_shipped() -> None:
    raw = json.loads((Path(__file__).parents[2] / "service/notify/texts.json").read_text("utf-8"))
    assert len(notice_texts().keys()) == len(raw)
    assert all(set(v) == {"zh-CN", "en"} and all(v.values()) for v in raw.values())
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["service.notify"]
    assert "texts.json" in data and "templates/*.html" in data


def test_an_alarm_in_one_sms_and_its_email() -> None:
    zh = sms_text(ALARM, "zh-CN", None, 1)
    assert zh == (
        "【昆都仑区生态环境分局】包头钢铁<b>&公司：橙色预警期间确认生产负荷超限"
        "（1号烧结线，12月8日02:00起），请及时处置并在系统中说明。"
    )
    en = sms_text(ALARM, "en", None, 3)
    assert en == (
        "【Kundulun EEB】Baotou Steel <b>& Co: confirmed production above its cut on 1号烧结线 "
        "since 12-08 02:00, during the orange warning. Act and explain in the console."
    )
    message = parsed(email_message(ALARM, "zh-CN", None, SENDER))
    assert message["Subject"] == "【昆都仑区生态环境分局】确认生产负荷超限：包头钢铁<b>&公司"
    plain = message.get_body(("plain",)).get_content()
    for part in ("在线监控告警：", "此前为疑似，现已确认。", "告警编号: 7", "2026年12月8日 02:00"):
        assert part in plain
    english = parsed(email_message(ALARM, "en", None, SENDER))
    subject = english["Subject"].strip()  # a long header is folded: read back, it keeps a space
    assert subject == "[Kundulun EEB] Confirmed production above its cut: Baotou Steel <b>& Co"


@settings(max_examples=200)
@given(
    name=st.text(min_size=0, max_size=80),
    subject=st.text(min_size=0, max_size=80),
    language=st.sampled_from(["zh-CN", "en"]),
    max_segments=st.integers(min_value=1, max_value=4),
)
def test_an_alarm_sms_keeps_within_its_segments(name, subject, language, max_segments) -> None:
    notice = replace(
        ALARM,
        enterprise_name={"zh-CN": name, "en": name},
        alarm=replace(ALARM.alarm, subject=subject),
    )
    text = sms_text(notice, language, None, max_segments)
    assert 1 <= len(segments_apart(text)) <= max_segments
    if max_segments >= 2:  # what was found and since when stay
        kind, since = (
            ("生产负荷超限", "12月8日02:00")
            if language == "zh-CN"
            else ("production", "12-08 02:00")
        )
        assert kind in text and since in text
