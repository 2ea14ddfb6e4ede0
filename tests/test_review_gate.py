"""The gate has no side door (issue 16, seed 000 §三/四): each way around the legal review is tried and refused."""

import datetime as dt

import pytest

from tests.factories import AgencyFactory, reviews
from tests.factories.disclosures import decision
from tests.factories.officers import register
from tests.test_cases import OFFICERS, case_body, checklist, record

URL = "/api/v1/publish"


@pytest.fixture
def mkt(auth, db_session):
    """MKT's headers, issued before a test freezes the clock so its token outlives every moment it sets."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    client = auth.client
    reviews.file_reviewer(client, headers)
    register(client, headers, *OFFICERS)  # records name only officers who may act
    return headers


@pytest.fixture
def reviewer(client, runner, mkt):
    """The filed reviewer's personal token (asked for before a test freezes the clock, like ``mkt``)."""
    return reviews.reviewer_account(client, runner, "MKT")


def at(clock, moment: str) -> None:
    clock.at = dt.datetime.fromisoformat(moment).astimezone(dt.UTC)


def approve(client, headers, reviewer, case_no: str) -> None:
    reviews.approve(client, headers, reviewer, "MKT", case_no)


def decide(client, headers, case_no: str, time: str):
    return client.post(
        f"{URL}/cases/{case_no}/records", json={"records": [record("decision", at=time)]}, headers=headers
    )


# -- publishing a decision without its case -----------------------------------------------------
def test_an_agency_without_cases_publishes_decisions_as_before(client, mkt):
    assert client.put(f"{URL}/disclosures/d1", json=decision(), headers=mkt).status_code == 201


def test_once_it_reports_cases_a_decision_without_case_no_is_refused(client, mkt, frozen_clock):
    assert client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt).status_code == 201
    for category in ("penalty", "licensing", "coercion"):
        refused = client.put(f"{URL}/disclosures/d-{category}", json=decision(category=category), headers=mkt)
        assert refused.status_code == 422
        body = refused.get_json()
        assert (body["code"], body["status"], list(body["errors"])) == (422, "Unprocessable Entity", ["case_no"])
        assert body["message"]
    # Named under its case it goes out; registering it unpublished and other kinds of decision are untouched.
    assert client.put(f"{URL}/disclosures/d1", json=decision(case_no="C1"), headers=mkt).status_code == 201
    assert client.put(f"{URL}/disclosures/d2", json=decision(publish=False), headers=mkt).status_code == 201
    levy = decision(category="levy", outcome="征收")
    assert client.put(f"{URL}/disclosures/d3", json=levy, headers=mkt).status_code == 201
    # Publishing the registered one later meets the same gate.
    assert client.put(f"{URL}/disclosures/d2", json=decision(), headers=mkt).status_code == 422


def test_bulk_refuses_each_decision_without_case_no_alone(client, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    items = [
        {**decision(document_no="罚1"), "external_id": "b1"},
        {**decision(document_no="罚2", case_no="C1"), "external_id": "b2"},
        {**decision(document_no="罚3", case_no="NOPE"), "external_id": "b3"},
        {**decision(document_no="征4", category="levy"), "external_id": "b4"},
    ]
    body = client.post(f"{URL}/disclosures:bulk", json={"items": items}, headers=mkt).get_json()
    assert [r["status"] for r in body["results"]] == [422, 201, 422, 201]
    assert list(body["results"][0]["errors"]) == ["case_no"] and body["results"][0]["result"] == "invalid"
    assert list(body["results"][2]["errors"]) == ["case_no"]
    assert (body["created"], body["invalid"]) == (2, 2)
    assert client.get(f"{URL}/disclosures/b1", headers=mkt).status_code == 404


def test_bulk_refuses_a_major_decision_without_its_approval(client, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    items = [{**decision(case_no="C1"), "external_id": "b1"}, {**decision(category="levy"), "external_id": "b2"}]
    body = client.post(f"{URL}/disclosures:bulk", json={"items": items}, headers=mkt).get_json()
    assert [r["status"] for r in body["results"]] == [409, 201]
    assert "has not been submitted for review" in body["results"][0]["errors"]["case_no"][0]


# -- recording a decision in a major case --------------------------------------------------------
def test_a_decision_record_in_a_major_case_waits_for_an_approved_review(client, mkt, reviewer, frozen_clock):
    at(frozen_clock, "2025-10-20T10:00:00+08:00")
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    unreviewed = decide(client, mkt, "C1", "2025-10-20T09:00:00+08:00")
    assert unreviewed.status_code == 409
    assert "has not been submitted for review" in unreviewed.get_json()["errors"]["case_no"][0]
    reviews.submit(client, mkt, "C1")
    pending = decide(client, mkt, "C1", "2025-10-20T09:00:00+08:00")
    assert pending.status_code == 409
    assert "awaiting the reviewer's opinion" in pending.get_json()["errors"]["case_no"][0]
    reviews.opinion(client, reviewer, "MKT", "C1", 1, "reject", reasons=checklist("不符合"))
    rejected = decide(client, mkt, "C1", "2025-10-20T09:00:00+08:00")
    assert rejected.status_code == 409 and "was not approved (reject)" in rejected.get_json()["errors"]["case_no"][0]
    assert client.get(f"{URL}/cases/C1", headers=mkt).get_json()["record_count"] == 0
    # Other steps go on while the review is pending or refused.
    assert client.post(f"{URL}/cases/C1/records", json={"records": [record("filing")]}, headers=mkt).status_code == 201


def test_a_decision_dated_before_the_approval_is_refused(client, mkt, reviewer, frozen_clock):
    at(frozen_clock, "2025-10-20T10:00:00+08:00")
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    approve(client, mkt, reviewer, "C1")  # approved at 10:00
    at(frozen_clock, "2025-10-20T12:00:00+08:00")
    backdated = decide(client, mkt, "C1", "2025-10-20T09:59:00+08:00")
    assert backdated.status_code == 409 and list(backdated.get_json()["errors"]) == ["time"]
    assert decide(client, mkt, "C1", "2025-10-20T11:00:00+08:00").status_code == 201
    # Its disclosure: dated the day of the approval it goes out; dated the day before it does not.
    early = decision(case_no="C1", decision_date="2025-10-19")
    assert client.put(f"{URL}/disclosures/d1", json=early, headers=mkt).status_code == 409
    assert (
        client.put(f"{URL}/disclosures/d1", json={**early, "decision_date": "2025-10-20"}, headers=mkt).status_code
        == 201
    )


def test_a_hearing_earlier_in_the_same_call_makes_the_case_major(client, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    body = {"records": [record("hearing"), record("decision", at="2025-10-10T10:00:00+08:00")]}
    refused = client.post(f"{URL}/cases/C1/records", json=body, headers=mkt)
    assert refused.status_code == 409
    assert client.get(f"{URL}/cases/C1", headers=mkt).get_json()["record_count"] == 0
    # A case that is not major records its decision freely.
    assert decide(client, mkt, "C1", "2025-10-10T10:00:00+08:00").status_code == 201


# -- what supervisors see ------------------------------------------------------------------------
@pytest.fixture
def supervisor(runner):
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input="a long password 1\n",
    )


def summary(client):
    """The supervisor's summary of 2025, signed in at the clock's present moment."""
    token = client.post("/api/v1/admin/auth/token", json={"username": "li", "password": "a long password 1"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    response = client.get(
        "/api/v1/supervision/summary", query_string={"from": "2025-01-01", "to": "2025-12-31"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_approval_after_the_decision_does_not_clear_the_flag(client, mkt, reviewer, frozen_clock, supervisor):
    at(frozen_clock, "2025-10-20T10:00:00+08:00")
    # C1 decided while not yet major, then flagged major and approved afterwards: still flagged.
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    assert decide(client, mkt, "C1", "2025-10-20T09:00:00+08:00").status_code == 201
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    approve(client, mkt, reviewer, "C1")
    # C2 approved first, decided afterwards: not flagged.
    client.put(f"{URL}/cases/C2", json=case_body(major=True), headers=mkt)
    approve(client, mkt, reviewer, "C2")
    at(frozen_clock, "2025-10-20T12:00:00+08:00")
    assert decide(client, mkt, "C2", "2025-10-20T11:00:00+08:00").status_code == 201
    flagged = summary(client)["major_without_review"]
    assert flagged == [{"agency": "MKT", "case_no": "C1", "matter": "食品安全行政处罚"}]
