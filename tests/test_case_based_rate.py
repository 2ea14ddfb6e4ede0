"""公示率 checked against cases: a decided case owes a published decision disclosure by the deadline counted
from its decision record's date; each figure below is counted by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import register
from tests.test_cases import case_body, record

URL = "/api/v1/publish"
OFFICERS = ("35050012345", "35050012346")


def at(clock, day: str, hour: int = 10) -> None:
    clock.at = dt.datetime.fromisoformat(day).replace(hour=hour - 8, tzinfo=dt.UTC)


@pytest.fixture
def decided(client, auth, runner, db_session, frozen_clock) -> dict:
    """MKT's penalty cases A, B, C and D, each with its decision record dated 2025-09-30: the decision
    disclosure is due 2025-10-16 (National Day 10-01..10-08 skipped, Saturday 10-11 worked)."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    at(frozen_clock, "2025-10-20")  # a token issued at the end outlives every moment the test replays
    h = auth.headers("MKT")
    register(client, h, *OFFICERS)
    for case_no in "ABCD":
        opened = client.put(f"{URL}/cases/{case_no}", json=case_body(opened_on="2025-09-01"), headers=h)
        assert opened.status_code == 201, opened.get_json()
        steps = [record("decision", at="2025-09-30T10:00:00+08:00", officers=OFFICERS[:1])]
        added = client.post(f"{URL}/cases/{case_no}/records", json={"records": steps}, headers=h)
        assert added.status_code == 201, added.get_json()
    created = runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input="a long password 1\n",
    )
    assert created.exit_code == 0, created.output
    return h


def publish(client, headers, clock, day: str, case_no: str, decided_on: str = "2025-09-30") -> None:
    at(clock, day)
    body = decision(decision_date=decided_on, outcome="罚款", document_no=f"罚{case_no}", case_no=case_no)
    response = client.put(f"{URL}/disclosures/d{case_no}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()


def summary(client, clock, day: str) -> dict:
    at(clock, day, hour=18)
    token = client.post("/api/v1/admin/auth/token", json={"username": "li", "password": "a long password 1"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    response = client.get(
        "/api/v1/supervision/summary", query_string={"from": "2025-09-01", "to": "2025-09-30"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def figures(row: dict) -> tuple:
    return row["decided"], row["on_time"], row["late"], row["pending_overdue"], row["on_time_rate"]


def test_a_decided_case_without_its_decision_lowers_the_rate_once_its_deadline_has_passed(
    client, decided, frozen_clock
):
    publish(client, decided, frozen_clock, "2025-10-15", "A")  # on time
    # On the deadline day: A on time; B, C and D not published yet, but not late either.
    body = summary(client, frozen_clock, "2025-10-16")
    (row,) = body["on_time_cases"]
    assert figures(row) == (4, 1, 0, 0, 1.0)
    assert [i for i in body["overdue_items"] if i["status"] == "missing"] == []

    publish(client, decided, frozen_clock, "2025-10-17", "B")  # a day late
    # D's disclosure gives 10-09 as its decision date (its own deadline 10-17: on time as an item), but the
    # case's decision record is dated 09-30: late by the case.
    publish(client, decided, frozen_clock, "2025-10-17", "D", decided_on="2025-10-09")
    body = summary(client, frozen_clock, "2025-10-17")
    (row,) = body["on_time_cases"]
    assert figures(row) == (4, 1, 2, 1, 0.25)  # A on time, B and D late, C never published
    missing = [i for i in body["overdue_items"] if i["status"] == "missing"]
    assert missing == [
        {
            "agency": "MKT",
            "case_no": "C",
            "external_id": None,
            "title": "食品安全行政处罚",
            "publish_deadline": "2025-10-16",
            "status": "missing",
        }
    ]
    # Over the registered items (decided in September: A and B; D says October): one of two on time.
    assert body["rates"] == {
        "items": {"on_time": 1, "judged": 2, "on_time_rate": 0.5},
        "cases": {"on_time": 1, "judged": 4, "on_time_rate": 0.25},
    }
    assert ("dB", "B") in {(i["external_id"], i["case_no"]) for i in body["overdue_items"]}


def test_a_withheld_decision_leaves_its_case_out_of_the_rate(client, decided, frozen_clock):
    """A minor's decision is never public: its case is judged neither on time nor late, like the item."""
    at(frozen_clock, "2025-10-10")
    body = decision(decision_date="2025-09-30", outcome="罚款", document_no="罚A", case_no="A", minor=True)
    assert client.put(f"{URL}/disclosures/dA", json=body, headers=decided).status_code == 201
    (row,) = summary(client, frozen_clock, "2025-10-20")["on_time_cases"]
    assert figures(row) == (3, 0, 0, 3, 0.0)
