"""The search page /s in Chromium at a phone's width and a desktop's: filters used without script."""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.accounts.services import create_client
from backend.agencies.services import create_agency
from search_index import make_engine
from search_index.mappings import DEFINITIONS
from tests.factories.disclosures import decision, service_guide
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, watched_page
from tests.support.live_server import LiveServer, agency_client, http_json, server_env

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}


ITEMS = [
    ("MKT", "m1", decision(decision_date="2025-10-15")),
    (
        "MKT",
        "m2",
        decision(title="泉州市某餐馆行政处罚决定书", document_no="泉市监罚〔2025〕2号", decision_date="2025-10-11"),
    ),
    ("MKT", "g1", service_guide()),
    (
        "LC",
        "l1",
        decision(title="鲤城区某超市行政处罚决定书", document_no="鲤市监罚〔2025〕3号", decision_date="2025-10-16"),
    ),
    (
        "YC",
        "y1",
        decision(title="盐城市某超市行政处罚决定书", document_no="盐市监罚〔2025〕5号", decision_date="2025-10-12"),
    ),
]


@pytest.fixture
def live(committed, tmp_path):
    """A gunicorn whose index holds four items of 泉州 (市 and 鲤城区) and one of 盐城."""
    app = committed
    agencies = {"MKT": agency_client(app)}
    with app.app_context():
        for code, name, region in (("LC", "鲤城区市场监督管理局", "350502"), ("YC", "盐城市市场监督管理局", "320900")):
            create_agency(code=code, name=name, region_code=region, actor="test")
            issued = create_client(code, actor="test")
            agencies[code] = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    # Its own indices: another server on a shared Elasticsearch would count in these totals.
    env = server_env(app, tmp_path, SEARCH_INDEXER_THREAD="1", SEARCH_INDEX_PREFIX=f"b{uuid.uuid4().hex[:10]}")
    engine = make_engine({**app.config, **env, "ELASTICSEARCH_URL": os.environ.get("ELASTICSEARCH_URL")})
    try:
        with LiveServer(env, workers=1) as server:
            publish(server, agencies)
            yield server
    finally:
        for definition in DEFINITIONS.values():
            engine.drop(definition)


def publish(server: LiveServer, agencies: dict[str, dict[str, str]]) -> None:
    token = f"{server.url}/api/v1/auth/token"
    headers = {
        code: {"Authorization": f"Bearer {http_json('POST', token, creds)['access_token']}"}
        for code, creds in agencies.items()
    }
    for code, key, body in ITEMS:
        http_json("PUT", f"{server.url}/api/v1/publish/disclosures/{key}", body, headers[code])
    for _ in range(300):  # the indexer thread catches up with what was just published (503 until then)
        with contextlib.suppress(urllib.error.HTTPError):
            if http_json("GET", f"{server.url}/api/v1/disclosures")["total"] == len(ITEMS):
                return
        time.sleep(0.1)
    pytest.fail("the index did not catch up with the items published")


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def fits(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.slow
def test_filters_facets_and_paging_at_phone_and_desktop_widths(live, tmp_path):
    sync_playwright = playwright_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)

            # A phone: the filters fold away under one tap, then each control takes the full width.
            page.set_viewport_size(PHONE)
            page.goto(f"{live.url}/s")
            assert page.locator("h1").count() == 1 and "共 5 条" in page.inner_text("p.count")
            assert not page.locator("#f-region").is_visible()
            page.click("details.filters summary")
            region = page.locator("#f-region")
            assert region.is_visible() and region.bounding_box()["width"] > PHONE["width"] / 2
            assert "泉州市（4）" in region.inner_text() and "350500" not in region.inner_text()
            region.select_option("350500")
            page.select_option("#f-sort", "date")
            page.click("button:has-text('应用筛选')")
            page.wait_for_url("**/s?**region=350500**")
            assert query(page.url)["sort"] == ["date"] and "共 4 条" in page.inner_text("p.count")
            titles = page.locator("h2.result-title").all_inner_texts()
            assert [title for title in titles if title.endswith("决定书")] == [
                "鲤城区某超市行政处罚决定书",
                "泉州市某食品店销售过期食品行政处罚决定书",
                "泉州市某餐馆行政处罚决定书",
            ]
            assert fits(page)
            page.screenshot(path=tmp_path / "search-phone.png", full_page=True)
            # Another region is one choice away: the list still offers it, with its count.
            region = page.locator("#f-region")
            assert "盐城市（1）" in region.inner_text() and "泉州市（4）" in region.inner_text()
            region.select_option("320900")
            page.click("button:has-text('应用筛选')")
            page.wait_for_url("**/s?**region=320900**")
            assert "共 1 条" in page.inner_text("p.count") and "地区：盐城市" in page.inner_text("ul.chosen")
            page.go_back()
            page.wait_for_url("**/s?**region=350500**")
            # The filter in force, a tap away from being dropped; the order stays.
            page.click("ul.chosen a:has-text('地区：泉州市')")
            page.wait_for_url(lambda url: "region" not in query(url))
            assert query(page.url) == {"sort": ["date"]} and "共 5 条" in page.inner_text("p.count")

            # A desktop: the filters side by side; dates, a type, and paging that keeps them.
            page.set_viewport_size(DESKTOP)
            page.goto(f"{live.url}/s?page_size=2")
            page.click("details.filters summary")
            tops = [page.locator(f"#f-{name}").bounding_box()["y"] for name in ("agency", "region")]
            assert tops[0] == tops[1]
            page.select_option("#f-type", "decision")
            page.fill("#f-date_from", "2025-10-11")
            page.fill("#f-date_to", "2025-10-16")
            page.click("button:has-text('应用筛选')")
            page.wait_for_url("**/s?**type=decision**")
            assert query(page.url)["date_from"] == ["2025-10-11"]
            assert "共 4 条，第 1 / 2 页" in page.inner_text("p.count")
            page.click("nav.pager a:has-text('下一页')")
            page.wait_for_url(lambda url: query(url).get("page") == ["2"])
            kept = query(page.url)
            assert (kept["type"], kept["date_from"], kept["date_to"], kept["page_size"]) == (
                ["decision"],
                ["2025-10-11"],
                ["2025-10-16"],
                ["2"],
            )
            assert page.locator("h2.result-title").count() == 2
            page.locator("h2.result-title a").first.click()
            page.wait_for_url("**/d/**")
            page.goto(f"{live.url}/s?q=超市&category=licensing")
            assert "去掉部分筛选条件" in page.inner_text("main")
            page.screenshot(path=tmp_path / "search-desktop.png", full_page=True)
            assert problems == []
        finally:
            browser.close()
