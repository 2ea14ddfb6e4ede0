"""Security headers on every kind of response, and the pages keeping to their Content-Security-Policy."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from backend.disclosures import reading
from backend.officers import tokens
from search_index.interfaces import SearchUnavailable
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.browser import BRAND_RED, CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, watched_page
from tests.support.live_server import LiveServer, agency_client, http_json, server_env

ROOT = Path(__file__).resolve().parent.parent
BADGE = "35050012345"
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.fixture
def city(client, auth, db_session, indexer):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    headers = auth.headers("MKT")
    assert client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers).status_code == 201
    published = client.put("/api/v1/publish/disclosures/food", json=decision(), headers=headers)
    assert published.status_code == 201, published.get_json()
    indexer.sync()
    return {"disclosure": published.get_json()["id"]}


def badge_token(app) -> str:
    with app.test_request_context():
        return tokens.issue("MKT", BADGE).token


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def assert_secured(response, what: str) -> dict[str, list[str]]:
    """Each header exactly once, and a policy allowing no inline code and no framing."""
    headers = response.headers
    assert headers.getlist("X-Content-Type-Options") == ["nosniff"], what
    assert headers.getlist("Referrer-Policy") == ["same-origin"], what
    assert headers.getlist("X-Frame-Options") == ["DENY"], what
    (policy,) = headers.getlist("Content-Security-Policy")
    parsed = directives(policy)
    assert parsed["default-src"] == ["'none'"], what
    assert parsed["frame-ancestors"] == ["'none'"], what
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, what
    assert all(source == "'self'" for source in parsed.get("style-src", [])), what
    return parsed


def test_every_kind_of_response_carries_the_headers(app, client, city, monkeypatch):
    token = badge_token(app)
    responses = {
        "home redirect": (client.get("/"), 302),
        "search page": (client.get("/s?q=过期食品"), 200),
        "disclosure page": (client.get(f"/d/{city['disclosure']}"), 200),
        "missing disclosure page": (client.get("/d/no-such-item"), 404),
        "badge page (fast path)": (client.get(f"/v/{token}"), 200),
        "badge check (fast path)": (client.get("/api/v1/badges/verify", query_string={"token": token}), 200),
        "badge check through Flask": (client.get("/api/v1/badges/verify"), 422),
        "officer photo": (client.get(f"/v/{token}/photo"), 200),
        "complaint form": (client.get("/complaints/new"), 200),
        "tracking page": (client.get("/complaints/track"), 200),
        "JSON API": (client.get("/api/v1/agencies"), 200),
        "API 404": (client.get("/api/v1/agencies/NOPE"), 404),
        "unrouted 404": (client.get("/no-such-page"), 404),
        "guard 400 page": (client.get("/d/%00"), 400),
        "guard 400 API": (client.get("/api/v1/agencies/%00"), 400),
        "guard 414": (client.get("/s?q=" + "x" * 5000), 414),
        "413": (
            client.post(
                "/api/v1/complaints",
                data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                content_type="application/json",
            ),
            413,
        ),
        "OpenAPI document": (client.get("/api/openapi.json"), 200),
        "Swagger UI": (client.get("/api/docs"), 200),
        "Swagger UI asset": (client.get("/api/docs/static/swagger-ui.css"), 200),
        "citizen stylesheet": (client.get("/static/site.css"), 200),
        "admin login": (client.get("/admin/login"), 200),
        "admin redirect": (client.get("/admin/complaints"), 302),
        "admin stylesheet": (client.get("/admin/static/admin.css"), 200),
    }

    def search_down(**_):
        raise SearchUnavailable("down")

    monkeypatch.setattr(reading, "search_public", search_down)
    responses["search page 503"] = (client.get("/s?q=过期食品"), 503)
    responses["search API 503"] = (client.get("/api/v1/disclosures?q=过期食品"), 503)

    for what, (response, status) in responses.items():
        assert response.status_code == status, (what, response.status_code)
        parsed = assert_secured(response, what)
        if response.mimetype == "text/html" and what != "Swagger UI":
            assert "script-src" not in parsed and parsed["style-src"] == ["'self'"], what
            assert parsed["form-action"] == ["'self'"] and parsed["base-uri"] == ["'none'"], what
    admin = responses["admin login"][0]
    assert admin.headers["Cache-Control"] == "no-store"


def test_swagger_ui_may_run_exactly_its_own_inline_script(client):
    page = client.get("/api/docs")
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page.get_data(as_text=True), re.DOTALL)
    assert scripts, "Swagger UI's page has its init script inline"
    served = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts}
    script_src = directives(page.headers["Content-Security-Policy"])["script-src"]
    assert set(script_src) == {"'self'", *served}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_holds_inline_script_or_style(template):
    """What the pages' policy would refuse (and the browser test would only meet on the pages it opens)."""
    html = template.read_text()
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "event handler attributes are inline script"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "javascript:" not in html


# -- in a real browser ------------------------------------------------------------------------------
@pytest.fixture
def live(committed, tmp_path):
    """A gunicorn of a database holding an officer (with photo) and a published decision."""
    app = committed
    credentials = agency_client(app)
    env = server_env(app, tmp_path, VERIFY_RATE_LIMIT_PER_MINUTE="0", SEARCH_INDEXER_THREAD="1")
    with LiveServer(env, workers=1) as server:
        bearer = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
        headers = {"Authorization": f"Bearer {bearer}"}
        http_json("PUT", f"{server.url}/api/v1/publish/officers/{BADGE}", officer(), headers)
        disclosure = http_json("PUT", f"{server.url}/api/v1/publish/disclosures/food", decision(), headers)["id"]
        searched = f"{server.url}/s?q=" + quote("过期食品")
        for _ in range(300):  # the indexer thread catches up with what was just published (503 until then)
            with contextlib.suppress(urllib.error.HTTPError), urllib.request.urlopen(searched, timeout=10) as found:
                if f"/d/{disclosure}" in found.read().decode():
                    break
            time.sleep(0.1)
        yield server, badge_token(app), disclosure


@pytest.mark.slow
def test_citizen_pages_and_swagger_ui_keep_to_their_policy_in_chromium(live, tmp_path):
    sync_playwright = playwright_or_skip()
    server, token, disclosure = live
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            style = "(e, p) => getComputedStyle(e)[p]"

            page.goto(f"{server.url}/s?q=过期食品")
            assert page.eval_on_selector("header", style, "backgroundColor") == BRAND_RED
            assert page.locator(f"a[href$='/d/{disclosure}']").count() >= 1

            page.goto(f"{server.url}/d/{disclosure}")
            assert page.eval_on_selector("h1", style, "fontSize") == "20px"

            page.goto(f"{server.url}/v/{token}")
            assert page.eval_on_selector("#status", style, "color") == "rgb(11, 122, 62)"
            assert page.eval_on_selector("section.verdict", style, "borderTopWidth") == "8px"
            assert page.eval_on_selector("img.photo", "e => e.complete && e.naturalWidth > 0")
            page.screenshot(path=tmp_path / "verify.png")

            page.click("a:has-text('投诉举报')")
            page.wait_for_url(re.compile(r".*/complaints/new\?badge="))
            page.select_option("select[name=category]", "misconduct")
            page.fill("textarea[name=content]", "执法人员检查时未出示执法证件，态度生硬。")
            page.click("button:has-text('提交投诉')")
            page.wait_for_selector("#query-code")
            tracking_no, code = page.inner_text("#tracking-no"), page.inner_text("#query-code")
            assert page.eval_on_selector("#query-code", style, "letterSpacing") == "2px"

            page.click("a:has-text('查询办理进度')")
            page.wait_for_url(re.compile(r".*/complaints/track\?tracking_no="))
            assert page.input_value("input[name=tracking_no]") == tracking_no
            page.fill("input[name=code]", code)
            page.click("button:has-text('查询')")
            page.wait_for_selector("#status")
            assert page.inner_text("#status") == "待受理"
            page.screenshot(path=tmp_path / "track.png")

            page.goto(f"{server.url}/api/docs")
            page.wait_for_selector(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/complaints/{tracking_no}']")
            assert page.locator(".opblock").count() > 20
            page.screenshot(path=tmp_path / "docs.png")

            assert problems == []
            assert requested and not [url for url in requested if code in url]
        finally:
            browser.close()
