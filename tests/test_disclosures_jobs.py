"""Maintenance jobs: provisional deadlines recomputed when calendar data arrives; rebuilding the index."""

import pytest

from backend import workdays
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision

URL = "/api/v1/publish/disclosures"


@pytest.fixture
def calendar_with_2027(monkeypatch):
    """As if a chinesecalendar release with 2027 data were installed: 2027-01-01 a holiday."""
    real = workdays.chinese_calendar.get_holiday_detail

    def detail(day):
        if day.year == 2027:
            if (day.month, day.day) == (1, 1):
                return True, "New Year's Day"
            return day.weekday() >= 5, None
        return real(day)

    monkeypatch.setattr(workdays, "_LAST_YEAR", 2027)
    monkeypatch.setattr(workdays.chinese_calendar, "get_holiday_detail", detail)
    workdays._classify.cache_clear()
    yield
    workdays._classify.cache_clear()


def test_provisional_deadlines_are_recomputed_when_the_calendar_has_the_year(
    client, auth, runner, db_session, frozen_clock, request
):
    AgencyFactory(code="CAL")
    headers = auth.headers("CAL")
    body = client.put(f"{URL}/n", json=decision(decision_date="2026-12-28", publish=False), headers=headers).get_json()
    assert (body["publish_deadline"], body["deadline_provisional"]) == ("2027-01-06", True)
    assert "recomputed 0" in runner.invoke(args=["disclosures", "recompute-deadlines"]).output

    request.getfixturevalue("calendar_with_2027")
    assert "recomputed 1" in runner.invoke(args=["disclosures", "recompute-deadlines"]).output
    after = client.get(f"{URL}/n", headers=headers).get_json()
    # 12-29, 12-30, 12-31, (1-1 New Year), 1-4, 1-5, 1-6, 1-7: one day later than the weekday-only count.
    assert (after["publish_deadline"], after["deadline_provisional"]) == ("2027-01-07", False)


def test_a_decided_cases_provisional_deadline_is_recomputed_too(
    client, auth, runner, db_session, frozen_clock, request
):
    """The deadline a decided case's decision disclosure is expected by (公示率 over cases) follows the calendar."""
    from sqlalchemy import select

    from backend.cases.models import Case
    from tests.factories.officers import register
    from tests.test_cases import OFFICERS, case_body, record

    AgencyFactory(code="CAL")
    headers = auth.headers("CAL")
    register(client, headers, *OFFICERS)
    assert client.put("/api/v1/publish/cases/K1", json=case_body(), headers=headers).status_code == 201
    steps = {"records": [record("decision", at="2026-12-28T10:00:00+08:00", officers=OFFICERS[:1])]}
    assert client.post("/api/v1/publish/cases/K1/records", json=steps, headers=headers).status_code == 201

    def deadline():
        case = db_session.scalar(select(Case).where(Case.case_no == "K1"))
        db_session.refresh(case)
        return case.decided_on.isoformat(), case.publish_deadline.isoformat(), case.deadline_provisional

    assert deadline() == ("2026-12-28", "2027-01-06", True)
    request.getfixturevalue("calendar_with_2027")
    assert (
        "recomputed 1 provisional deadlines of decided cases"
        in runner.invoke(args=["disclosures", "recompute-deadlines"]).output
    )
    assert deadline() == ("2026-12-28", "2027-01-07", False)


def test_reindex_rebuilds_from_the_database(client, auth, runner, db_session, frozen_clock, indexer, search_engine):
    AgencyFactory(code="RE")
    headers = auth.headers("RE")
    for n in range(3):
        client.put(f"{URL}/r{n}", json=decision(document_no=f"泉市监罚〔2025〕{n}号"), headers=headers)
    client.put(f"{URL}/hidden", json=decision(minor=True), headers=headers)
    indexer.sync()
    result = runner.invoke(args=["search", "reindex", "--index", "disclosures"])
    assert result.exit_code == 0, result.output
    assert "disclosures: 3 documents" in result.output
    assert client.get("/api/v1/disclosures?q=过期").get_json()["total"] == 3
