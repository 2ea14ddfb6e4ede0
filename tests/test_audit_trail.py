"""The auditor (审计管理员) reads and exports the audit trail and nothing else; nobody else reads it; each
finished Beijing day's digest goes into the transparency log, so an entry changed or deleted afterwards is
found; a purge is refused inside the retention period and for days not yet anchored."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select, update

from backend.audit import trail
from backend.audit.models import AuditEntry
from backend.audit.services import record
from backend.extensions import db
from backend.transparency import audit_digest
from backend.transparency.models import LogEntry
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_case_reads import admin_headers

API = "/api/v1/admin/audit"


@pytest.fixture
def trail_of_three_days(app, db_session, frozen_clock):
    """Entries on 2025-10-18, 10-19 and 10-20 (Beijing); the clock stands on 10-20 10:00."""
    now = frozen_clock.at
    with app.app_context():
        for days_ago, action in (
            (2, "admin.login"),
            (1, "admin.create"),
            (1, "disclosure.withdraw"),
            (0, "admin.login"),
        ):
            frozen_clock.at = now - dt.timedelta(days=days_ago)
            record(f"admin:user{days_ago}", action, "admin_user", f"user{days_ago}", ip="10.0.0.1", n=days_ago)
        db.session.commit()
    frozen_clock.at = now
    return now


def test_only_the_auditor_reads_the_trail_and_reading_it_is_audited(client, runner, db_session, trail_of_three_days):
    AgencyFactory(code="MKT")
    auditor = admin_headers(client, runner, "shen", "auditor")
    page = client.get(f"{API}?action=admin.&page_size=2", headers=auditor)
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    # Newest first; the admin.create of the token's own user is in the trail too (created just now).
    assert body["total"] >= 3 and len(body["items"]) == 2
    assert body["items"][0]["id"] > body["items"][1]["id"]
    for role, extra in (("admin", {}), ("supervisor", {"region_code": "350500"}), ("handler", {"agency": "MKT"})):
        headers = admin_headers(client, runner, f"x{role}", role, **extra)
        assert client.get(API, headers=headers).status_code == 403
    reads = db_session.scalars(
        select(AuditEntry).where(AuditEntry.actor == "admin:shen", AuditEntry.action == "supervision.read")
    )
    assert [entry.target_id for entry in reads] == [API]


def test_filters_by_actor_action_and_beijing_days(client, runner, trail_of_three_days):
    auditor = admin_headers(client, runner, "shen", "auditor")
    on_19th = client.get(f"{API}?from=2025-10-19&to=2025-10-19", headers=auditor).get_json()
    assert sorted(item["action"] for item in on_19th["items"]) == ["admin.create", "disclosure.withdraw"]
    assert client.get(f"{API}?actor=admin:user2", headers=auditor).get_json()["total"] == 1
    assert client.get(f"{API}?action=disclosure.", headers=auditor).get_json()["total"] == 1
    refused = client.get(f"{API}?from=yesterday", headers=auditor)
    assert refused.status_code == 422 and "from" in refused.get_json()["errors"]["query"]


def test_the_csv_export_is_oldest_first_with_beijing_times(client, runner, trail_of_three_days):
    auditor = admin_headers(client, runner, "shen", "auditor")
    response = client.get(f"{API}?format=csv&to=2025-10-19", headers=auditor)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == trail.CSV_COLUMNS
    assert [row[3] for row in rows[1:]] == ["admin.login", "admin.create", "disclosure.withdraw"]
    assert rows[1][1].endswith("+08:00") and rows[1][6] == "10.0.0.1"


def test_the_admin_page_is_the_auditors_only_page(app, client, runner, db_session, trail_of_three_days):
    assert (
        runner.invoke(
            args=["admin", "create", "--username", "shen", "--role", "auditor"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    shen = AdminBrowser(app.test_client())
    landed = shen.login("shen")
    assert landed.status_code == 303 and landed.location.endswith("/admin/audit")
    page = shen.page("/admin/audit?action=disclosure.")
    assert 'data-action="disclosure.withdraw"' in page and 'data-action="admin.login"' not in page
    export = shen.get("/admin/audit.csv?action=disclosure.")
    assert export.status_code == 200 and "disclosure.withdraw" in export.get_data(as_text=True)
    assert shen.get("/admin/complaints").status_code == 403
    assert (
        runner.invoke(
            args=["admin", "create", "--username", "root", "--role", "admin"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    root = AdminBrowser(app.test_client())
    root.login("root")
    assert root.get("/admin/audit").status_code == 403


def test_each_finished_day_is_anchored_once_and_a_later_change_is_found(app, runner, db_session, trail_of_three_days):
    with app.app_context():
        assert audit_digest.anchor_due() == 2  # the 18th and 19th; the 20th is not over
        assert audit_digest.anchor_due() == 0
        anchored = db_session.scalars(
            select(LogEntry).where(LogEntry.event == trail.DIGEST_EVENT).order_by(LogEntry.index)
        ).all()
        assert [entry.item_id for entry in anchored] == ["2025-10-18", "2025-10-19"]
        assert [entry.detail["count"] for entry in anchored] == [1, 2]
        assert anchored[1].commitment == trail.digest(dt.date(2025, 10, 19)).sha256
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    db_session.execute(update(AuditEntry).where(AuditEntry.action == "admin.create").values(target_id="someone-else"))
    db_session.commit()
    altered = runner.invoke(args=["audit", "verify"])
    assert altered.exit_code == 1 and "2025-10-19" in altered.output


def test_a_deleted_entry_is_found_too(app, runner, db_session, trail_of_three_days):
    with app.app_context():
        audit_digest.anchor_due()
    first = db_session.scalar(select(AuditEntry).where(AuditEntry.actor == "admin:user2"))
    db_session.delete(first)
    db_session.commit()
    deleted = runner.invoke(args=["audit", "verify"])
    assert deleted.exit_code == 1 and "2025-10-18: 0 entries now, 1 when anchored" in deleted.output


def test_a_purge_inside_the_retention_period_or_before_anchoring_is_refused(
    app, runner, db_session, frozen_clock, trail_of_three_days
):
    inside = runner.invoke(args=["audit", "purge", "--before", "2025-10-19"])
    assert inside.exit_code == 1 and "AUDIT_RETENTION_DAYS" in inside.output
    frozen_clock.advance(dt.timedelta(days=200))
    not_anchored = runner.invoke(args=["audit", "purge", "--before", "2025-10-20"])
    assert not_anchored.exit_code == 1 and "no digest" in not_anchored.output
    with app.app_context():
        audit_digest.anchor_due()
    purged = runner.invoke(args=["audit", "purge", "--before", "2025-10-20"])
    assert purged.exit_code == 0 and "removed 3" in purged.output, purged.output
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.purge")).target_id == "2025-10-20"
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # purged days are skipped, the rest still match
