"""A real browser for the tests that need one: Playwright driving Debian's Chromium (skipped locally
when either is missing, a failure in CI), and a page that records what a user would not see go wrong."""

from __future__ import annotations

import os

import pytest

from tests.support.services import IN_CI

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BRAND_RED = "rgb(183, 28, 28)"


def need(found: bool, what: str, how: str) -> None:
    if found:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {what} is missing ({how})")
    pytest.skip(f"{what} not installed ({how})")


def playwright_or_skip():
    """Playwright's ``sync_playwright``, once both it and Chromium are known to be installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    need(sync_playwright is not None, "playwright", "pip install -r requirements-test.txt")
    need(os.access(CHROMIUM, os.X_OK), CHROMIUM, "bash deploy/test-tools.sh")
    return sync_playwright


def watched_page(browser):
    """A page, and the list it fills with anything it asked for and did not get (the favicon aside) and any
    Content-Security-Policy refusal."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and problems.append(r.url))
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    return page, problems
