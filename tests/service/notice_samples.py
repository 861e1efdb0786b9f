"""Notices for the channel tests, and the SMS length rule computed apart from the code."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from service.notify.message import AlarmFacts, Notice, Target

ENTERPRISE_ID = "91150203MA0000000X"

# 3GPP TS 23.038 GSM 7-bit default alphabet, written out from the standard's table: the basic
# set (one septet) and the extension table (escape + one septet).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def segments_apart(text: str) -> list[str]:
    """``text`` cut into the SMS a phone network would send: one of up to 160 septets (GSM)
    or 70 UTF-16 units (UCS-2), else parts of up to 153 / 67, never splitting a character."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        size = {c: 2 if c in GSM_EXTENSION else 1 for c in set(text)}
        single, part = 160, 153
    else:
        size = {c: 2 if ord(c) > 0xFFFF else 1 for c in set(text)}
        single, part = 70, 67
    if sum(size[c] for c in text) <= single:
        return [text]
    parts, current, used = [], "", 0
    for c in text:
        if used + size[c] > part:
            parts.append(current)
            current, used = "", 0
        current += c
        used += size[c]
    return [*parts, current]


ORANGE = Notice(
    notice_id=42,
    event="actions.changed",
    created_at=dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC),
    region="150203001",
    region_name={"zh-CN": "昆都仑区", "en": "Kundulun"},
    level="orange",
    previous_level="yellow",
    enterprise_id=ENTERPRISE_ID,
    enterprise_name={"zh-CN": "包头钢铁<b>&公司", "en": "Baotou Steel <b>& Co"},
    production_cut=0.3,
    reductions_kg_per_day={"so2": 123.4, "nox": 50.0, "pm": 0.0, "vocs": 7.5},
    actions=(
        {"zh-CN": "烧结机停产50%以上", "en": "stop sintering machines above 50%"},
        {"zh-CN": "禁止重型柴油车运输", "en": "no heavy-diesel truck transport"},
    ),
    valid_from=dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC),  # 08:00 in Baotou
    valid_until=dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC),  # 20:00 in Baotou
)
ENDED = replace(
    ORANGE,
    notice_id=43,
    event="actions.ended",
    level="none",
    previous_level="orange",
    production_cut=0.0,
    reductions_kg_per_day={},
    actions=(),
    created_at=dt.datetime(2026, 12, 8, 4, 30, tzinfo=dt.UTC),  # lifted early, 12:30 local
)
ALERT = replace(
    ORANGE,
    notice_id=44,
    event="alert.issued",
    region="150203",
    enterprise_id=None,
    enterprise_name={},
    production_cut=0.0,
    reductions_kg_per_day={},
    actions=(),
)
#: A confirmed alarm, sent to a region's subscription (the notice row has no enterprise).
ALARM = replace(
    ORANGE,
    notice_id=45,
    event="alarm.raised",
    previous_level="none",
    enterprise_id=None,
    production_cut=0.0,
    reductions_kg_per_day={},
    actions=(),
    valid_from=None,
    valid_until=None,
    alarm=AlarmFacts(
        alarm_id=7,
        kind="production_over",
        grade="confirmed",
        subject="1号烧结线",
        started_at=dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC),  # 02:00 in Baotou
        previous_grade="suspected",
    ),
)


def target(channel: str, address: str, language: str = "zh-CN") -> Target:
    return Target(subscription_id="sub-1", channel=channel, address=address, language=language)
