"""Push subscriptions: the log's changes and direct events reach a real local receiver, signed, in order, once
per event id; failures and timeouts are retried with a doubling backoff (time driven by the clock port), a
delivery failing for the whole retry window parks its subscription until an admin resumes it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.exchange import push
from backend.exchange.models import ExchangeClient
from backend.extensions import db
from tests.factories import AgencyFactory
from tests.support.receiver import Receiver, verify
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
