"""Push subscriptions: the log's changes and direct events reach a real local receiver, signed, in order, once
per event id; failures and timeouts are retried with a doubling backoff (time driven by the clock port), a
delivery failing for the whole retry window parks its subscription until an admin resumes it."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.exchange import push
from backend.exchange.models import ExchangeClient, PushDelivery, PushSubscription
from backend.exchange.services import create_client
from backend.extensions import db
from backend.scheduler import default_jobs
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.support.receiver import Receiver, verify
from tests.test_case_reads import admin_headers
from tests.test_exchange import exchange_headers, publish

SUBSCRIPTIONS = "/api/v1/exchange/subscriptions"
ADMIN_PUSH = "/api/v1/exchange/push/subscriptions"
BACKOFF = dt.timedelta(seconds=30)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def agencies(db_session, frozen_clock):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    AgencyFactory(code="XMK", name="厦门市市场监督管理局", region_code="350200")
    AgencyFactory(code="JJX", name="晋江市市场监督管理局", region_code="350582")


@pytest.fixture
def quanzhou(client, runner, agencies):
    """An exchange client of 泉州 (350500): its bearer headers."""
    return exchange_headers(client, runner, "350500")


def subscribe(client, headers, receiver, **body):
    response = client.post(
        SUBSCRIPTIONS, json={"url": receiver.url, "event_types": ["publish"], **body}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    receiver.secret = created["secret"]
    return created["subscription"]


def run_job(frozen_clock, advance: dt.timedelta = dt.timedelta(0)) -> dict[str, int]:
    frozen_clock.advance(advance)
    return push.deliver_due()


def test_a_published_change_is_pushed_signed_as_the_feed_gives_it(client, auth, quanzhou, receiver, frozen_clock):
    subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    publish(client, auth.headers("XMK"), "x1")  # another region's: not pushed
    assert run_job(frozen_clock)["delivered"] == 1
    (got,) = receiver.requests
    assert verify(receiver.secret, got.headers, got.body)
    event = got.event
    assert got.headers["X-Sanxiang-Event-Id"] == event["id"] and event["type"] == "publish"
    assert got.headers["X-Sanxiang-Signature"].startswith("sha256=")
    feed = client.get(
        "/api/v1/exchange/changes", query_string={"after": event["data"]["index"], "limit": 1}, headers=quanzhou
    )
    (change,) = feed.get_json()["changes"]
    assert event["data"] == {k: v for k, v in change.items() if k != "proof"}
    assert receiver.applied == [event] and push.deliver_due()["delivered"] == 0


def readme_accept():
    """The receiver's check README shows, run as written."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("### Push subscriptions", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)
    return namespace["accept"]


def test_the_readme_snippet_verifies_a_delivery_and_dedupes_a_repeat(
    client, auth, quanzhou, receiver, frozen_clock, monkeypatch
):
    subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    run_job(frozen_clock)
    (got,) = receiver.requests
    accept, seen = readme_accept(), set()
    monkeypatch.setattr(time, "time", lambda: frozen_clock.now().timestamp())
    assert accept(receiver.secret, got.headers, got.body, seen)["id"] == got.event["id"]
    assert accept(receiver.secret, got.headers, got.body, seen) is None
    with pytest.raises(PermissionError):
        accept("another secret", got.headers, got.body, set())
    with pytest.raises(PermissionError):
        accept(receiver.secret, got.headers, got.body.replace(b"publish", b"withdraw"), set())
    frozen_clock.advance(dt.timedelta(minutes=10))
    with pytest.raises(PermissionError):  # a replay long after
        accept(receiver.secret, got.headers, got.body, set())


def test_a_direct_event_reaches_the_subscriptions_whose_region_covers_it(client, runner, agencies, frozen_clock):
    receivers = {region: Receiver().start() for region in ("350000", "350500", "350582", "350200")}
    try:
        province = exchange_headers(client, runner, "350000")
        for region, receiver in receivers.items():
            subscribe(client, province, receiver, region=region, event_types=["workorder.status"])
        other = exchange_headers(client, runner, "350500")
        own = Receiver().start()
        receivers["other client"] = own
        subscribe(client, other, own, event_types=["workorder.status", "publish"])
        payload = {"order_no": "GD20261206001", "status": "受理"}
        assert push.enqueue("workorder.status", payload, region_code="350502") == 3  # 350000, 350500 and own
        other_id = db.session.scalar(select(ExchangeClient.client_id).where(ExchangeClient.region_code == "350500"))
        assert (
            push.enqueue("workorder.status", payload | {"status": "办结"}, region_code="350582", client_id=other_id)
            == 1
        )
        db.session.commit()
        assert run_job(frozen_clock)["delivered"] == 4
        got = {region: [e["data"]["status"] for e in r.applied] for region, r in receivers.items()}
        assert got == {
            "350000": ["受理"],
            "350500": ["受理"],
            "350582": [],
            "350200": [],
            "other client": ["受理", "办结"],
        }
        with pytest.raises(ValueError):
            push.enqueue("no.such.event", payload, region_code="350502")
    finally:
        for receiver in receivers.values():
            receiver.stop()


def deliveries(subscription_id: int) -> list[PushDelivery]:
    db.session.expire_all()
    query = select(PushDelivery).where(PushDelivery.subscription_id == subscription_id).order_by(PushDelivery.sequence)
    return list(db.session.scalars(query))


def test_order_holds_under_failures_and_the_backoff_doubles_up_to_its_cap(
    app, client, auth, quanzhou, receiver, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "PUSH_BACKOFF_MAX_SECONDS", 240)
    subscription = subscribe(client, quanzhou, receiver, event_types=["publish", "correct"])
    mkt = auth.headers("MKT")
    for n in range(3):
        publish(client, mkt, f"q{n}")
    publish(client, mkt, "q0", content="更正后的内容。")
    receiver.mode = "fail"
    waits = []
    for _ in range(6):
        before = len(receiver.requests)
        assert run_job(frozen_clock)["failed"] == 1
        assert len(receiver.requests) == before + 1  # only the oldest: nothing overtakes it
        (head, *rest) = deliveries(subscription["id"])
        waits.append(head.next_attempt_at - frozen_clock.now())
        assert all(later.attempts == 0 for later in rest)
        frozen_clock.advance(waits[-1] - dt.timedelta(seconds=1))
        assert run_job(frozen_clock) == {"queued": 0, "delivered": 0, "failed": 0, "parked": 0}  # not due yet
        frozen_clock.advance(dt.timedelta(seconds=1))
    assert waits == [BACKOFF, 2 * BACKOFF, 4 * BACKOFF, 8 * BACKOFF, 8 * BACKOFF, 8 * BACKOFF]
    assert len({r.event["id"] for r in receiver.requests}) == 1 and receiver.applied == []
    receiver.mode = "ok"
    assert run_job(frozen_clock)["delivered"] == 4
    sent = [event["data"]["index"] for event in receiver.applied]
    assert sent == sorted(sent) and [e["type"] for e in receiver.applied] == ["publish"] * 3 + ["correct"]
    assert [d.sequence for d in deliveries(subscription["id"])] == [1, 2, 3, 4]


def park(receiver: Receiver, frozen_clock, subscription_id: int) -> None:
    """Fail every attempt, each run when the oldest delivery is due again, until the subscription parks."""
    receiver.mode = "fail"
    started = frozen_clock.now()
    tally = run_job(frozen_clock)
    while not tally["parked"]:
        assert frozen_clock.now() - started <= dt.timedelta(hours=24)
        (head, *_) = deliveries(subscription_id)
        tally = run_job(frozen_clock, head.next_attempt_at - frozen_clock.now())


def test_a_delivery_failing_for_the_retry_window_parks_until_an_admin_resumes_it(
    client, runner, auth, quanzhou, receiver, frozen_clock
):
    subscription = subscribe(client, quanzhou, receiver)
    mkt = auth.headers("MKT")
    publish(client, mkt, "q1")
    publish(client, mkt, "q2")
    started = frozen_clock.now()
    park(receiver, frozen_clock, subscription["id"])
    assert frozen_clock.now() - started == dt.timedelta(hours=24)  # the last try falls on the window's end
    tries = len(receiver.requests)
    receiver.mode = "ok"
    assert run_job(frozen_clock, dt.timedelta(days=2))["delivered"] == 0 and len(receiver.requests) == tries
    publish(client, auth.headers("MKT"), "q3")  # still queued while parked, sent after resume
    assert db.session.get(PushSubscription, subscription["id"]).state == "parked"

    admin = admin_headers(client, runner, "root", "admin")
    parked = client.get(ADMIN_PUSH, headers=admin).get_json()
    assert [p["id"] for p in parked] == [subscription["id"]]
    stuck = parked[0]["parked_delivery"]
    assert stuck["sequence"] == 1 and stuck["attempts"] == tries and stuck["last_error"] == "HTTP 500"
    supervisor = admin_headers(client, runner, "li", "supervisor", "350500")
    assert client.post(f"{ADMIN_PUSH}/{subscription['id']}/resume", headers=supervisor).status_code == 403
    assert client.post(f"{ADMIN_PUSH}/999999/resume", headers=admin).status_code == 404
    resumed = client.post(f"{ADMIN_PUSH}/{subscription['id']}/resume", headers=admin)
    assert resumed.status_code == 200 and resumed.get_json()["state"] == "active"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "push_subscription.resume"))
    assert audit.actor == "admin:root" and audit.detail["event_id"] == stuck["event_id"]
    assert run_job(frozen_clock)["delivered"] == 3
    assert [e["data"]["item_id"] for e in receiver.applied] == [
        d.payload["item_id"] for d in deliveries(subscription["id"])
    ]
    assert receiver.applied[0]["id"] == stuck["event_id"] and len(receiver.applied) == 3
    assert client.get(ADMIN_PUSH, headers=admin).get_json() == []


def test_the_admin_page_shows_parked_subscriptions_to_the_admin_and_resumes_them(
    app, client, runner, auth, quanzhou, receiver, frozen_clock
):
    subscription = subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    park(receiver, frozen_clock, subscription["id"])
    runner.invoke(args=["admin", "create", "--username", "root", "--role", "admin"], input=PASSWORD + "\n")
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input=PASSWORD + "\n",
    )
    supervisor = AdminBrowser(app.test_client())
    assert supervisor.login("li").status_code == 303
    assert supervisor.get("/admin/push").status_code == 403
    assert "推送订阅" not in supervisor.page("/admin/complaints")
    admin = AdminBrowser(app.test_client())
    assert admin.login("root").status_code == 303
    page = admin.page("/admin/push")
    assert f'data-subscription="{subscription["id"]}"' in page and "HTTP 500" in page and receiver.url in page
    forged = admin.client.post(f"/admin/push/{subscription['id']}/resume", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and db.session.get(PushSubscription, subscription["id"]).state == "parked"
    token = admin.token("/admin/push")
    done = admin.client.post(
        f"/admin/push/{subscription['id']}/resume", data={"csrf_token": token}, follow_redirects=True
    )
    assert done.status_code == 200 and "已恢复推送" in done.get_data(as_text=True)
    assert "没有暂停的推送订阅" in done.get_data(as_text=True)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "push_subscription.resume"))
    assert audit.actor == "admin:root"
    receiver.mode = "ok"
    assert run_job(frozen_clock)["delivered"] == 1


def test_a_timeout_after_the_receiver_processed_it_is_retried_under_the_same_id_without_a_second_effect(
    app, client, auth, quanzhou, receiver, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "PUSH_TIMEOUT_SECONDS", 0.3)
    subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    receiver.mode = "hang"
    assert run_job(frozen_clock)["failed"] == 1
    assert len(receiver.applied) == 1  # the receiver did process it; the sender saw a timeout
    receiver.mode = "ok"
    assert run_job(frozen_clock, BACKOFF)["delivered"] == 1
    first, second = receiver.requests
    assert first.event["id"] == second.event["id"] and first.body == second.body
    assert len(receiver.applied) == 1 and verify(receiver.secret, second.headers, second.body)
    assert push.deliver_due()["delivered"] == 0


def test_another_clients_subscription_is_invisible_and_a_cancelled_one_gets_nothing(
    client, runner, auth, quanzhou, receiver, frozen_clock
):
    mine = subscribe(client, quanzhou, receiver)
    theirs = exchange_headers(client, runner, "350500")
    assert client.get(SUBSCRIPTIONS, headers=theirs).get_json() == []
    for method in (client.get, client.delete):
        missing = method(f"{SUBSCRIPTIONS}/{mine['id']}", headers=theirs)
        assert missing.status_code == 404 and missing.get_json()["errors"]
    assert [s["id"] for s in client.get(SUBSCRIPTIONS, headers=quanzhou).get_json()] == [mine["id"]]
    assert client.delete(f"{SUBSCRIPTIONS}/{mine['id']}", headers=quanzhou).status_code == 204
    assert client.get(f"{SUBSCRIPTIONS}/{mine['id']}", headers=quanzhou).status_code == 404
    publish(client, auth.headers("MKT"), "q1")
    assert run_job(frozen_clock)["queued"] == 0 and receiver.requests == []
    assert client.get(SUBSCRIPTIONS, headers=auth.headers("MKT")).status_code == 401  # an agency's token


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["publish", "nonsense"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"url": "http://platform.example.gov.cn/hook"}, "url"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"region": "350200"}, "region"),  # 厦门: outside 泉州's region
        ({"region": "350000"}, "region"),  # the province is above it
        ({"region": "3505"}, "region"),
        ({"after": -1}, "after"),
        ({"after": 10**9}, "after"),
        ({"url": None}, "url"),
    ],
)
def test_bad_input_is_refused_by_name(client, quanzhou, body, field):
    full = {"url": "https://platform.example.gov.cn/hook", "event_types": ["publish"], **body}
    response = client.post(SUBSCRIPTIONS, json=full, headers=quanzhou)
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()) >= {"code", "status", "message", "errors"}
    assert field in json.dumps(response.get_json()["errors"]), response.get_json()


def test_a_division_subscription_gets_only_its_division_and_the_secret_is_sealed(
    client, auth, quanzhou, receiver, frozen_clock
):
    subscribe(client, quanzhou, receiver, region="350582", url=receiver.url.replace("127.0.0.1", "localhost"))
    publish(client, auth.headers("MKT"), "q1")  # 泉州 city, not 晋江
    publish(client, auth.headers("JJX"), "j1")
    assert run_job(frozen_clock)["delivered"] == 1
    assert [e["data"]["agency"] for e in receiver.applied] == ["JJX"]
    stored = db.session.scalar(select(PushSubscription))
    assert receiver.secret not in stored.secret_sealed and push.unseal(stored.secret_sealed) == receiver.secret


def test_the_cli_runs_the_job_and_the_scheduler_has_it(app, client, runner, auth, quanzhou, receiver):
    subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    result = runner.invoke(args=["exchange", "push"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"queued": 1, "delivered": 1, "failed": 0, "parked": 0}
    assert len(receiver.applied) == 1
    assert "push-exchange" in {job.name for job in default_jobs(app)}


def test_every_push_endpoint_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    create = spec["paths"][SUBSCRIPTIONS]["post"]
    assert create["security"] == [{"ExchangeBearer": []}] and {"201", "401", "422", "429"} <= set(create["responses"])
    assert create["requestBody"]["content"]["application/json"]["example"]["event_types"]
    one = spec["paths"][SUBSCRIPTIONS + "/{subscription_id}"]
    assert {"404"} <= set(one["get"]["responses"]) and {"204", "404"} <= set(one["delete"]["responses"])
    assert create["responses"]["201"]["content"]["application/json"]["example"]["secret"]
    (callback,) = create["callbacks"]["event"].values()
    headers = {p["name"] for p in callback["post"]["parameters"]}
    assert headers == {"X-Sanxiang-Event-Id", "X-Sanxiang-Timestamp", "X-Sanxiang-Signature"}
    resume = spec["paths"][ADMIN_PUSH + "/{subscription_id}/resume"]["post"]
    assert resume["security"] == [{"AdminBearer": []}] and "404" in resume["responses"]
    schemas = spec["components"]["schemas"]
    for name in ("SubscriptionCreate", "Subscription", "ParkedSubscription", "ParkedDelivery"):
        properties = schemas[name]["properties"]
        assert all(prop.get("description") or "$ref" in prop for key, prop in properties.items() if key != "id"), name


def test_a_worker_that_read_a_delivery_another_is_sending_does_not_send_it_again(committed, frozen_clock, monkeypatch):
    """Worker A reads the oldest delivery as due; worker B claims and is sending it when A tries: A must lose
    (B's claim moved the attempt count), and the receiver gets each event once, in order."""
    app = committed
    receiver = Receiver(mode="hold").start()
    try:
        with app.app_context():
            client = create_client("350500", actor="test").client
            receiver.secret = push.create_subscription(
                client, receiver.url, ["workorder.status"], None, actor="test"
            ).secret
            for n in range(3):
                push.enqueue("workorder.status", {"n": n}, region_code="350500")
            db.session.commit()
        real_claim = push._claim
        tallies = {}

        def worker_b() -> None:
            with app.app_context():
                tallies["b"] = push.deliver_due()

        def claim_after_b(delivery, now):
            if "a" in tallies:
                return real_claim(delivery, now)
            tallies["a"] = None
            db.session.commit()  # A keeps what it read (as on PostgreSQL) but lets B at the database (SQLite)
            b = threading.Thread(target=worker_b)
            b.start()
            assert receiver.arrived.wait(30)  # B claimed the same delivery and is sending it
            won = real_claim(delivery, now)
            receiver.mode = "ok"
            receiver.gate.set()
            b.join()
            return won

        monkeypatch.setattr(push, "_claim", claim_after_b)
        with app.app_context():
            tallies["a"] = push.deliver_due()
        assert tallies["a"]["delivered"] == 0 and tallies["b"]["delivered"] == 3
        assert [r.event["data"]["n"] for r in receiver.requests] == [0, 1, 2]
        assert len(receiver.applied) == 3 and receiver.bad_signatures == 0
    finally:
        receiver.stop()


def test_a_secret_sealed_under_another_secret_key_fails_its_delivery_without_stopping_the_job(
    app, client, auth, quanzhou, receiver, frozen_clock, monkeypatch
):
    subscribe(client, quanzhou, receiver)
    publish(client, auth.headers("MKT"), "q1")
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key")
    assert run_job(frozen_clock)["failed"] == 1 and receiver.requests == []
    (delivery,) = db.session.scalars(select(PushDelivery))
    assert "SECRET_KEY" in delivery.last_error


def test_log_events_are_pushed_from_now_on_or_from_a_feed_cursor(client, auth, quanzhou, receiver, frozen_clock):
    publish(client, auth.headers("MKT"), "q0")  # before any subscription
    subscribe(client, quanzhou, receiver)
    history = Receiver().start()
    try:
        subscribe(client, quanzhou, history, after=0)
        publish(client, auth.headers("MKT"), "q1")
        assert run_job(frozen_clock)["delivered"] == 3
        assert [e["data"]["index"] for e in history.applied] == [0, 1]
        assert [e["data"]["index"] for e in receiver.applied] == [1]
    finally:
        history.stop()
