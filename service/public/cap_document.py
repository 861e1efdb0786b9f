"""A CAP 1.2 document (OASIS, urn:oasis:names:tc:emergency:cap:1.2) of one message.

One ``info`` per language (zh-CN, en). Severity by level (yellow Moderate, orange Severe,
red Extreme: GB/T 35965.1 maps 黄/橙/红 so); urgency by the lead time from ``sent`` to the
onset (in force: Immediate; within the hour: Expected; later: Future; a lift: Past);
certainty Likely for a forecast's warning, Observed for one issued by hand or jointly. The
area is the region: its name, its GB/T 2260 code as ``geocode``, and one ``polygon`` per
outer ring of its outline (CAP has no holes), as "lat,lon" pairs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from emission_list.i18n import LANGUAGES, Text, pick
from emission_list.levels import Level
from emission_list.warning_texts import level_name
from service.public.messages import CapMessage, local_second

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
GEOCODE_NAME = "GB/T 2260"
SEVERITY = {Level.YELLOW: "Moderate", Level.ORANGE: "Severe", Level.RED: "Extreme"}
_CHANGE = {
    "issue": {"zh-CN": "发布", "en": "issued"},
    "upgrade": {"zh-CN": "升级", "en": "upgraded"},
    "downgrade": {"zh-CN": "降级", "en": "downgraded"},
    "hold": {"zh-CN": "维持", "en": "continued"},
    "lift": {"zh-CN": "解除", "en": "lifted"},
}


@dataclass(frozen=True)
class Sender:
    sender: str
    code: str
    names: Text  # senderName by language


@dataclass(frozen=True)
class Area:
    region: str
    name: Text
    outline: Mapping[str, Any] | None  # GeoJSON Polygon or MultiPolygon


def cap_time(value: dt.datetime) -> str:
    """CAP's date-time: local time to the second with its offset (no fraction)."""
    return local_second(value).isoformat()


def urgency(message: CapMessage) -> str:
    if message.msg_type == "Cancel":
        return "Past"
    lead = local_second(message.alert.starts_at) - message.sent  # both to the second
    if lead <= dt.timedelta(0):
        return "Immediate"
    return "Expected" if lead <= dt.timedelta(hours=1) else "Future"


def response_type(message: CapMessage) -> str:
    if message.msg_type == "Cancel":
        return "AllClear"
    return "Execute" if urgency(message) == "Immediate" else "Prepare"


def certainty(message: CapMessage) -> str:
    return "Likely" if message.alert.source == "forecast" else "Observed"


def polygons(outline: Mapping[str, Any] | None) -> list[str]:
    """CAP polygons ("lat,lon" pairs, closed) of the outer ring of each part of ``outline``."""
    if not outline:
        return []
    kind, coordinates = outline.get("type"), outline.get("coordinates") or []
    parts = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    found = []
    for part in parts:
        ring = [(float(p[1]), float(p[0])) for p in part[0]] if part else []
        if len(ring) < 4:
            continue
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        found.append(" ".join(f"{lat!r},{lon!r}" for lat, lon in ring))
    return found


def event_text(level: Level, language: str) -> str:
    name = pick(level_name(level), language)
    return f"重污染天气{name}预警" if language == "zh-CN" else f"Heavy air pollution {name} warning"


def headline(message: CapMessage, area: Area, language: str) -> str:
    region, change = pick(area.name, language), pick(_CHANGE[message.kind], language)
    event = event_text(message.alert.level, language)
    if language == "zh-CN":
        return f"{region}{event}{change}"
    return f"{region}: {event} {change}"


def _add(parent: ET.Element, tag: str, value: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if value is not None:
        element.text = value
    return element


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    pair = _add(parent, tag)
    _add(pair, "valueName", name)
    _add(pair, "value", value)


def document(
    message: CapMessage,
    sender: Sender,
    area: Area,
    instructions: Mapping[str, str],
    web: str,
) -> bytes:
    """The CAP XML of ``message`` (UTF-8, with the XML declaration)."""
    ET.register_namespace("", NAMESPACE)
    alert = ET.Element(f"{{{NAMESPACE}}}alert")
    _add(alert, "identifier", message.identifier)
    _add(alert, "sender", sender.sender)
    _add(alert, "sent", cap_time(message.sent))
    _add(alert, "status", "Actual")
    _add(alert, "msgType", message.msg_type)
    _add(alert, "scope", "Public")
    if message.references:
        refs = (f"{sender.sender},{r.identifier},{cap_time(r.sent)}" for r in message.references)
        _add(alert, "references", " ".join(refs))
    a = message.alert
    for language in LANGUAGES:
        info = _add(alert, "info")
        _add(info, "language", language)
        _add(info, "category", "Env")
        _add(info, "event", event_text(a.level, language))
        _add(info, "responseType", response_type(message))
        _add(info, "urgency", urgency(message))
        _add(info, "severity", SEVERITY.get(a.level, "Unknown"))
        _add(info, "certainty", certainty(message))
        _add(info, "effective", cap_time(message.sent))
        _add(info, "onset", cap_time(a.starts_at))
        _add(info, "expires", cap_time(a.ends_at))
        _add(info, "senderName", pick(sender.names, language))
        _add(info, "headline", headline(message, area, language))
        _add(info, "description", pick(a.reason, language) or headline(message, area, language))
        _add(info, "instruction", instructions[language])
        _add(info, "web", web)
        _pair(info, "parameter", "level", a.level.label)
        if a.response is not None:
            _pair(info, "parameter", "response", str(a.response))
        _pair(info, "parameter", "source", a.source)
        place = _add(info, "area")
        _add(place, "areaDesc", pick(area.name, language))
        for polygon in polygons(area.outline):
            _add(place, "polygon", polygon)
        _pair(place, "geocode", GEOCODE_NAME, area.region)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
