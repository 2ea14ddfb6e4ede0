"""12345 work orders: the hotline files complaints with its own client, once per 工单编号, routed like any
complaint; the caller's contact stays with the handlers; each status change goes back to the hotline in
order, signed, through the push outbox and its delivery job; its 回访满意度 becomes the rating; other kinds of
client and other regions are refused. The hotline is our simulator (tests/support/hotline_simulator.py)."""

import datetime as dt
import json
import logging
import threading

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEntry
from backend.complaints import services as complaints
from backend.complaints.models import Complaint
from backend.exchange import push
from backend.exchange.models import HotlineWorkOrder, PushDelivery
from backend.extensions import db
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.support.hotline_simulator import HotlineSimulator
from tests.support.receiver import verify

ORDERS = "/api/v1/hotline/work-orders"
CALLER = {"caller_name": "王秀英", "caller_phone": "13912345678"}


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    market = AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    district = AgencyFactory(code="LC", name="鲤城区市场监督管理局", region_code="350502", level="county")
    AgencyFactory(code="XSF", name="厦门市司法局", region_code="350200", supervises=True)
    AgencyFactory(code="XMK", name="厦门市市场监督管理局", region_code="350200")
    return {"SFJ": judicial, "MKT": market, "LC": district}


def credentials(runner, region, kind):
    created = runner.invoke(args=["exchange-client", "create", "--kind", kind, "--region", region])
    assert created.exit_code == 0, created.output
    printed = json.loads(created.output)
    assert (printed["kind"], printed["region"]) == (kind, region)
    return printed


def client_headers(client, runner, region, kind):
    printed = credentials(runner, region, kind)
    token = client.post(
        "/api/v1/exchange/token", json={"client_id": printed["client_id"], "client_secret": printed["client_secret"]}
    )
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


@pytest.fixture
def simulator(client, runner, city):
    """Our 12345 platform for Quanzhou, its push endpoint subscribed to workorder.status."""
    started = HotlineSimulator(client, credentials(runner, "350500", "hotline")).start()
    yield started
    started.stop()


@pytest.fixture
def hotline_headers(client, runner, city):
    return client_headers(client, runner, "350500", "hotline")


def order(**changes):
    body = {
        "order_no": "GD2025102000123",
        "content": "执法人员检查时未出示执法证件，态度粗暴。",
        "category": "执法证件",
        "region": "350502",
        **CALLER,
        "due_date": "2025-11-03",
    }
    return {key: value for key, value in {**body, **changes}.items() if value is not None}


def complaint_of(db_session, tracking_no):
    return db_session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))


def count_complaints(db_session):
    return db_session.scalar(select(func.count()).select_from(Complaint))


def test_the_same_work_order_twice_is_one_complaint_and_a_changed_body_is_refused(
    client, hotline_headers, db_session, frozen_clock
):
    first = client.post(ORDERS, json=order(), headers=hotline_headers)
    assert first.status_code == 201, first.get_json()
    filed = first.get_json()
    assert (filed["order_no"], filed["status"], filed["status_label"]) == ("GD2025102000123", "pending", "待受理")
    again = client.post(ORDERS, json=order(), headers=hotline_headers)
    assert again.status_code == 200 and again.get_json() == filed
    # Another number with the same words, at once, is another order and another complaint.
    other = client.post(ORDERS, json=order(order_no="GD2025102000124"), headers=hotline_headers)
    assert other.status_code == 201 and other.get_json()["tracking_no"] != filed["tracking_no"]
    # Past the dedupe window of citizens' complaints and the order's due date: the number still decides.
    frozen_clock.advance(dt.timedelta(days=21))
    assert client.post(ORDERS, json=order(), headers=hotline_headers).get_json()["tracking_no"] == filed["tracking_no"]
    changed = client.post(ORDERS, json=order(content="另一件事：执法车辆违规停放。"), headers=hotline_headers)
    assert changed.status_code == 409 and "order_no" in changed.get_json()["errors"]
    assert count_complaints(db_session) == 2
    shown = client.get(f"{ORDERS}/GD2025102000123", headers=hotline_headers)
    assert shown.status_code == 200 and shown.get_json() == filed


def test_work_orders_are_routed_like_any_complaint_and_the_earlier_deadline_runs(
    client, hotline_headers, db_session, frozen_clock
):
    # Monday 2025-10-20: three working days to accept (10-23), as for any complaint.
    by_region = client.post(ORDERS, json=order(due_date=None), headers=hotline_headers).get_json()
    assert by_region["agency"] == {"code": "SFJ", "name": "泉州市司法局"}  # a district without a 司法局: its city's
    assert (by_region["accept_due"], by_region["due_date"]) == ("2025-10-23", None)
    complaint = complaint_of(db_session, by_region["tracking_no"])
    assert (complaint.channel, complaint.routed_by, complaint.category) == ("12345", "region", "no_credential")
    by_agency = client.post(
        ORDERS,
        json=order(order_no="GD2025102000200", agency="MKT", category="乱罚款乱收费", due_date="2025-10-21"),
        headers=hotline_headers,
    ).get_json()
    assert by_agency["agency"]["code"] == "MKT"
    assert (by_agency["due_date"], by_agency["accept_due"]) == ("2025-10-21", "2025-10-21")  # the hotline's: earlier
    assert complaint_of(db_session, by_agency["tracking_no"]).category == "arbitrary_charges"


def test_the_same_work_order_sent_at_once_by_several_workers_is_one_complaint(committed):
    app = committed
    with app.app_context():
        AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
        db.session.commit()
        headers = client_headers(app.test_client(), app.test_cli_runner(), "350500", "hotline")
    copies = 6
    start = threading.Barrier(copies)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(ORDERS, json=order(due_date=None), headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * (copies - 1) + [201], answers
    assert len({body["tracking_no"] for _, body in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
        assert db.session.scalar(select(func.count()).select_from(HotlineWorkOrder)) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order_no": None}, "order_no"),
        ({"order_no": "no spaces allowed"}, "order_no"),
        ({"category": "噪音扰民"}, "category"),
        ({"category": "misconduct"}, "category"),  # ours, not the hotline's
        ({"region": "3505"}, "region"),
        ({"content": "短"}, "content"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"due_date": "2025-10-19"}, "due_date"),  # before today
        ({"due_date": "next week"}, "due_date"),
        ({"agency": "NOPE"}, "agency"),
    ],
)
def test_bad_work_orders_are_refused_naming_the_field(
    client, hotline_headers, db_session, frozen_clock, changes, field
):
    response = client.post(ORDERS, json=order(**changes), headers=hotline_headers)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert set(body) >= {"code", "status", "message", "errors"}
    assert field in json.dumps(body["errors"])
    assert count_complaints(db_session) == 0


def test_a_hotline_files_only_in_its_region_and_sees_only_its_own_orders(
    client, runner, hotline_headers, db_session, frozen_clock
):
    outside = client.post(ORDERS, json=order(region="350203"), headers=hotline_headers)
    assert outside.status_code == 403 and "region" in outside.get_json()["errors"]
    elsewhere = client.post(ORDERS, json=order(agency="XMK"), headers=hotline_headers)
    assert elsewhere.status_code == 403 and "agency" in elsewhere.get_json()["errors"]
    assert count_complaints(db_session) == 0
    assert client.post(ORDERS, json=order(), headers=hotline_headers).status_code == 201
    xiamen = client_headers(client, runner, "350200", "hotline")
    assert client.get(f"{ORDERS}/GD2025102000123", headers=xiamen).status_code == 404
    # Its own number space: the same number from another hotline is another order.
    assert client.post(ORDERS, json=order(region="350203"), headers=xiamen).status_code == 201
    assert count_complaints(db_session) == 2


def test_each_kind_of_client_does_only_its_own(client, runner, hotline_headers):
    platform = client_headers(client, runner, "350500", "platform")
    for method, path, headers in (
        ("post", ORDERS, platform),
        ("get", f"{ORDERS}/GD2025102000123", platform),
        ("post", f"{ORDERS}/GD2025102000123/satisfaction", platform),
        ("get", "/api/v1/exchange/changes", hotline_headers),
    ):
        response = getattr(client, method)(path, json=order() if method == "post" else None, headers=headers)
        assert response.status_code == 403, (path, response.get_json())
        assert set(response.get_json()) >= {"code", "status", "message", "errors"}
    assert client.post(ORDERS, json=order()).status_code == 401
    assert client.get("/api/v1/exchange/changes", headers=platform).status_code == 200


@pytest.fixture
def handler(app, runner, city, frozen_clock):
    """A logged-in handler of the Quanzhou 司法局, where orders naming no agency go."""
    created = runner.invoke(
        args=["admin", "create", "--username", "chen", "--role", "handler", "--agency", "SFJ"], input=PASSWORD + "\n"
    )
    assert created.exit_code == 0, created.output
    person = AdminBrowser(app.test_client())
    assert person.login("chen").status_code == 303
    return person


def work_through(handler, tracking_no):
    for action, fields in (
        ("accept", {}),
        ("reply", {"text": "经核查，已责令整改。"}),
        ("close", {"summary": "已办结"}),
    ):
        assert handler.act(tracking_no, action, **fields).status_code == 200


def test_each_status_change_reaches_the_hotline_in_order_and_signed(
    client, runner, simulator, handler, db_session, frozen_clock, app
):
    xiamen = HotlineSimulator(client, credentials(runner, "350200", "hotline")).start()
    try:
        filed = simulator.send(order()).get_json()
        assert push.deliver_due()["delivered"] == 0  # filed: nothing to tell yet
        work_through(handler, filed["tracking_no"])
        # Each change owed its message in its own transaction: three changes, three deliveries.
        assert db_session.scalar(select(func.count()).select_from(PushDelivery)) == 3
        # The hotline's endpoint is down for a while: nothing is lost, nothing overtakes.
        simulator.receiver.mode = "fail"
        assert push.deliver_due()["failed"] == 1
        returned = simulator.send(order(order_no="GD2025102000300")).get_json()
        assert handler.act(returned["tracking_no"], "reject", reason="不属于行政执法监督范围。").status_code == 200
        simulator.receiver.mode = "ok"
        frozen_clock.advance(dt.timedelta(seconds=app.config["PUSH_BACKOFF_SECONDS"]))
        assert push.deliver_due()["delivered"] == 4
    finally:
        xiamen.stop()
    told = [(status["order_no"], status["status"], status["status_label"]) for status in simulator.statuses]
    assert told == [
        ("GD2025102000123", "accepted", "受理"),
        ("GD2025102000123", "replied", "回复"),
        ("GD2025102000123", "closed", "办结"),
        ("GD2025102000300", "returned", "退回"),
    ]
    assert simulator.bad_signatures == 0
    assert all(verify(simulator.receiver.secret, got.headers, got.body) for got in simulator.receiver.requests)
    accepted, replied, _, rejected = simulator.statuses
    assert accepted["time"] == "2025-10-20T10:00:00+08:00" and accepted["tracking_no"] == filed["tracking_no"]
    assert accepted["agency"] == {"code": "SFJ", "name": "泉州市司法局"}
    assert (replied["text"], rejected["text"]) == ("经核查，已责令整改。", "不属于行政执法监督范围。")
    assert xiamen.receiver.requests == []  # another hotline hears nothing of Quanzhou's orders
    assert simulator.status("GD2025102000300").get_json()["status"] == "returned"


def test_a_hotline_subscribes_to_work_order_statuses_only(client, simulator):
    feed_by_push = client.post(
        "/api/v1/exchange/subscriptions",
        json={"url": simulator.receiver.url, "event_types": ["publish", "workorder.status"]},
        headers=simulator.headers,
    )
    assert feed_by_push.status_code == 403 and "event_types" in feed_by_push.get_json()["errors"]


def test_satisfaction_becomes_the_rating(simulator, handler, db_session):
    filed = simulator.send(order()).get_json()
    early = simulator.satisfaction("GD2025102000123", "satisfied")
    assert early.status_code == 409 and "status" in early.get_json()["errors"]
    work_through(handler, filed["tracking_no"])
    bad = simulator.satisfaction("GD2025102000123", "很好")
    assert bad.status_code == 422 and "result" in bad.get_json()["errors"]["json"]
    rated = simulator.satisfaction("GD2025102000123", "basically_satisfied")
    assert rated.status_code == 200, rated.get_json()
    assert (rated.get_json()["satisfaction"], rated.get_json()["rating"]) == ("basically_satisfied", 3)
    complaint = complaint_of(db_session, filed["tracking_no"])
    assert (complaint.rating, complaint.rating_comment) == (3, "12345回访：基本满意")
    assert simulator.satisfaction("GD2025102000123", "dissatisfied").status_code == 409
    assert simulator.satisfaction("GD0000000000", "satisfied").status_code == 404


def test_the_callers_contact_reaches_handlers_and_nothing_else(client, runner, simulator, handler, db_session, caplog):
    platform = client_headers(client, runner, "350500", "platform")
    with caplog.at_level(logging.DEBUG):
        filed = simulator.send(order()).get_json()
        work_through(handler, filed["tracking_no"])
        push.deliver_due()
        page = handler.page(f"/admin/complaints/{filed['tracking_no']}")
        shown = simulator.status("GD2025102000123").get_json()
        feed = client.get("/api/v1/exchange/changes", headers=platform).get_json()
    assert CALLER["caller_name"] in page and CALLER["caller_phone"] in page and "2025-11-03" in page
    complaint = complaint_of(db_session, filed["tracking_no"])
    pushed = [got.body.decode() for got in simulator.receiver.requests]
    assert len(pushed) == 3
    audit = [entry.detail for entry in db_session.scalars(select(AuditEntry))]
    logged = [record.getMessage() for record in caplog.records]
    for where in (filed, shown, complaints.citizen_view(complaint), pushed, feed, audit, logged):
        text = json.dumps(where, ensure_ascii=False, default=str)
        assert CALLER["caller_name"] not in text and CALLER["caller_phone"] not in text
