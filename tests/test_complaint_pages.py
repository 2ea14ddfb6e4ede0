"""The citizen's complaint pages: the form (请选择 first, when it happened, a privacy notice with the configured
retention) and the tracking page (deadlines in the agency's words, the timeline in Beijing time, whom to turn to
once a deadline passed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from backend.accounts.models import AdminUser
from backend.complaints import services
from backend.complaints.models import Complaint
from tests.factories import AgencyFactory
from tests.support.admin_browser import AdminBrowser, create_user
from tests.support.complainant import form_token, read_complaint, track

FORM = "/complaints/new"


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(
        code="SFJ", name="泉州市司法局", region_code="350500", supervises=True, complaint_phone="0595-22180000"
    )
    return {"SFJ": judicial, "MKT": AgencyFactory(code="MKT", name="泉州市市场监督管理局", parent=judicial)}


@pytest.fixture
def zhang(runner, city, db_session) -> AdminUser:
    create_user(runner, "zhang", agency="MKT")
    return db_session.scalar(select(AdminUser).where(AdminUser.username == "zhang"))


def post_form(client, **fields):
    token = form_token(client.get(FORM).get_data(as_text=True))
    return client.post(FORM, data={"form_token": token, "agency": "MKT", **fields})


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def labelled(html: str) -> None:
    """Every visible control has a <label for> naming its id, and the page has one <h1>."""
    assert len(re.findall(r"<h1[ >]", html)) == 1
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    controls = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*>', html)
    assert len(ids) == len(controls)
    assert all(f'<label for="{control}"' in html for control in ids)


def test_the_form_starts_with_an_empty_choice_and_names_the_category_when_left(client, city, db_session):
    page = client.get(FORM).get_data(as_text=True)
    labelled(page)
    options = re.findall(r"<option[^>]*>[^<]*</option>", page)
    assert options[0] == '<option value="" selected>请选择</option>'
    assert not any("selected" in option for option in options[1:])
    left = post_form(client, content="执法人员未出示证件即要求检查。")
    html = left.get_data(as_text=True)
    assert left.status_code == 422 and "投诉类别：请选择一项" in html and 'aria-invalid="true"' in html
    assert db_session.scalar(select(Complaint)) is None


def test_when_it_happened_is_read_as_beijing_time_and_shown_back(client, zhang, db_session, app, frozen_clock):
    what = "执法人员未出示证件即要求检查。"
    refused = post_form(client, category="", content=what, occurred_at="2025-10-19T21:30")
    assert 'value="2025-10-19T21:30"' in refused.get_data(as_text=True)  # kept while the citizen corrects the rest
    filed = post_form(client, category="misconduct", content=what, occurred_at="2025-10-19T21:30")
    assert filed.status_code == 200
    complaint = db_session.scalar(select(Complaint))
    assert complaint.occurred_at == dt.datetime(2025, 10, 19, 13, 30, tzinfo=dt.UTC)
    handler = AdminBrowser(app.test_client())
    assert handler.login("zhang").status_code == 303
    assert "2025-10-19 21:30" in handler.page(f"/admin/complaints/{complaint.tracking_no}")
    wrong = post_form(client, category="misconduct", content=what, occurred_at="昨天晚上")
    assert wrong.status_code == 422 and "发生时间：" in wrong.get_data(as_text=True)
    # The API reads a time without an offset as Beijing's too, as its description says.
    body = {"category": "other", "content": "另一起执法不规范。", "agency": "MKT", "occurred_at": "2025-10-19T08:00"}
    assert client.post("/api/v1/complaints", json=body).status_code == 201
    stored = db_session.scalar(select(Complaint).where(Complaint.content == body["content"]))
    assert stored.occurred_at == dt.datetime(2025, 10, 19, 0, 0, tzinfo=dt.UTC)


def test_the_privacy_notice_states_the_configured_retention(client, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_CONTACT_RETENTION_DAYS", 200)
    page = client.get(FORM).get_data(as_text=True)
    notice = page[page.index("个人信息保护说明") :]
    assert "办结 200 日后删除联系电话" in notice
    assert "投诉内容" in notice and "联系电话" in notice and "证据材料" in notice
    assert "仅承办单位" in notice and "不会公开" in notice


def test_tracking_shows_deadlines_in_the_agencys_words_and_the_timeline_in_beijing_time(
    client, zhang, db_session, frozen_clock
):
    filed = services.submit({"category": "attitude", "content": "态度恶劣。", "agency": "MKT"}, channel="web")
    page = track(client, filed.complaint.tracking_no, filed.query_code).get_data(as_text=True)
    labelled(page)
    assert "将于 2025年10月23日 前受理" in page and "请于" not in page
    assert "2025-10-20 10:00 已提交" in text_of(page)  # 02:00 UTC is 10:00 in Beijing
    assert 'id="escalation"' not in page
    frozen_clock.advance(dt.timedelta(hours=1))
    services.accept(zhang, filed.complaint)
    page = track(client, filed.complaint.tracking_no, filed.query_code).get_data(as_text=True)
    assert "将于 2025年11月10日 前答复" in page and "请于" not in page
    assert "2025-10-20 11:00 已受理" in text_of(page)
    api = read_complaint(client, filed.complaint.tracking_no, filed.query_code).get_json()
    assert [(due["kind"], due["text"], due["met"], due["passed"]) for due in api["deadlines"]] == [
        ("accept", "将于 2025年10月23日 前受理", True, False),
        ("reply", "将于 2025年11月10日 前答复", False, False),
    ]
    assert api["escalation"] is None


def test_a_passed_deadline_says_whom_to_turn_to(client, city, db_session, frozen_clock):
    filed = services.submit({"category": "attitude", "content": "态度恶劣。", "agency": "MKT"}, channel="web")
    frozen_clock.advance(dt.timedelta(days=4))  # Friday 10-24: the 23rd passed without acceptance
    page = track(client, filed.complaint.tracking_no, filed.query_code).get_data(as_text=True)
    assert "已超过期限" in page
    assert "可向泉州市司法局反映（电话 0595-22180000），或拨打 12345 政务服务便民热线" in page
    api = read_complaint(client, filed.complaint.tracking_no, filed.query_code).get_json()
    assert api["escalation"]["agency"] == {"code": "SFJ", "name": "泉州市司法局", "phone": "0595-22180000"}
    assert api["escalation"]["hotline"] == "12345"
    assert api["deadlines"][0]["passed"] is True


def test_where_no_supervising_agency_is_known_the_citizen_is_sent_to_12345(client, city, db_session, frozen_clock):
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")  # no 司法局 of Xiamen on the platform
    filed = services.submit({"category": "attitude", "content": "态度恶劣。", "agency": "XM"}, channel="web")
    frozen_clock.advance(dt.timedelta(days=4))
    tracked = track(client, filed.complaint.tracking_no, filed.query_code)
    assert tracked.status_code == 200
    assert "办理已超过期限，可拨打 12345 政务服务便民热线反映" in tracked.get_data(as_text=True)
    api = read_complaint(client, filed.complaint.tracking_no, filed.query_code).get_json()
    assert api["escalation"] == {
        "agency": None,
        "hotline": "12345",
        "text": "办理已超过期限，可拨打 12345 政务服务便民热线反映",
    }
