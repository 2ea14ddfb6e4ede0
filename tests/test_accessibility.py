"""Every page of the site in Chromium at a phone's and a desktop's width, checked by axe-core: zero serious or
critical violations, and no page wider than the screen. The pages and their states are tests/support/site_tour.py's
list (one line each)."""

from __future__ import annotations

import pytest

from tests.support.accessibility import report, violations
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip
from tests.support.live_server import LiveServer, server_env
from tests.support.site_tour import PUBLIC, SERVER_ENV, VIEWPORTS, seed, wait_until_searchable, walk

PAGE_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture
def sync_playwright():
    return playwright_or_skip()


def tour_server(app, folder) -> LiveServer:
    """The app's database served with the embedded engine, which the server indexes itself."""
    env = server_env(app, folder, REDIS_URL="", ELASTICSEARCH_URL="", SEARCH_INDEXER_THREAD="1", **SERVER_ENV)
    return LiveServer(env, workers=1)


@pytest.fixture
def tour(committed, tmp_path):
    facts = seed(committed)
    with tour_server(committed, tmp_path) as live:
        wait_until_searchable(live.url, facts)
        yield live, facts


@pytest.mark.slow
def test_every_page_at_both_widths_has_no_serious_or_critical_violation(sync_playwright, tour):
    server, facts = tour
    public = {visit.name for visit in PUBLIC}
    found: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for visit, width, page in walk(browser, server.url, facts):
                where = f"{visit.name} ({width}, {page.url.removeprefix(server.url)})"
                if failing := violations(page):
                    found.append(f"{where}:\n{report(failing)}")
                if visit.name in public and (headings := page.locator("h1").count()) != 1:
                    found.append(f"{where}: {headings} <h1> elements, not one")
                # Usable on a phone: nothing pushes the page sideways (a wide table scrolls inside its card).
                if (wide := page.evaluate(PAGE_WIDTH)) > page.viewport_size["width"]:
                    found.append(f"{where}: {wide}px wide, wider than the screen")
        finally:
            browser.close()
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_large_text_mode_is_kept_from_page_to_page_and_stays_accessible(sync_playwright, committed, tmp_path):
    with tour_server(committed, tmp_path) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN").new_page()
            page.goto(f"{server.url}/s")
            size = "() => getComputedStyle(document.body).fontSize"
            assert page.evaluate(size) == "16px"
            page.click("header button:has-text('大字模式')")
            page.wait_for_selector("html.large-text")
            assert page.url == f"{server.url}/s" and page.evaluate(size) == "24px"
            # The badge page comes from the fast path's stencils: the choice reaches it too.
            for path in ("/v/not-a-badge-token", "/complaints/new", "/complaints/track"):
                page.goto(server.url + path)
                assert page.evaluate(size) == "24px", path
                assert not violations(page), f"{path}:\n{report(violations(page))}"
            page.click("header button:has-text('标准字号')")
            page.wait_for_url(f"{server.url}/complaints/track")
            assert page.evaluate(size) == "16px"
            favicon = page.request.get(f"{server.url}/favicon.ico")
            assert favicon.ok and favicon.headers["content-type"].startswith("image/")
        finally:
            browser.close()
