"""Console sessions on both databases: who may sign in, and what ends a session."""

from __future__ import annotations

from api_client import Api
from console_client import HTML, console_visitor

from service.console.auth import SESSION_COOKIE


async def test_an_operator_session_reaches_the_dashboard(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/dashboard")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_the_session_cookie_is_httponly_and_strict(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/signin")
        assert page.status_code == 303  # signed in already: on to the dashboard
        assert visitor.client.cookies.get(SESSION_COOKIE)


async def test_a_station_token_cannot_sign_in(api: Api) -> None:
    transport_client = api.client
    page = await transport_client.get("/signin", headers=HTML)
    csrf = page.text.split('name="csrftoken" value="')[1].split('"')[0]
    answer = await transport_client.post(
        "/signin", data={"csrftoken": csrf, "token": api.secrets["station"]}, headers=HTML
    )
    assert answer.status_code == 403
    assert "站点令牌" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


async def test_revoking_the_token_ends_its_sessions(api: Api) -> None:
    secret = await api.token("operator", label="revoked soon")
    async with console_visitor(api, secret) as visitor:
        assert (await visitor.get("/dashboard")).status_code == 200
        tokens = await api.client.get("/api/v1/tokens", headers=api.as_("operator"))
        token_id = next(t["id"] for t in tokens.json()["items"] if t["label"] == "revoked soon")
        revoked = await api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.as_("operator"))
        assert revoked.status_code == 204
        after = await visitor.get("/dashboard")
        assert after.status_code == 303 and after.headers["location"].startswith("/signin")


async def test_signing_out_ends_the_session_on_the_server(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        stolen = visitor.client.cookies.get(SESSION_COOKIE)
        out = await visitor.post("/signout")
        assert out.status_code == 303
        visitor.client.cookies.set(SESSION_COOKIE, stolen)  # replaying the old cookie fails
        after = await visitor.get("/dashboard")
        assert after.status_code == 303


async def test_an_enterprise_session_may_not_open_operator_pages(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await visitor.get("/dashboard")
        assert page.status_code == 403
        assert "console.operators_only" in page.text


async def test_a_sign_in_form_without_its_csrf_token_is_refused(api: Api) -> None:
    answer = await api.client.post("/signin", data={"token": api.secrets["operator"]}, headers=HTML)
    assert answer.status_code == 403
    assert "csrf.invalid" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


async def test_bodies_the_csrf_check_cannot_read_are_a_clean_400(api: Api) -> None:
    page = await api.client.get("/signin", headers=HTML)
    assert page.status_code == 200
    broken = (
        ("application/x-www-form-urlencoded", b"csrftoken=\xff\xfe&token=x"),
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=", b"--\r\n"),
    )
    for content_type, body in broken:
        answer = await api.client.post(
            "/signin", content=body, headers={"Content-Type": content_type, "Accept": "*/*"}
        )
        assert answer.status_code in (400, 403), (content_type, answer.status_code, answer.text)
        codes = ("request.unreadable", "request.malformed", "csrf.invalid")
        assert answer.json()["error"]["code"] in codes


async def test_the_next_page_after_sign_in_stays_on_this_site(api: Api) -> None:
    page = await api.client.get("/signin?next=//evil.example/x", headers=HTML)
    csrf = page.text.split('name="csrftoken" value="')[1].split('"')[0]
    answer = await api.client.post(
        "/signin",
        data={"csrftoken": csrf, "token": api.secrets["operator"], "next": "//evil.example/x"},
        headers=HTML,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard"
