"""The console's alarm pages over ASGI on SQLite and PostgreSQL, in both languages: operators
list alarms by region, level, status and kind and verify or close one through its forms; an
enterprise sees only its own alarms (another's answers 404) and explains them from its page;
the dashboard counts the open ones; forms without their CSRF token are refused."""

from __future__ import annotations

import datetime as dt
import html
import re

from api_client import Api
from console_client import console_visitor

from emission_list.samples import kundulun_list
from service.console import charts
from service.services.alarms import Finding, record_findings
from service.storage.repositories import telemetry, utcnow

STARTED = utcnow().replace(second=0, microsecond=0) - dt.timedelta(minutes=20)
MN = "MN0001"


def _other() -> str:
    return kundulun_list().entries[1].enterprise_id


def _finding(enterprise_id: str, kind: str, subject: str, grade: str, **evidence) -> Finding:
    return Finding(
        enterprise_id=enterprise_id,
        region=kundulun_list().entry(enterprise_id).region,
        kind=kind,
        subject=subject,
        grade=grade,
        level="orange",
        started_at=STARTED,
        evidence=evidence,
    )


async def _alarms(api: Api) -> dict[str, int]:
    """Three alarms (two of the sample's first enterprise, one of its second) and the
    power series of the first; their ids by name."""
    own = _finding(
        api.enterprise_id,
        "production_over",
        "L1",
        "confirmed",
        mn=MN,
        codes=["e101"],
        line_name="1号烧结线",
        power_kw=950.0,
        normal_kw=1000.0,
        cut=0.3,
        allowed_kw=770.0,
        run=4,
        operator_note="<b>x</b>",
    )
    silent = _finding(api.enterprise_id, "logger_silent", MN, "confirmed")
    theirs = _finding(_other(), "control_stopped", "C1", "suspected", line_name="脱硫塔")
    async with api.runtime.session_maker() as session:
        made = await record_findings(session, [own, silent, theirs], utcnow())
        await telemetry.store_values(
            session,
            [
                {
                    "mn": MN,
                    "code": "e101",
                    "period": "m",
                    "at": STARTED - dt.timedelta(minutes=5) + dt.timedelta(minutes=i),
                    "enterprise_id": api.enterprise_id,
                    "value": 700.0 + 20 * i,
                    "flag": "N" if i != 3 else "D",
                }
                for i in range(15)
            ],
        )
        await session.commit()
    return dict(zip(("own", "silent", "theirs"), (a.id for a in made), strict=True))


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-alarm="(\d+)"', page)]


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}-heading".*?</section>', page, re.S)
    assert found, page
    return found.group(0)


async def test_operators_list_filter_and_open_alarms_in_both_languages(api: Api) -> None:
    ids = await _alarms(api)
    async with console_visitor(api, api.secrets["operator"]) as operator:
        listed = await operator.get("/alarms")
        assert listed.status_code == 200
        assert _ids(listed.text) == sorted(ids.values(), reverse=True)  # newest first
        assert 'href="/alarms" aria-current="page"' in listed.text  # in the navigation
        assert "包头韬川钢铁联合有限公司" in listed.text and "生产负荷超限" in listed.text
        english = await operator.get("/alarms?lang=en")
        assert "Production above its cut" in english.text and "Monitoring alarms" in english.text
        by_kind = await operator.get("/alarms?kind=control_stopped")
        assert _ids(by_kind.text) == [ids["theirs"]]
        by_status = await operator.get("/alarms?status=verified")
        assert _ids(by_status.text) == []
        region = kundulun_list().entry(_other()).region
        in_region = await operator.get(f"/alarms?region={region}")
        expected = {v for k, v in ids.items() if k == "theirs" or region == _region(api)}
        assert set(_ids(in_region.text)) == expected
        district = await operator.get("/alarms?region=150203&level=orange&level=red")
        assert set(_ids(district.text)) == set(ids.values())
        assert (await operator.get("/alarms?level=purple")).status_code == 422

        page = await operator.get(f"/alarms/{ids['own']}")
        assert page.status_code == 200
        evidence = _section(page.text, "evidence")
        rows = dict(re.findall(r'<tr data-key="(\w+)"><th scope="row">(.*?)</th>', evidence))
        assert rows["power_kw"] == "实测功率" and rows["allowed_kw"] == "允许功率上限"
        assert rows["operator_note"] == "<code>operator_note</code>"  # unknown: shown as is
        cells = dict(re.findall(r'<tr data-key="(\w+)">.*?<td>(.*?)</td>', evidence))
        assert cells["power_kw"] == "950 kW" and cells["cut"] == "30%" and cells["run"] == "4"
        assert cells["operator_note"] == "&lt;b&gt;x&lt;/b&gt;"  # escaped
        chart = _section(page.text, "chart")
        assert len(re.findall(r'<circle class="dot series-0', chart)) == 15
        assert len(re.findall(r'<circle class="dot series-0 invalid"', chart)) == 1  # flag D
        allowed = re.search(r'<line class="allowed" [^>]*y1="([\d.]+)"', chart)
        drawn = charts.series_chart(
            [(STARTED, "e101", 0.0, "N"), (STARTED, "e101", 980.0, "N")], allowed=770.0
        )
        assert allowed and drawn.allowed is not None
        top, bottom = drawn.plot_top, drawn.baseline
        axis = drawn.ticks[-1].value  # 0..axis over the plot: y of 770 computed apart
        assert float(allowed.group(1)) == round(bottom - 770.0 / axis * (bottom - top), 1)
        trail = _section(page.text, "trail")
        assert '<tr data-action="raised">' in trail and "系统（合规检查）" in trail
        assert f'action="/alarms/{ids["own"]}/verify"' in page.text
        assert "/explanation" not in page.text  # operators do not explain
        en = await operator.get(f"/alarms/{ids['own']}?lang=en")
        assert "Measured power" in en.text and "Audit trail" in en.text
        silent = await operator.get(f"/alarms/{ids['silent']}")
        assert "未记录判定依据" in silent.text and "这段时间没有监测数据" in silent.text
        assert (await operator.get("/alarms/999999")).status_code == 404

        dashboard = await operator.get("/dashboard")
        counts = _section(dashboard.text, "alarm-counts")
        kinds = dict(re.findall(r'kind=(\w+)"><span class="count">(\d+)</span>', counts))
        assert kinds == {
            "production_over": "1",
            "control_stopped": "1",
            "logger_silent": "1",
            "cems_over_limit": "0",
        }
        assert "共 3 条待处理告警" in counts


def _region(api: Api) -> str:
    return kundulun_list().entry(api.enterprise_id).region


async def test_operators_verify_and_close_through_the_forms(api: Api) -> None:
    ids = await _alarms(api)
    async with console_visitor(api, api.secrets["operator"]) as operator:
        no_token = await operator.client.post(
            f"/alarms/{ids['own']}/verify", data={"note": "x"}, headers={"Accept": "text/html"}
        )
        assert no_token.status_code == 403 and "csrf.invalid" in no_token.text
        verified = await operator.post(f"/alarms/{ids['own']}/verify", {"note": "现场核实属实"})
        assert verified.status_code == 303
        assert verified.headers["location"] == f"/alarms/{ids['own']}?done=verified"
        page = await operator.get(verified.headers["location"])
        assert "告警已核实" in page.text and "现场核实属实" in page.text
        assert f'action="/alarms/{ids["own"]}/verify"' not in page.text  # final
        again = await operator.post(f"/alarms/{ids['own']}/close")
        assert again.status_code == 409
        closed = await operator.post(f"/alarms/{ids['theirs']}/close", {"note": ""})
        assert closed.status_code == 303
        assert (await operator.post("/alarms/999999/close")).status_code == 404
        explained = await operator.post(
            f"/alarms/{ids['silent']}/explanation", {"explanation": "x"}
        )
        assert explained.status_code == 403
    api_view = await api.client.get(f"/api/v1/alarms/{ids['own']}", headers=api.as_("operator"))
    body = api_view.json()
    assert body["status"] == "verified"
    assert [e["action"] for e in body["events"]] == ["raised", "verified"]
    assert body["events"][-1]["note"] == "现场核实属实"
    theirs = await api.client.get(f"/api/v1/alarms/{ids['theirs']}", headers=api.as_("operator"))
    assert theirs.json()["status"] == "closed"


async def test_an_enterprise_sees_and_explains_only_its_own(api: Api) -> None:
    ids = await _alarms(api)
    async with console_visitor(api, api.secrets["enterprise"]) as enterprise:
        home = await enterprise.get(f"/enterprises/{api.enterprise_id}")
        section = _section(home.text, "alarms")
        shown = {int(i) for i in re.findall(r'data-alarm="(\d+)"', section)}
        assert shown == {ids["own"], ids["silent"]}
        assert f'action="/alarms/{ids["own"]}/explanation"' in section
        assert "以下告警待处理" in section
        english = await enterprise.get(f"/enterprises/{api.enterprise_id}?lang=en")
        assert "Monitoring alarms" in _section(english.text, "alarms")
        assert (await enterprise.get("/alarms")).status_code == 403  # the list: operators
        assert (await enterprise.get(f"/alarms/{ids['theirs']}")).status_code == 404
        theirs = await enterprise.post(f"/alarms/{ids['theirs']}/explanation", {"explanation": "x"})
        assert theirs.status_code == 404
        mine = await enterprise.get(f"/alarms/{ids['own']}")
        assert mine.status_code == 200 and "/verify" not in mine.text and "/close" not in mine.text
        assert f'action="/alarms/{ids["own"]}/explanation"' in mine.text
        blank = await enterprise.post(f"/alarms/{ids['own']}/explanation", {"explanation": "  "})
        assert blank.status_code == 422 and 'aria-invalid="true"' in blank.text
        said = "夜间检修后试车 <试运行>"
        sent = await enterprise.post(
            f"/alarms/{ids['own']}/explanation", {"explanation": said, "back": "enterprise"}
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == (
            f"/enterprises/{api.enterprise_id}?explained={ids['own']}#alarms"
        )
        after = await enterprise.get(sent.headers["location"].split("#")[0])
        section = _section(after.text, "alarms")
        assert "说明已提交" in section and html.escape(said, quote=False) in section
        assert "补充说明" in section  # it may explain again
        verify = await enterprise.post(f"/alarms/{ids['own']}/verify", {"note": "x"})
        assert verify.status_code == 403
    stored = await api.client.get(f"/api/v1/alarms/{ids['own']}", headers=api.as_("enterprise"))
    assert stored.json()["status"] == "explained" and stored.json()["explanation"] == said
