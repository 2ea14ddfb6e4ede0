"""The gate's settings and what supervisors see of it (issue 16): the review catalogue matched on the matter
code, the per-agency "reports cases" setting that only supervisors change, decisions published without a
case, and cases made major after one of their decisions was published."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.transparency.models import LogEntry
from tests.factories import AgencyFactory, reviews
from tests.factories.disclosures import decision
from tests.factories.officers import register
from tests.support.admin_browser import AdminBrowser
from tests.test_cases import OFFICERS, case_body, record

URL = "/api/v1/publish"
ADMIN = "/api/v1/admin"
PASSWORD = "a long password 1"


@pytest.fixture
def mkt(auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    register(auth.client, headers, *OFFICERS)
    return headers


def at(clock, moment: str) -> None:
    clock.at = dt.datetime.fromisoformat(moment).astimezone(dt.UTC)


def catalogue(*matters):
    return {
        "phase": "pre",
        "type": "review_catalogue",
        "title": "重大执法决定法制审核目录清单",
        "details": {"matters": list(matters)},
    }


def is_major(client, headers, case_no, **body):
    response = client.put(f"{URL}/cases/{case_no}", json=case_body(**body), headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["is_major"]


# -- the review catalogue, matched on the matter code ---------------------------------------------
def test_the_catalogue_matches_cases_on_the_matter_code_not_the_title(client, mkt):
    coded = catalogue({"code": "350217001000", "name": "较大数额罚款"})
    assert client.put(f"{URL}/disclosures/cat", json=coded, headers=mkt).status_code == 201
    # The same matter under another title is major; the same title under another code is not.
    assert is_major(client, mkt, "C1", matter="对食品经营者处较大数额罚款", matter_code="350217001000")
    assert not is_major(client, mkt, "C2", matter="较大数额罚款", matter_code="350217009999")
    # A case that gives no code is matched on its title: leaving the code out does not skip review.
    assert is_major(client, mkt, "C3", matter="较大数额罚款")
    assert client.put(f"{URL}/disclosures/d1", json=decision(case_no="C1"), headers=mkt).status_code == 409
    assert client.put(f"{URL}/disclosures/d2", json=decision(case_no="C2"), headers=mkt).status_code == 201


def test_old_name_only_entries_still_match_on_the_title(client, mkt):
    assert client.put(f"{URL}/disclosures/cat", json=catalogue("吊销许可证"), headers=mkt).status_code == 201
    assert is_major(client, mkt, "C1", matter="吊销许可证", matter_code="350217002000")
    assert not is_major(client, mkt, "C2", matter="警告", matter_code="350217002000")


def test_a_catalogue_entry_is_a_name_or_an_object_with_both_code_and_name(client, mkt):
    both = catalogue("吊销许可证", {"code": "350217001000", "name": "较大数额罚款"})
    assert client.put(f"{URL}/disclosures/cat", json=both, headers=mkt).status_code == 201
    for entry in ({"code": "350217001000"}, {"name": "较大数额罚款"}, {"code": "", "name": "x"}, 7, ""):
        response = client.put(f"{URL}/disclosures/bad", json=catalogue("吊销许可证", entry), headers=mkt)
        assert response.status_code == 422
        assert list(response.get_json()["errors"]["json"]["details"]["matters"]) == ["1"]


# -- the "reports cases" setting ------------------------------------------------------------------
@pytest.fixture
def admins(runner):
    """A platform admin, the supervisor of MKT's city, one of another province, and a complaint handler."""
    for username, role, where in (
        ("root", "admin", []),
        ("li", "supervisor", ["--region", "350500"]),
        ("wang", "supervisor", ["--region", "110000"]),
        ("zhao", "handler", ["--agency", "MKT"]),
    ):
        created = runner.invoke(
            args=["admin", "create", "--username", username, "--role", role, *where], input=PASSWORD
        )
        assert created.exit_code == 0, created.output


def admin_headers(client, username):
    token = client.post(f"{ADMIN}/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def set_reports_cases(client, who, value, code="MKT"):
    """``who``: an admin username (signed in at the clock's present moment), or headers as they are."""
    headers = admin_headers(client, who) if isinstance(who, str) else who
    body = {"reports_cases": value, "reason": "该局案件系统尚未对接，暂停报送（泉司〔2025〕3号）"}
    return client.put(f"{ADMIN}/agencies/{code}/settings/reports-cases", json=body, headers=headers)


def test_a_supervisor_turns_the_setting_off_and_the_agency_cannot(client, mkt, admins, db_session):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)  # reports cases from now on
    assert client.put(f"{URL}/disclosures/d1", json=decision(), headers=mkt).status_code == 422
    # Neither the agency's own client nor anyone without a token, a handler, or another region's supervisor.
    assert set_reports_cases(client, mkt, False).status_code == 401
    assert set_reports_cases(client, {}, False).status_code == 401
    assert set_reports_cases(client, "zhao", False).status_code == 403
    assert set_reports_cases(client, "wang", False).status_code == 404
    assert client.put(f"{URL}/disclosures/d1", json=decision(), headers=mkt).status_code == 422
    answered = set_reports_cases(client, "li", False)
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["reports_cases"] is False and answered.get_json()["reports_cases_now"] is False
    assert client.put(f"{URL}/disclosures/d1", json=decision(), headers=mkt).status_code == 201
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "agency.reports_cases")).all()
    assert [(a.actor, a.target_id, a.detail["before"], a.detail["after"]) for a in audit] == [
        ("admin:li", "MKT", None, False)
    ]
    assert "泉司〔2025〕3号" in audit[0].detail["reason"]
    logged = db_session.scalars(select(LogEntry).where(LogEntry.event == "setting")).all()
    assert [(e.item_id, e.agency, e.detail) for e in logged] == [("MKT/reports_cases", "MKT", {"reports_cases": False})]


def test_a_platform_admin_turns_it_on_for_an_agency_without_cases(client, mkt, admins):
    assert client.put(f"{URL}/disclosures/d1", json=decision(), headers=mkt).status_code == 201
    answered = set_reports_cases(client, "root", True)
    assert answered.status_code == 200 and answered.get_json()["reports_cases_since"] is not None
    assert client.put(f"{URL}/disclosures/d2", json=decision(document_no="罚2"), headers=mkt).status_code == 422
    # Back to automatic: it began reporting cases when it was turned on, so it still does.
    assert set_reports_cases(client, "root", None).get_json()["reports_cases_now"] is True
    assert set_reports_cases(client, "root", None, code="NOPE").status_code == 404


# -- what supervisors see ------------------------------------------------------------------------
def summary(client, username="li"):
    response = client.get(
        "/api/v1/supervision/summary",
        query_string={"from": "2025-01-01", "to": "2025-12-31"},
        headers=admin_headers(client, username),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_decisions_published_without_a_case_are_counted_per_agency(client, auth, mkt, admins, frozen_clock):
    env_agency = AgencyFactory(code="ENV", name="泉州市生态环境局")
    tax_agency = AgencyFactory(code="TAX", name="泉州市税务局")
    root = "root"
    publish = client.put

    at(frozen_clock, "2025-02-03T10:00:00+08:00")
    assert publish(f"{URL}/disclosures/early", json=decision(), headers=mkt).status_code == 201  # before its case
    at(frozen_clock, "2025-03-03T10:00:00+08:00")
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)  # MKT reports cases from 03-03
    at(frozen_clock, "2025-04-01T10:00:00+08:00")
    assert set_reports_cases(client, root, False).status_code == 200
    for n, body in enumerate(
        [
            decision(),  # counted
            decision(document_no="罚2"),  # counted
            decision(category="licensing", outcome="准予许可", document_no="许3"),  # counted
            decision(category="levy", outcome="征收", document_no="征4"),  # a levy names no case: not counted
            decision(document_no="罚5", publish=False),  # registered, never published: not counted
        ]
    ):
        assert publish(f"{URL}/disclosures/m{n}", json=body, headers=mkt).status_code == 201
    at(frozen_clock, "2025-05-06T10:00:00+08:00")
    assert set_reports_cases(client, root, True).status_code == 200
    assert (
        publish(f"{URL}/disclosures/m9", json=decision(case_no="C1", document_no="罚9"), headers=mkt).status_code == 201
    )
    # ENV registered a case, then was allowed off for good: it does not report cases, so it is not listed.
    env, tax = auth.headers(env_agency.code), auth.headers(tax_agency.code)
    register(client, env, "35050055555", "35050055556")
    client.put(f"{URL}/cases/E1", json=case_body(officers=["35050055555", "35050055556"]), headers=env)
    assert set_reports_cases(client, root, False, code="ENV").status_code == 200
    assert publish(f"{URL}/disclosures/e1", json=decision(), headers=env).status_code == 201
    # TAX has no case at all: its decisions need none.
    assert publish(f"{URL}/disclosures/t1", json=decision(), headers=tax).status_code == 201

    listed = summary(client)["decisions_without_case"]
    assert [(row["agency"], row["count"]) for row in listed] == [("MKT", 3)]
    assert listed[0]["reports_cases_since"].startswith("2025-03-03T10:00:00")
    assert summary(client, "wang")["decisions_without_case"] == []  # another province's supervisor


def test_cases_made_major_after_a_decision_was_published_are_listed(app, client, runner, mkt, admins, frozen_clock):
    reviews.file_reviewer(client, mkt)
    chen = reviews.reviewer_account(client, runner, "MKT")
    at(frozen_clock, "2025-10-20T10:00:00+08:00")
    for case_no, body in (
        ("C1", case_body()),  # flagged major later
        ("C2", case_body()),  # heard later
        ("C3", case_body(matter_code="350217001000")),  # its matter catalogued later
        ("C4", case_body(major=True)),  # major from the start, reviewed before its decision
        ("C5", case_body()),  # made major, but no decision published before
    ):
        assert client.put(f"{URL}/cases/{case_no}", json=body, headers=mkt).status_code == 201
    reviews.approve(client, mkt, chen, "MKT", "C4")
    for case_no in ("C1", "C2", "C3", "C4"):
        body = decision(case_no=case_no, document_no=f"罚{case_no}", decision_date="2025-10-20")
        assert client.put(f"{URL}/disclosures/d{case_no}", json=body, headers=mkt).status_code == 201
    at(frozen_clock, "2025-10-22T10:00:00+08:00")
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    client.put(f"{URL}/cases/C5", json=case_body(major=True), headers=mkt)
    at(frozen_clock, "2025-10-23T10:00:00+08:00")
    heard = client.post(f"{URL}/cases/C2/records", json={"records": [record("hearing")]}, headers=mkt)
    assert heard.status_code == 201, heard.get_json()
    at(frozen_clock, "2025-10-24T10:00:00+08:00")
    coded = catalogue({"code": "350217001000", "name": "较大数额罚款"})
    assert client.put(f"{URL}/disclosures/cat", json=coded, headers=mkt).status_code == 201

    listed = summary(client)["made_major_after_publication"]
    assert [(row["case_no"], row["major_by"], row["major_since"][:10]) for row in listed] == [
        ("C1", "flag", "2025-10-22"),
        ("C2", "hearing", "2025-10-23"),
        ("C3", "catalogue", "2025-10-24"),
    ]
    assert all(row["first_published_at"].startswith("2025-10-20") for row in listed)
    browser = AdminBrowser(app.test_client())
    assert browser.login("li", PASSWORD).status_code == 303
    dashboard = browser.page("/admin/dashboard?from=2025-01-01&to=2025-12-31")
    made_major = dashboard.split('data-table="made_major"')[1].split("</table>")[0]
    assert re.findall(r"(C\d)<div", made_major) == ["C1", "C2", "C3"]
    assert "经听证 · 2025-10-23" in made_major and "列入审核目录 · 2025-10-24" in made_major
    assert summary(client, "wang")["made_major_after_publication"] == []


def test_an_agency_that_declared_no_domains_answers_null_as_documented(client, mkt, admins):
    """schemathesis found ``case_domains: null`` where the document said object."""
    answer = set_reports_cases(client, "root", None)
    assert answer.status_code == 200 and answer.get_json()["case_domains"] is None
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["AgencySettings"]
    assert schema["properties"]["case_domains"]["nullable"] is True
