"""The console's notice pages over ASGI on SQLite and PostgreSQL: an enterprise sees and
acknowledges only its own notice, the operators' list of who has not acknowledged agrees with
the API's and drops an enterprise once it has, a dead delivery is sent again from the page,
subscriptions are added (a webhook's secret shown once) and removed, forms without their
CSRF token are refused."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from api_client import Api, served_api
from console_client import HTML, Visitor, console_visitor
from notify_helpers import FAST_RETRIES, eventually, warn
from standardwebhooks.webhooks import Webhook

from emission_list.samples import kundulun_list
from tests.infra.receiver import Receiver

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
async def notify_api(seeded_database_url: str) -> AsyncIterator[Api]:
    async with served_api(seeded_database_url, **FAST_RETRIES) as found:
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        found.secrets["other"] = await found.token("enterprise", enterprise_id=_other())
        yield found


def _other() -> str:
    return kundulun_list().entries[1].enterprise_id


async def _api_notices(api: Api, params: dict) -> list[dict]:
    answer = await api.client.get("/api/v1/notices", params=params, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def _notice_of(api: Api, enterprise_id: str) -> dict:
    async def stored() -> bool:
        return bool(await _api_notices(api, {"current": "true", "limit": 1000}))

    await eventually(stored, "the notices stored")
    found = [
        n
        for n in await _api_notices(api, {"current": "true", "limit": 1000})
        if n["enterprise_id"] == enterprise_id
    ]
    assert len(found) == 1
    return found[0]


def _listed(page: str) -> set[str]:
    return set(re.findall(r'<tr data-enterprise="([^"]+)"', page))


async def _all_listed(visitor: Visitor, path: str) -> list[str]:
    """The enterprises of every page of ``path``, following the next-page links; the rows
    come oldest notice first."""
    found: list[str] = []
    notice_ids: list[int] = []
    while True:
        page = await visitor.get(path)
        assert page.status_code == 200, page.text
        rows = re.findall(r'<tr data-enterprise="([^"]+)" data-notice="(\d+)"', page.text)
        found += [enterprise for enterprise, _ in rows]
        notice_ids += [int(number) for _, number in rows]
        more = re.search(r'<a href="(/notices\?[^"]*cursor=\d+)">', page.text)
        if more is None:
            assert notice_ids and notice_ids == sorted(notice_ids)
            return found
        path = html.unescape(more.group(1))


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}-heading".*?</section>', page, re.S)
    assert found, page
    return found.group(0)


async def test_an_enterprise_acknowledges_its_own_notice_and_leaves_the_operators_list(
    notify_api: Api,
) -> None:
    api = notify_api
    await warn(api, "orange")
    notice = await _notice_of(api, api.enterprise_id)
    ack_path = f"/enterprises/{api.enterprise_id}/notices/{notice['id']}/ack"
    async with console_visitor(api, api.secrets["operator"]) as operator:
        default = await operator.get("/notices")  # default: waiting longer than 30 minutes
        assert default.status_code == 200 and _listed(default.text) == set()
        waiting = await _all_listed(operator, "/notices?waiting=0")
        expected = {
            n["enterprise_id"]
            for n in await _api_notices(
                api, {"status": "unacknowledged", "current": "true", "limit": 1000}
            )
            if n["level"] in ("orange", "red")
        }
        assert api.enterprise_id in expected
        assert len(waiting) == len(set(waiting)) and set(waiting) == expected
        reds = await operator.get("/notices?waiting=0&level=red")
        assert _listed(reds.text) == set()  # an orange warning: no red notice waits
        async with console_visitor(api, api.secrets["other"]) as other:
            assert (await other.post(ack_path)).status_code == 404  # not its page
            own_path = f"/enterprises/{_other()}/notices/{notice['id']}/ack"
            assert (await other.post(own_path)).status_code == 404  # not its notice
        async with console_visitor(api, api.secrets["enterprise"]) as enterprise:
            page = await enterprise.get(f"/enterprises/{api.enterprise_id}")
            section = _section(page.text, "notices")
            assert "尚未确认" in section and f'action="{ack_path}"' in section
            acked = await enterprise.post(ack_path)
            assert acked.status_code == 303
            after = await enterprise.get(acked.headers["location"])
        after_section = _section(after.text, "notices")
        stored = await _notice_of(api, api.enterprise_id)
        assert stored["acknowledged_at"] is not None
        assert "通知已确认" in after_section and f'action="{ack_path}"' not in after_section
        assert re.search(r"已于 \d{4}-\d\d-\d\d \d\d:\d\d 确认", after_section)
        again = await _all_listed(operator, "/notices?waiting=0")
        assert set(again) == expected - {api.enterprise_id}
        # the operator sees it on the enterprise's page with its acknowledgement
        seen = await operator.get(f"/enterprises/{api.enterprise_id}?lang=en")
        recent = _section(seen.text, "notices")
        assert f'data-notice="{notice["id"]}"' in recent and "Acknowledged at" in recent


async def test_a_dead_delivery_is_listed_and_sent_again_from_the_page(
    seeded_database_url: str,
) -> None:
    receiver = await Receiver(fail_first=10**6, fail_status=500).start()
    try:
        async with (
            served_api(seeded_database_url, **FAST_RETRIES, notify_give_up_hours=0.0005) as api,
            console_visitor(api, api.secrets["operator"]) as operator,
        ):
            made = await operator.post(
                f"/enterprises/{api.enterprise_id}/subscriptions",
                {"channel": "webhook", "target": receiver.url, "language": "en"},
            )
            assert made.status_code == 200, made.text
            found = re.search(r'<code id="secret"[^>]*>(whsec_[^<]+)</code>', made.text)
            assert found, made.text
            secret = found.group(1)
            page = await operator.get(f"/enterprises/{api.enterprise_id}")
            assert receiver.url in page.text and secret not in page.text
            await warn(api, "orange")

            async def dead() -> bool:
                listed = await operator.get("/notices/dead")
                return "data-delivery=" in listed.text

            await eventually(dead, "the delivery dead and listed")
            listed = await operator.get("/notices/dead")
            (delivery_id,) = re.findall(r'data-delivery="(\d+)"', listed.text)
            assert "HTTP 500" in html.unescape(listed.text)
            receiver.fail_first = 0
            sent = await operator.post(f"/notices/deliveries/{delivery_id}/resend")
            assert sent.status_code == 303
            assert sent.headers["location"] == f"/notices/dead?resent={delivery_id}"
            twice = await operator.post(f"/notices/deliveries/{delivery_id}/resend")
            assert twice.status_code == 409  # no longer dead

            async def delivered() -> bool:
                return any(r.answered == 200 for r in receiver.received)

            await eventually(delivered, "the resent notice delivered")
            emptied = await operator.get("/notices/dead")
            assert "data-delivery=" not in emptied.text
        accepted = next(r for r in receiver.received if r.answered == 200)
        Webhook(secret).verify(accepted.body, accepted.headers)  # the secret shown signs it
    finally:
        await receiver.stop()


async def test_an_enterprise_adds_and_removes_its_subscriptions(notify_api: Api) -> None:
    api = notify_api
    path = f"/enterprises/{api.enterprise_id}/subscriptions"
    async with console_visitor(api, api.secrets["enterprise"]) as enterprise:
        wrong = await enterprise.post(path, {"channel": "sms", "target": "12345", "language": "en"})
        assert wrong.status_code == 422
        assert 'aria-invalid="true"' in wrong.text and 'id="sub-target-problem"' in wrong.text
        assert 'value="12345"' in wrong.text  # the form keeps what was typed
        empty = await enterprise.post(path, {"channel": "fax", "target": "", "language": "xx"})
        assert empty.status_code == 422
        for field in ("channel", "target", "language"):
            assert f'id="sub-{field}-problem"' in empty.text
        added = await enterprise.post(
            path, {"channel": "sms", "target": "+8613800000000", "language": "zh-CN"}
        )
        assert added.status_code == 303
        listed = await api.client.get("/api/v1/subscriptions", headers=api.as_("enterprise"))
        (made,) = listed.json()["items"]
        assert (made["channel"], made["target"], made["language"]) == (
            "sms",
            "+8613800000000",
            "zh-CN",
        )
        page = await enterprise.get(added.headers["location"])
        assert f'data-subscription="{made["id"]}"' in _section(page.text, "subscriptions")
        async with console_visitor(api, api.secrets["other"]) as other:
            theirs = await other.post(f"/enterprises/{_other()}/subscriptions/{made['id']}/delete")
            assert theirs.status_code == 404
        removed = await enterprise.post(f"{path}/{made['id']}/delete")
        assert removed.status_code == 303
    listed = await api.client.get("/api/v1/subscriptions", headers=api.as_("enterprise"))
    assert listed.json()["items"] == []


async def test_the_notice_forms_refuse_a_missing_csrf_token(notify_api: Api) -> None:
    api = notify_api
    await warn(api, "orange")
    notice = await _notice_of(api, api.enterprise_id)
    async with console_visitor(api, api.secrets["enterprise"]) as enterprise:
        for path, form in (
            (f"/enterprises/{api.enterprise_id}/notices/{notice['id']}/ack", {}),
            (
                f"/enterprises/{api.enterprise_id}/subscriptions",
                {"channel": "sms", "target": "+8613800000000"},
            ),
        ):
            refused = await enterprise.client.post(path, data=form, headers=HTML)
            assert refused.status_code == 403 and "csrf.invalid" in refused.text
    assert (await _notice_of(api, api.enterprise_id))["acknowledged_at"] is None
    listed = await api.client.get("/api/v1/subscriptions", headers=api.as_("enterprise"))
    assert listed.json()["items"] == []


async def test_the_operators_pages_are_closed_to_an_enterprise(notify_api: Api) -> None:
    async with console_visitor(notify_api, notify_api.secrets["enterprise"]) as enterprise:
        for path in ("/notices", "/notices/dead"):
            assert (await enterprise.get(path)).status_code == 403
        assert (await enterprise.post("/notices/deliveries/1/resend")).status_code == 403


#: 10,000 enterprises with 10 notices each, the last of each unacknowledged half the time,
#: and a delivery per notice, 1 in 50 of them dead.
BULK_NOTICES = """
INSERT INTO notices (enterprise_id, region, event, level, previous_level, as_of, payload,
                     created_at, acknowledged_at, escalation)
SELECT 'E' || lpad((n % 10000)::text, 8, '0'), '150203', 'actions.changed',
       (ARRAY['yellow', 'orange', 'red'])[1 + n % 3], 'none', now(), '{}'::jsonb,
       now() - make_interval(mins => 100000 - n),
       CASE WHEN n >= 90000 AND n % 2 = 0 THEN NULL ELSE now() END, 0
FROM generate_series(0, 99999) AS n
"""
BULK_DELIVERIES = """
INSERT INTO deliveries (notice_id, subscription_id, key, target, stage, status, attempts,
                        created_at, next_attempt_at)
SELECT id, CAST(:subscription AS varchar), CAST(:subscription AS varchar) || '/' || enterprise_id,
       'http://127.0.0.1:9/hook', 0,
       CASE WHEN id % 50 = 0 THEN 'dead' ELSE 'delivered' END, 1, created_at, created_at
FROM notices
"""


@pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)
async def test_the_pages_queries_use_their_indexes_at_100000_notices(api: Api) -> None:
    from sqlalchemy import event, text

    from service.console import notice_views
    from service.storage.repositories import utcnow

    made = await api.client.post(
        "/api/v1/subscriptions",
        json={"channel": "webhook", "target": HOOK, "enterprise_id": api.enterprise_id},
        headers=api.as_("operator"),
    )
    subscription = made.json()["id"]
    engine = api.runtime.engine
    async with engine.begin() as connection:
        await connection.execute(text(BULK_NOTICES))
        await connection.execute(text(BULK_DELIVERIES), {"subscription": subscription})
        await connection.execute(text("ANALYZE notices"))
        await connection.execute(text("ANALYZE deliveries"))
    issued: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            issued.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        async with api.runtime.session_maker() as session:
            waiting = await notice_views.waiting(session, ["orange", "red"], 30, None, utcnow())
            second = await notice_views.waiting(
                session, ["orange", "red"], 30, int(waiting.next_cursor), utcnow()
            )
            dead, cursor = await notice_views.dead(session, None)
            await notice_views.dead(session, cursor)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
    assert len(waiting.rows) == len(second.rows) == notice_views.PAGE_SIZE
    assert all(r.notice.acknowledged_at is None for r in waiting.rows + second.rows)
    assert len(dead) == notice_views.PAGE_SIZE and cursor is not None
    assert len(issued) == 6  # a page of rows, then all their deliveries at once: no N+1
    plans = []
    async with engine.connect() as connection:
        for statement, parameters in issued:
            found = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in found))
    waiting_plans, dead_plans = [plans[0], plans[2]], [plans[4], plans[5]]
    assert all("Index Scan using ix_deliveries_notice_id" in p for p in (plans[1], plans[3]))
    bounds = [line for line in dead_plans[1].splitlines() if "Index Cond" in line]
    assert any("'dead'" in line and "next_attempt_at <=" in line for line in bounds), bounds
    assert all("ix_notices_enterprise_id_id" in p for p in waiting_plans), waiting_plans
    assert all("ix_deliveries_status_next_attempt_at" in p for p in dead_plans), dead_plans
