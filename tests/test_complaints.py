"""Complaints from the citizen's side: filing, routing, following, the clock and escalation."""

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.accounts.models import AdminUser
from backend.agencies.services import create_agency
from backend.complaints import listeners, notify, services
from backend.complaints.models import Complaint, Notification
from backend.extensions import db
from backend.officers import services as officer_services
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.complainant import form_token, read_complaint
from tests.support.complainant import track as track_page

URL = "/api/v1/complaints"


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    market = AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    district = AgencyFactory(code="LC", name="鲤城区市场监督管理局", region_code="350502", level="county")
    return {"SFJ": judicial, "MKT": market, "LC": district}


def file(client, **body):
    payload = {"category": "misconduct", "content": "执法人员未出示证件即要求检查。", **body}
    return client.post(URL, json=payload)


def test_filing_returns_a_tracking_number_and_a_secret_code(client, city, frozen_clock):
    response = file(client, agency="MKT")
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"TS20251020\d{6}", body["tracking_no"])
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", body["query_code"])
    assert body["agency"] == {"code": "MKT", "name": "泉州市市场监督管理局"}
    assert body["accept_due"] == "2025-10-23"  # three working days after Monday 10-20
    stored = services.for_citizen(body["tracking_no"], body["query_code"])
    assert body["query_code"] not in stored.query_code_hash


def test_routing_officer_receipt_decision_agency_and_region(client, auth, app, city, frozen_clock, db_session):
    headers = auth.headers("LC")
    client.put("/api/v1/publish/officers/35050012345", json=officer(), headers=headers)
    item = client.put("/api/v1/publish/disclosures/d1", json=decision(), headers=headers).get_json()
    assert file(client, badge_no="35050012345").get_json()["agency"]["code"] == "LC"
    assert (
        file(client, disclosure_id=item["id"], content="公示的处罚决定书当事人名称有误。").get_json()["agency"]["code"]
        == "LC"
    )
    assert file(client, agency="MKT", content="态度恶劣，言语粗暴。").get_json()["agency"]["code"] == "MKT"
    # Nothing to go on: the supervising 司法局 of the region (a district without one: its city's).
    assert file(client, content="某执法队乱收费。").get_json()["agency"]["code"] == "SFJ"
    assert file(client, content="区里某执法队乱收费。", region="350502").get_json()["agency"]["code"] == "SFJ"
    # A scan receipt from the badge page proves which badge was scanned and when.
    from backend.officers import tokens

    with app.test_request_context():
        token = tokens.issue("LC", "35050012345").token
        receipt = officer_services.scan_receipt(officer_services.verify(token))
    filed = file(client, receipt=receipt, content="扫码后发现证件已暂扣仍在执法。").get_json()
    complaint = services.for_citizen(filed["tracking_no"], filed["query_code"])
    assert (complaint.badge_no, complaint.agency.code, complaint.scan_verified) == ("35050012345", "LC", True)
    forged = file(client, receipt=receipt[:-3] + "abc", content="伪造的凭证。")
    assert forged.status_code == 422 and "receipt" in forged.get_json()["errors"]


def test_an_identical_resubmission_returns_the_first_complaint(client, city, db_session):
    first = file(client, agency="MKT")
    again = file(client, agency="MKT")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert db_session.scalar(select(func.count()).select_from(Complaint)) == 1
    assert file(client, agency="MKT", content="另一件事：执法车辆违规停放。").status_code == 201


def test_the_database_knows_the_twin_when_the_cache_does_not(client, city, app, db_session, frozen_clock):
    """The twin is found in the database (no cache takes part), so any worker answers with the first
    complaint, also across a dedupe window's edge, and only within ten minutes of the first."""
    frozen_clock.advance(dt.timedelta(minutes=9))  # 10:09 Beijing time; the windows start at each tenth minute
    first = file(client, agency="MKT")
    frozen_clock.advance(dt.timedelta(minutes=2))
    again = file(client, agency="MKT")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    frozen_clock.advance(dt.timedelta(minutes=8, seconds=1))  # ten minutes and a second after the first
    later = file(client, agency="MKT")
    assert later.status_code == 201 and later.get_json()["tracking_no"] != first.get_json()["tracking_no"]
    assert db_session.scalar(select(func.count()).select_from(Complaint)) == 2


def test_identical_complaints_filed_at_once_are_stored_once(committed):
    app = committed
    with app.app_context():
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
    copies = 6
    start = threading.Barrier(copies)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        client = app.test_client()
        start.wait()
        response = file(client, agency="MKT")
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * (copies - 1) + [201]
    assert len({(body["tracking_no"], body["query_code"]) for _, body in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1


def test_a_twin_row_is_refused_by_the_database_itself(client, city, db_session):
    filed = file(client, agency="MKT").get_json()
    stored = db_session.scalar(select(Complaint).where(Complaint.tracking_no == filed["tracking_no"]))
    twin = Complaint(
        **{column.key: getattr(stored, column.key) for column in Complaint.__table__.columns if column.key != "id"}
        | {"tracking_no": "TS20990101000000"}
    )
    db_session.add(twin)
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_filing_is_rate_limited_per_address(client, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_RATE_LIMIT_PER_HOUR", 2)
    assert file(client, content="第一件投诉内容。").status_code == 201
    assert file(client, content="第二件投诉内容。").status_code == 201
    limited = file(client, content="第三件投诉内容。")
    assert limited.status_code == 429 and limited.headers["Retry-After"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "rude"}, "category"),
        ({"content": "短"}, "content"),
        ({"content": "长" * 2001}, "content"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"badge_no": "a b"}, "badge_no"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_complaints_name_the_field(client, city, body, field):
    response = file(client, **body)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]


def test_the_query_code_opens_the_complaint_and_nothing_else_does(client, city):
    filed = file(client, agency="MKT", contact_phone="13812345678").get_json()
    view = read_complaint(client, filed["tracking_no"], filed["query_code"])
    assert view.status_code == 200
    body = view.get_json()
    assert body["status"] == "submitted" and body["status_label"] == "待受理"
    assert [e["kind"] for e in body["timeline"]] == ["submitted"]
    assert "13812345678" not in str(body)
    assert read_complaint(client, filed["tracking_no"], "WRONGCDE").status_code == 404
    assert read_complaint(client, "TS20990101000000", filed["query_code"]).status_code == 404
    assert client.get(f"{URL}/{filed['tracking_no']}").status_code == 422


def test_the_clock_runs_on_working_days_and_overdue_complaints_escalate(client, city, frozen_clock, db_session):
    # Filed Tuesday 2025-09-30, before the National Day holiday (10-01..10-08); Saturday 10-11 is worked.
    frozen_clock.at = dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC)
    filed = file(client, agency="MKT").get_json()
    assert filed["accept_due"] == "2025-10-11"
    frozen_clock.at = dt.datetime(2025, 10, 11, 9, 0, tzinfo=dt.UTC)
    assert services.escalate_overdue() == 0
    frozen_clock.at = dt.datetime(2025, 10, 12, 1, 0, tzinfo=dt.UTC)
    assert services.escalate_overdue() == 1
    assert services.escalate_overdue() == 0
    complaint = services.for_citizen(filed["tracking_no"], filed["query_code"])
    assert complaint.escalated_to.code == "SFJ"
    timeline = read_complaint(client, filed["tracking_no"], filed["query_code"]).get_json()
    assert timeline["timeline"][-1]["kind"] == "escalated" and "泉州市司法局" in timeline["timeline"][-1]["text"]


def test_acceptance_starts_fifteen_working_days_to_reply(client, city, frozen_clock, db_session, runner):
    runner.invoke(
        args=["admin", "create", "--username", "wang", "--role", "handler", "--agency", "MKT"],
        input="a long password 1\n",
    )
    handler = db_session.scalar(select(AdminUser).where(AdminUser.username == "wang"))
    frozen_clock.at = dt.datetime(2025, 10, 9, 2, 0, tzinfo=dt.UTC)
    filed = file(client, agency="MKT").get_json()
    complaint = services.for_admin(handler, filed["tracking_no"])
    services.accept(handler, complaint)
    assert complaint.reply_due == dt.date(2025, 10, 29)  # counts Saturday 10-11, skips the other weekends


class Recorder:
    name = "recorder"

    def __init__(self, fail: bool = False) -> None:
        self.sent, self.fail = [], fail

    def send(self, notification, complaint):
        if self.fail:
            raise ConnectionError("WeChat is unreachable")
        self.sent.append((notification.recipient, notification.kind, complaint.tracking_no))


def test_status_changes_reach_consenting_mini_program_users_and_survive_outages(client, city, app, db_session, runner):
    runner.invoke(
        args=["admin", "create", "--username", "wang", "--role", "handler", "--agency", "MKT"],
        input="a long password 1\n",
    )
    handler = db_session.scalar(select(AdminUser).where(AdminUser.username == "wang"))
    mini = services.submit(
        {"category": "attitude", "content": "态度恶劣，言语粗暴。", "agency": "MKT", "notify_consent": True},
        channel="miniapp",
        openid="o-citizen-1",
    ).complaint
    web = services.submit(
        {"category": "attitude", "content": "网页提交的投诉。", "agency": "MKT"}, channel="web"
    ).complaint
    services.accept(handler, mini)
    services.accept(handler, web)
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 1
    previous = app.extensions["notifier"]
    try:
        app.extensions["notifier"] = Recorder(fail=True)
        assert notify.deliver_pending() == 0
        pending = db_session.scalar(select(Notification))
        assert pending.sent_at is None and pending.attempts == 1 and "unreachable" in pending.last_error
        app.extensions["notifier"] = recorder = Recorder()
        assert notify.deliver_pending() == 1
        assert recorder.sent == [("o-citizen-1", "accepted", mini.tracking_no)]
        assert notify.deliver_pending() == 0
    finally:
        app.extensions["notifier"] = previous


def test_the_web_form_files_and_the_tracking_page_follows(client, city):
    form = client.get("/complaints/new?badge=35050012345&agency=LC")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "35050012345" in html
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    filed = client.post(
        "/complaints/new",
        data={"form_token": token, "category": "misconduct", "agency": "MKT", "content": "网页表单提交的投诉内容。"},
    )
    page = filed.get_data(as_text=True)
    assert filed.status_code == 200 and "投诉已提交" in page
    tracking_no = re.search(r'id="tracking-no"[^>]*>(\w+)<', page).group(1)
    code = re.search(r'id="query-code"[^>]*>(\w+)<', page).group(1)
    track = track_page(client, tracking_no, code)
    assert track.status_code == 200 and "待受理" in track.get_data(as_text=True)
    assert track_page(client, tracking_no, "X").status_code == 404
    stale = client.post(
        "/complaints/new", data={"form_token": "forged", "category": "misconduct", "content": "没有有效令牌的提交。"}
    )
    assert stale.status_code == 422 and "页面已过期" in stale.get_data(as_text=True)


# -- the query code never travels in a URL ---------------------------------------------------------
QUERY_CODE_IN_URL = {"query": {"code": ["send the query code in the X-Query-Code header or the body, not the URL"]}}


def test_a_query_code_in_the_url_is_refused_not_used(client, city):
    filed = file(client, agency="MKT").get_json()
    no, code = filed["tracking_no"], filed["query_code"]
    for response in (
        client.get(f"{URL}/{no}", query_string={"code": code}),
        client.get(f"{URL}/{no}", query_string={"code": code}, headers={"X-Query-Code": code}),
        client.post(f"{URL}/{no}/rating", query_string={"code": code}, json={"code": code, "score": 5}),
    ):
        body = response.get_json()
        assert response.status_code == 400 and body["errors"] == QUERY_CODE_IN_URL
        assert set(body) == {"code", "status", "message", "errors"} and "查询码" in body["message"]
    assert read_complaint(client, no, code).status_code == 200
    missing = client.get(f"{URL}/{no}").get_json()
    assert missing["code"] == 422 and "X-Query-Code" in missing["errors"]["headers"]

    page = client.get("/complaints/track", query_string={"tracking_no": no, "code": code})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "查询码不能放在网址中" in html and "待受理" not in html


def test_the_tracking_page_posts_the_code_with_its_form_token(client, city):
    filed = file(client, agency="MKT").get_json()
    no, code = filed["tracking_no"], filed["query_code"]
    form = client.get("/complaints/track", query_string={"tracking_no": no}).get_data(as_text=True)
    assert re.search(r'<form method="post" action="/complaints/track"', form) and f'value="{no}"' in form
    stale = client.post("/complaints/track", data={"form_token": "forged", "tracking_no": no, "code": code})
    assert stale.status_code == 422 and "页面已过期" in stale.get_data(as_text=True)
    assert "待受理" not in stale.get_data(as_text=True)
    assert track_page(client, no, code).status_code == 200


def test_the_query_code_appears_in_no_url_the_pages_produce(client, city):
    form = client.get("/complaints/new?agency=MKT").get_data(as_text=True)
    content = {"category": "misconduct", "agency": "MKT", "content": "网页表单提交的投诉内容。"}
    filed = client.post("/complaints/new", data={"form_token": form_token(form), **content}).get_data(as_text=True)
    no = re.search(r'id="tracking-no"[^>]*>(\w+)<', filed).group(1)
    code = re.search(r'id="query-code"[^>]*>(\w+)<', filed).group(1)
    tracked = track_page(client, no, code)
    assert tracked.status_code == 200 and "待受理" in tracked.get_data(as_text=True)
    pages = {"filed": filed, "tracked": tracked.get_data(as_text=True)}
    for name, html in pages.items():
        urls = re.findall(r'(?:href|src|action)="([^"]*)"', html)
        assert urls and not [url for url in urls if code in url], name
        # The page shows the code to its holder; only as text.
        assert html.count(code) <= 1, name


def test_the_api_documents_the_query_code_header(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/complaints/{tracking_no}"]["get"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert ("header", "X-Query-Code") in parameters and ("query", "code") not in parameters
    assert "400" in operation["responses"]


def test_listeners_hear_each_public_event_inside_its_transaction(app, city, db_session, runner, frozen_clock):
    """The listener port (what the 12345 push-back stands on): every public event, with the complaint as it
    changed; a listener that fails fails the change."""
    runner.invoke(
        args=["admin", "create", "--username", "wang", "--role", "handler", "--agency", "MKT"],
        input="a long password 1\n",
    )
    handler = db_session.scalar(select(AdminUser).where(AdminUser.username == "wang"))
    heard, failing = [], []

    def listener(complaint, event):
        if failing:
            raise RuntimeError("the listener's outbox is unwritable")
        heard.append((event.kind, complaint.status, event.text))

    listeners.register(app, listener)
    try:
        first = services.submit({"category": "attitude", "content": "态度恶劣。", "agency": "MKT"}, channel="web")
        services.accept(handler, first.complaint)
        services.add_note(handler, first.complaint, "内部备注，不对外。")
        services.reply(handler, first.complaint, "已核查。")
        assert heard == [("accepted", "accepted", "将于 2025年11月10日 前答复"), ("replied", "replied", "已核查。")]
        second = services.submit({"category": "attitude", "content": "另一件事。", "agency": "MKT"}, channel="web")
        failing.append(True)
        with pytest.raises(RuntimeError):
            services.accept(handler, second.complaint)
        db_session.rollback()
        assert db_session.get(Complaint, second.complaint.id).status == "submitted"
    finally:
        app.extensions[listeners.EXTENSION].remove(listener)
