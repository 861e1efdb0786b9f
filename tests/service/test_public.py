"""``GET /cap/alerts.atom`` and ``GET /public``: the warnings running or ended in the last 7
days, without a token or a session; the enterprises' grades only with HAZE_PUBLIC_GRADES."""

from __future__ import annotations

import datetime as dt

from api_client import Api, served_api
from cap_episode import episode_shift, replay_episode
from lxml import etree

from emission_list.samples import kundulun_list
from service.storage.repositories import cap

ATOM = {"a": "http://www.w3.org/2005/Atom"}
SUBDISTRICT = "150203001"  # Shaoxianlu, 少先路街道
REASON = {"zh-CN": "人工发布", "en": "issued by hand"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _latest_alert_id(api: Api, region: str) -> int:
    async with api.runtime.session_maker() as session:
        events = await cap.of_regions(session, [region])
    return [e for e in events if e.kind != "expire"][-1].alert_id


async def _episode_and_a_red_warning_now(api: Api) -> None:
    """Kundulun's warning ended 5-6 days ago, Baotou's 7-8 days ago; a red one in force now."""
    await replay_episode(api, episode_shift(_now()))
    body = {"region": SUBDISTRICT, "level": "red", "reason": REASON}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text


async def test_the_feed_lists_the_warnings_running_or_ended_within_7_days(api: Api) -> None:
    await _episode_and_a_red_warning_now(api)
    answer = await api.client.get("/cap/alerts.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(answer.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = feed.findall("a:entry", ATOM)
    links = [e.find("a:link[@rel='alternate']", ATOM) for e in entries]
    assert all(link.get("type") == "application/cap+xml" for link in links)
    expected = {
        f"http://haze/cap/alerts/{await _latest_alert_id(api, r)}.xml"
        for r in (SUBDISTRICT, "150203")  # Baotou's ended more than 7 days ago
    }
    assert {link.get("href") for link in links} == expected
    titles = [e.findtext("a:title", namespaces=ATOM) for e in entries]
    assert titles[0] == "少先路街道重污染天气红色预警发布"  # the latest change first
    assert titles[1] == "昆都仑区重污染天气黄色预警解除"
    assert "Shaoxianlu" in entries[0].findtext("a:summary", namespaces=ATOM)
    for entry, link in zip(entries, links, strict=True):
        assert dt.datetime.fromisoformat(entry.findtext("a:updated", namespaces=ATOM))
        document = await api.client.get(link.get("href").removeprefix("http://haze"))
        assert document.status_code == 200
        cap_root = etree.fromstring(document.content)
        sent = cap_root.findtext("{urn:oasis:names:tc:emergency:cap:1.2}sent")
        assert dt.datetime.fromisoformat(sent) == dt.datetime.fromisoformat(
            entry.findtext("a:updated", namespaces=ATOM)
        )


async def test_an_empty_feed_still_parses(api: Api) -> None:
    answer = await api.client.get("/cap/alerts.atom")
    feed = etree.fromstring(answer.content)
    assert feed.findall("a:entry", ATOM) == []
    assert feed.find("a:link[@rel='self']", ATOM).get("href") == "http://haze/cap/alerts.atom"


async def test_the_public_page_in_both_languages_without_grades(api: Api) -> None:
    await _episode_and_a_red_warning_now(api)
    page = await api.client.get("/public")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    html = page.text
    assert '<html lang="zh-CN">' in html
    assert "正在生效的预警" in html and "少先路街道" in html and "红色" in html
    assert "近 7 天结束的预警" in html and "昆都仑区" in html
    assert f'href="/cap/alerts/{await _latest_alert_id(api, SUBDISTRICT)}.xml"' in html
    assert 'href="/cap/alerts.atom"' in html
    assert "企业绩效分级" not in html  # grades only with the setting
    english = (await api.client.get("/public", params={"lang": "en"})).text
    assert '<html lang="en">' in english
    assert "Warnings in force" in english and "Shaoxianlu Subdistrict" in english
    assert "Red" in english or "red" in english
    assert "performance grades" not in english


async def test_the_grades_are_shown_a_page_at_a_time_with_the_setting(
    seeded_database_url: str,
) -> None:
    entries = sorted(kundulun_list().entries, key=lambda e: e.enterprise_id)
    async with served_api(seeded_database_url, public_grades=True) as api:
        first = (await api.client.get("/public")).text
        assert "企业绩效分级" in first
        assert entries[0].name in first and entries[49].name in first
        assert entries[50].name not in first
        second = await api.client.get(
            "/public", params={"after": entries[49].enterprise_id, "lang": "en"}
        )
        assert entries[50].name_en in second.text and entries[0].name_en not in second.text
        assert "Enterprises&#39; performance grades" in second.text
