"""The Atom 1.0 feed (RFC 4287) of the warnings running or ended within the last 7 days.

One entry per warning (a region's run from issue to lift or expiry): its ``id`` is the URL
of the warning's first CAP document (stable while it is updated), its ``link
rel="alternate" type="application/cap+xml"`` the latest one, ``updated`` the latest
message's time. The title is Chinese; the summary (``xml:lang="en"``) English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from xml.etree import ElementTree as ET

from emission_list.i18n import Text, pick
from service.public.cap_document import MEDIA_TYPE, Area, cap_time, headline
from service.public.messages import WarningRun

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE_ATOM = "application/atom+xml"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _add(parent: ET.Element, tag: str, value: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if value is not None:
        element.text = value
    return element


def _summary(run: WarningRun, area: Area) -> str:
    latest = run.latest
    span = f"{cap_time(latest.alert.starts_at)} – {cap_time(run.end())}"
    return f"{headline(latest, area, 'en')} ({span}). {latest.msg_type} {latest.identifier}"


def feed(
    runs: Sequence[WarningRun],
    areas: Mapping[str, Area],
    document_url: Callable[[int], str],
    *,
    self_url: str,
    page_url: str,
    title: Text,
    author: str,
    now: dt.datetime,
) -> bytes:
    """The feed's XML (UTF-8)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {_XML_LANG: "zh-CN"})
    _add(root, "id", self_url)
    _add(root, "title", pick(title, "zh-CN"))
    _add(root, "subtitle", pick(title, "en"), **{_XML_LANG: "en"})
    updated = max((r.latest.sent for r in runs), default=now)
    _add(root, "updated", cap_time(updated))
    _add(_add(root, "author"), "name", author)
    _add(root, "link", rel="self", type=MEDIA_TYPE_ATOM, href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    for run in runs:
        latest, area = run.latest, areas[run.latest.region]
        entry = _add(root, "entry")
        _add(entry, "id", document_url(latest.first_alert_id))
        _add(entry, "title", headline(latest, area, "zh-CN"))
        _add(entry, "published", cap_time(run.messages[0].sent))
        _add(entry, "updated", cap_time(latest.sent))
        _add(entry, "link", rel="alternate", type=MEDIA_TYPE, href=document_url(latest.alert_id))
        _add(entry, "summary", _summary(run, area), **{_XML_LANG: "en"})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
