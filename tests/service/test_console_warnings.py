"""The console's warnings pages over ASGI on PostgreSQL: each region's state, changes
by hand (joint over several regions; red and lift confirmed first; problems beside their
fields), the sign-off queue and setting, and an alert's history as a timeline.

The sample's enterprises all sit in Kundulun (150203, under Baotou 150200); an orange
forecast (AQI 220, 260, 240, 230) issues orange under the national rules.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_client import Api
from console_client import Visitor, console_visitor
from sqlalchemy import func, select
from test_api_warnings import ENTERPRISES, ORANGE, _forecast, _get, _levels, _post_forecast

from service.storage.models import AlertEvent, AuditEntry

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


LOCAL = dt.timezone(dt.timedelta(hours=8))
REASON = {"reason_zh": "市政府要求发布预警", "reason_en": "The city asked for a warning"}


def _field(page: str, field_id: str) -> str:
    """The opening tag of the form field ``field_id``."""
    found = re.search(rf'<(?:input|select|textarea)[^>]*id="{re.escape(field_id)}"[^>]*>', page)
    assert found, field_id
    return found.group(0)


def _problem(page: str, problem_id: str) -> str:
    found = re.search(rf'<p id="{problem_id}" class="field-error">([^<]*)</p>', page)
    assert found, problem_id
    return found.group(1)


async def _events(api: Api) -> int:
    async with api.runtime.session_maker() as session:
        return await session.scalar(select(func.count()).select_from(AlertEvent))


async def _change(visitor: Visitor, **fields: object) -> object:
    return await visitor.post("/warnings", {**REASON, **fields})


async def test_the_warnings_page_shows_each_region_and_the_form(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/warnings")
    assert page.status_code == 200
    html = page.text
    for name in ("内蒙古自治区", "包头市", "昆都仑区", "少先路街道", "卜尔汉图镇"):
        assert name in html
    assert "当前没有待签发的提议。" in html
    assert html.count('name="region"') == len(api.runtime.state.tree)
    assert '<label for="level">级别</label>' in html
    assert 'name="csrftoken"' in html.split('action="/warnings#change"')[1][:200]


async def test_an_orange_warning_by_hand_reaches_the_enterprises_and_the_page(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        answer = await _change(visitor, region="150203", level="orange", response="full")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/warnings?changed=150203&level=orange"
        page = await visitor.get(answer.headers["location"])
    assert "已发布或变更为橙色预警：昆都仑区。" in page.text
    row = page.text.split('href="/warnings/150203/history"')[1].split("</tr>")[0]
    assert "橙色预警" in row and "人工发布" in row
    assert await _levels(api, ENTERPRISES[::15]) == {"orange"}
    (alert,) = await _get(api, "/api/v1/alerts/active")
    assert (alert["region"], alert["source"], alert["reason"]) == (
        "150203",
        "manual",
        REASON["reason_zh"],
    )
    async with api.runtime.session_maker() as session:
        audited = (await session.scalars(select(AuditEntry.action))).all()
    assert "alert.manual" in audited


async def test_several_regions_at_once_make_one_joint_warning_each(api: Api) -> None:
    ends = (dt.datetime.now(LOCAL) + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        answer = await visitor.post(
            "/warnings",
            {
                **REASON,
                "region": ["150100", "150200"],
                "level": "yellow",
                "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
            },
        )
        assert answer.status_code == 303
        page = await visitor.get(answer.headers["location"])
    assert "已发布或变更为黄色预警：呼和浩特市、包头市。" in page.text
    active = await _get(api, "/api/v1/alerts/active")
    assert [(a["region"], a["level"], a["source"]) for a in active] == [
        ("150100", "yellow", "joint"),
        ("150200", "yellow", "joint"),
    ]
    assert {dt.datetime.fromisoformat(a["ends_at"]) for a in active} == {ends}
    assert await _levels(api, ENTERPRISES[::30]) == {"yellow"}  # Baotou's covers Kundulun


async def test_problems_are_shown_beside_their_fields_and_nothing_changes(api: Api) -> None:
    past = (dt.datetime.now(LOCAL) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        empty = await visitor.post("/warnings", {"reason_zh": "", "level": ""})
        late = await _change(visitor, region="150203", level="orange", ends_at=past)
    assert empty.status_code == 422
    assert _problem(empty.text, "region-problem") == "请至少选择一个区域"
    assert _problem(empty.text, "level-problem") == "请选择级别"
    assert 'aria-invalid="true"' in _field(empty.text, "level")
    assert "level-problem" in _field(empty.text, "level")
    assert late.status_code == 422
    assert _problem(late.text, "ends-problem") == "结束时间已过"
    assert 'aria-invalid="true"' in _field(late.text, "ends_at")
    # What was typed is kept.
    assert "checked" in _field(late.text, "region-150203")
    assert REASON["reason_zh"] in late.text
    assert await _events(api) == 0


async def test_a_missing_reason_is_refused_beside_the_reason(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.post("/warnings", {"region": "150203", "level": "yellow"})
    assert page.status_code == 422
    assert _problem(page.text, "reason-problem") == "需要说明理由"
    assert "reason-problem" in _field(page.text, "reason_zh")
    assert await _events(api) == 0


@pytest.mark.parametrize("level", ["red", "none"])
async def test_red_and_lift_are_confirmed_on_a_second_page(api: Api, level: str) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        await _change(visitor, region="150203", level="orange")
        asked = await _change(visitor, region="150203", level=level)
        assert asked.status_code == 200
        title = "确认发布红色预警" if level == "red" else "确认解除预警"
        assert f"<h1>{title}</h1>" in asked.text
        assert await _levels(api, ENTERPRISES[:2]) == {"orange"}  # not yet
        back = await _change(visitor, region="150203", level=level, step="back")
        assert back.status_code == 200 and "checked" in _field(back.text, "region-150203")
        assert await _levels(api, ENTERPRISES[:2]) == {"orange"}
        done = await _change(visitor, region="150203", level=level, step="confirm")
        assert done.status_code == 303
    assert await _levels(api, ENTERPRISES[::20]) == {level}


async def test_the_queue_signs_off_a_forecasts_proposal(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        on = await visitor.post("/warnings/150203/signoff", {"required": "true"})
        assert on.status_code == 303
        assert api.runtime.state.warnings.settings_for("150203001").requires_signoff
        issued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
        decision = (await _post_forecast(api, _forecast(ORANGE, issued=issued))).json()
        assert [e["kind"] for e in decision["events"]] == ["propose"]

        page = await visitor.get("/warnings")
        queue = page.text.split('id="queue"')[1].split("</section>")[0]
        assert "昆都仑区" in queue and "发布橙色预警" in queue
        assert '<tr class="late">' in queue and "已超过 2 小时时限" in queue
        minutes = int(re.search(r"已等待 (\d+) 分钟", queue).group(1))
        assert 180 <= minutes < 190
        assert 'action="/warnings/150203/approve"' in queue and "data-confirm" in queue
        assert "需签发（上级区域要求）" in page.text  # the subdistricts under it

        signed = await visitor.post("/warnings/150203/approve")
        assert signed.status_code == 303
        assert await _levels(api, ENTERPRISES[::20]) == {"orange"}
        again = await visitor.post("/warnings/150203/approve")
        assert again.status_code == 409 and "没有待签发的预警提议" in again.text

        off = await visitor.post("/warnings/150203/signoff", {"required": "false"})
        assert off.status_code == 303
        assert not api.runtime.state.warnings.settings_for("150203001").requires_signoff


async def test_the_timeline_shows_each_event_with_who_signed_off_and_the_wait(api: Api) -> None:
    approver = await api.token("operator", label="值班副区长")
    async with console_visitor(api, approver) as visitor:
        await visitor.post("/warnings/150203/signoff", {"required": "true"})
        issued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=45)
        await _post_forecast(api, _forecast(ORANGE, issued=issued))
        await visitor.post("/warnings/150203/approve")
        await _change(visitor, region="150203", level="none", step="confirm")
        page = await visitor.get("/warnings/150203/history")
    assert page.status_code == 200
    html = page.text
    kinds = re.findall(r'<li class="event kind-(\w+)">', html)
    assert kinds == ["propose", "approve", "issue", "lift"]
    times = re.findall(r"<time>([^<]+)</time>", html)
    assert times[0] == issued.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    assert re.search(r"签发人：值班副区长；等待 4[5-9] 分钟", html)
    lift = html.split('kind-lift">')[1].split("</li>")[0]
    assert lift.index("橙色预警") < lift.index("无预警")  # orange → none


async def test_the_timeline_pages(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.console.routers import warnings as page_module

    monkeypatch.setattr(page_module, "TIMELINE_PAGE", 2)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        for level in ("yellow", "orange", "yellow"):
            await _change(visitor, region="150200", level=level)
        first = await visitor.get("/warnings/150200/history")
        kinds = re.findall(r'<li class="event kind-(\w+)">', first.text)
        assert kinds == ["issue", "upgrade"]
        cursor = re.search(r'history\?cursor=([^"]+)"', first.text).group(1)
        second = await visitor.get(f"/warnings/150200/history?cursor={cursor}")
        assert re.findall(r'<li class="event kind-(\w+)">', second.text) == ["downgrade"]
        assert "最早的记录" in second.text
        unknown = await visitor.get("/warnings/999/history")
        assert unknown.status_code == 404


async def test_only_operators_open_the_warnings_pages(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        assert (await visitor.get("/warnings")).status_code == 403
        assert (await visitor.get("/warnings/150203/history")).status_code == 403
        refused = await _change(visitor, region="150203", level="orange")
        assert refused.status_code == 403
    assert await _events(api) == 0


async def test_a_change_without_its_csrf_token_is_refused(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        form = {**REASON, "region": "150203", "level": "orange"}
        forged = await visitor.client.post("/warnings", data=form, headers={"Accept": "text/html"})
    assert forged.status_code == 403 and "csrf.invalid" in forged.text
    assert await _events(api) == 0
