"""The citizen's complaint pages in a real browser (Playwright driving Debian's Chromium) against a real gunicorn,
at a phone's width and a desktop's: the form with a photo as evidence, then tracking the complaint."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from backend.agencies.services import create_agency
from backend.complaints.models import Complaint
from backend.extensions import db
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, watched_page
from tests.support.evidence_files import photo_with_location
from tests.support.live_server import LiveServer, server_env

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture
def sync_playwright():
    return playwright_or_skip()


@pytest.fixture
def server(committed, tmp_path):
    with committed.app_context():
        create_agency(code="SFJ", name="泉州市司法局", region_code="350500", actor="test", supervises=True)
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
    with LiveServer(server_env(committed, tmp_path), workers=1) as live:
        yield live


@pytest.mark.slow
def test_a_citizen_files_with_a_photo_and_tracks_it_on_a_phone_and_a_desktop(
    sync_playwright, server, committed, tmp_path
):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, viewport in WIDTHS.items():
                page, problems = watched_page(browser)
                page.set_viewport_size(viewport)
                content = f"执法人员检查时未出示执法证件（{width}）。"

                page.goto(f"{server.url}/complaints/new?agency=MKT")
                assert page.locator("h1").count() == 1
                assert page.input_value("#category") == "" and page.inner_text("#category option >> nth=0") == "请选择"
                page.fill("#content", content)
                page.click("button.submit")  # no category yet: the browser keeps the form, naming the field
                assert page.url.endswith("/complaints/new?agency=MKT")
                assert page.eval_on_selector("#category", "e => e.validity.valueMissing")
                page.select_option("#category", "no_credential")
                page.fill("#occurred_at", "2025-10-19T21:30")
                page.fill("#place", "泉州市鲤城区中山中路123号")
                page.set_input_files(
                    "#evidence", {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo_with_location()}
                )
                assert "办结 180 日后删除联系电话" in page.inner_text("section.privacy")
                assert fits(page), f"the form scrolls sideways at {width} width"
                page.screenshot(path=tmp_path / f"complaint-form-{width}.png", full_page=True)
                page.click("button.submit")
                page.wait_for_selector("#query-code")
                tracking_no, code = page.inner_text("#tracking-no").strip(), page.inner_text("#query-code").strip()
                assert re.search(r"将于 \d{4}年\d{1,2}月\d{1,2}日 前受理", page.inner_text("main"))

                page.click("text=查询办理进度")
                page.wait_for_selector("#code")
                assert page.locator("h1").count() == 1
                assert page.input_value("#tracking_no") == tracking_no
                page.fill("#code", code)
                page.click("button.submit")
                page.wait_for_selector("#status")
                result = page.inner_text("article")
                assert re.search(r"将于 \d{4}年\d{1,2}月\d{1,2}日 前受理", result) and "请于" not in result
                assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 已提交", result)
                assert "证据" not in page.content()
                assert fits(page), f"the tracking page scrolls sideways at {width} width"
                page.screenshot(path=tmp_path / f"complaint-track-{width}.png", full_page=True)
                assert problems == []
                page.context.close()

                with committed.app_context():
                    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))
                    assert complaint.content == content and complaint.place == "泉州市鲤城区中山中路123号"
                    assert complaint.occurred_at.isoformat() == "2025-10-19T13:30:00+00:00"
                    [photo] = complaint.evidence
                    with Image.open(io.BytesIO(photo.data)) as image:
                        assert image.format == "JPEG" and not image.getexif() and image.size == (20, 40)
        finally:
            browser.close()


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
