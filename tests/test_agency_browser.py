"""The agency page and the badge lookup in a real browser (Playwright driving Debian's Chromium) against a real
gunicorn, at a phone's width and a desktop's."""

from __future__ import annotations

import time
import urllib.error

import pytest

from tests.factories.disclosures import decision, power
from tests.factories.officers import officer
from tests.support.browser import BRAND_RED, CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, watched_page
from tests.support.live_server import LiveServer, agency_client, http_json, server_env

WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
BADGES = {"35050000001": "李明", "35050000002": "王芳"}


@pytest.fixture
def sync_playwright():
    return playwright_or_skip()


@pytest.fixture
def server(committed, tmp_path):
    """MKT with a 执法事项, a decision and two officers, served by gunicorn, its index filled by its indexer."""
    app = committed
    credentials = agency_client(app)
    with LiveServer(server_env(app, tmp_path, SEARCH_INDEXER_THREAD="1", ELASTICSEARCH_URL=""), workers=1) as live:
        token = http_json("POST", f"{live.url}/api/v1/auth/token", credentials)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        items = {
            key: http_json("PUT", f"{live.url}/api/v1/publish/disclosures/{key}", body, headers)["id"]
            for key, body in (("power", power()), ("decision", decision()))
        }
        for badge, name in BADGES.items():
            http_json("PUT", f"{live.url}/api/v1/publish/officers/{badge}", officer(name=name), headers)
        deadline = time.monotonic() + 30
        while roster_size(live) < len(BADGES):
            assert time.monotonic() < deadline, "the server's indexer did not index the officers"
            time.sleep(0.2)
        live.items = items
        yield live


def roster_size(live: LiveServer) -> int:
    """MKT's officers the server's index holds (0 while a first start rebuilds the index: 503)."""
    try:
        return http_json("GET", f"{live.url}/api/v1/officers?agency=MKT")["total"]
    except urllib.error.HTTPError as error:
        if error.code != 503:
            raise
        return 0


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.slow
def test_a_citizen_reads_an_agency_and_looks_a_badge_up_on_a_phone_and_a_desktop(sync_playwright, server, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width_name, (width, height) in WIDTHS.items():
                page, problems = watched_page(browser)
                page.set_viewport_size({"width": width, "height": height})

                page.goto(f"{server.url}/a/MKT")
                assert page.inner_text("h1") == "泉州市市场监督管理局"
                assert page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor") == BRAND_RED
                assert "执法事项清单" in page.inner_text(".pre-phase")
                assert page.locator("a[href='tel:12345']").count() == 1
                assert "共 2 人" in page.inner_text(".roster") and fits_the_width(page)
                page.screenshot(path=tmp_path / f"agency-{width_name}.png", full_page=True)

                page.fill(".roster input[name=q]", "王芳")
                page.click(".roster button[type=submit]")
                page.wait_for_url("**/a/MKT?q=*")
                roster = page.inner_text("ul.officers")
                assert "王芳" in roster and "35050000002" in roster and "李明" not in roster

                page.click(f".recent a[href='/d/{server.items['decision']}']")
                page.wait_for_url(f"**/d/{server.items['decision']}")
                assert "公示至" in page.inner_text("article")
                page.click("a.agency-link")
                page.wait_for_url("**/a/MKT")

                page.goto(f"{server.url}/v")
                assert fits_the_width(page)
                page.fill("input[name=badge_no]", "35050000001")
                page.click("button.submit")
                page.wait_for_selector("#status[data-result=valid]")
                assert "李明" in page.inner_text(".officer") and fits_the_width(page)
                assert page.locator("a[href='tel:12345']").count() == 1
                page.screenshot(path=tmp_path / f"lookup-{width_name}.png", full_page=True)
                page.click(".contact a.agency-link")
                page.wait_for_url("**/a/MKT")

                page.goto(f"{server.url}/v?badge_no=35059999999")
                assert page.get_attribute("#status", "data-result") == "invalid"
                assert "无法确认该证件" in page.inner_text(".verdict") and fits_the_width(page)
                assert problems == []
                page.context.close()
        finally:
            browser.close()
