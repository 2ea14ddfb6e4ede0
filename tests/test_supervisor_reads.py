"""Every read by a supervisor (or admin, or observer) is audited: who read which page or resource, with which
query, when and from where (issue 17; the brief: "every privileged action (… supervisor read) is audited")."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.audit.services import READ
from tests.factories import AgencyFactory
from tests.factories.officers import register
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_cases import OFFICERS, case_body

API_READS = [
    "/api/v1/supervision/summary?from=2025-01-01&to=2025-12-31",
    "/api/v1/admin/disclosure-changes",
    "/api/v1/supervision/negative-list",
    "/api/v1/supervision/cases?agency=MKT",
    "/api/v1/admin/approvals",
]
PAGE_READS = [
    "/admin/dashboard?from=2025-01-01&to=2025-12-31",
    "/admin/supervision",
    "/admin/disclosure-changes",
    "/admin/negative-list",
    "/admin/cases?agency=MKT",
    "/admin/approvals",
    "/admin/evaluations",
]


@pytest.fixture
def people(client, auth, runner, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    headers = auth.headers("MKT")
    register(client, headers, *OFFICERS)
    assert client.put("/api/v1/publish/cases/C1", json=case_body(), headers=headers).status_code == 201
    for username, args in {
        "li": ["--role", "supervisor", "--region", "350500"],
        "zhang": ["--role", "handler", "--agency", "MKT"],
    }.items():
        created = runner.invoke(args=["admin", "create", "--username", username, *args], input=PASSWORD + "\n")
        assert created.exit_code == 0, created.output


def reads(db_session, actor: str) -> list[tuple[str, str]]:
    rows = db_session.execute(
        select(AuditEntry.action, AuditEntry.target_id).where(AuditEntry.actor == actor).order_by(AuditEntry.id)
    ).all()
    return [tuple(row) for row in rows if row[0] in (READ, "supervision.case_read")]


def token(client, username: str) -> dict:
    answer = client.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def test_every_api_read_by_a_supervisor_is_audited_with_its_query(client, people, db_session):
    headers = token(client, "li")
    for path in API_READS:
        assert client.get(path, headers=headers).status_code == 200, path
    assert reads(db_session, "admin:li") == [(READ, path.split("?")[0]) for path in API_READS]
    summary = db_session.scalar(select(AuditEntry).where(AuditEntry.target_id == "/api/v1/supervision/summary"))
    assert summary.detail["query"] == {"from": ["2025-01-01"], "to": ["2025-12-31"]} and summary.ip
    # The case file is audited once, by its own fuller entry.
    assert client.get("/api/v1/supervision/cases/MKT/C1", headers=headers).status_code == 200
    assert reads(db_session, "admin:li")[-1] == ("supervision.case_read", "MKT/C1")
    assert len(reads(db_session, "admin:li")) == len(API_READS) + 1


def test_every_page_a_supervisor_opens_is_audited_and_a_handlers_work_is_not(app, people, db_session):
    supervisor = AdminBrowser(app.test_client())
    assert supervisor.login("li").status_code == 303
    for path in PAGE_READS:
        supervisor.page(path)
    assert reads(db_session, "admin:li") == [(READ, path.split("?")[0]) for path in PAGE_READS]
    handler = AdminBrowser(app.test_client())
    assert handler.login("zhang").status_code == 303
    handler.page("/admin/complaints")
    assert reads(db_session, "admin:zhang") == []
