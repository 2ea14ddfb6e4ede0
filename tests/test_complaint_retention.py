"""The complainant's contact details are erased COMPLAINT_CONTACT_RETENTION_DAYS after closure, by a scheduled job
that keeps the complaint, its content and its timeline, audits each erasure, and can run any number of times."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.accounts.models import AdminUser
from backend.audit.models import AuditEntry
from backend.complaints import services
from backend.complaints.models import Complaint, Notification
from backend.scheduler import default_jobs
from tests.factories import AgencyFactory
from tests.support.admin_browser import AdminBrowser, create_user
from tests.support.complainant import read_complaint


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    return {"SFJ": judicial, "MKT": AgencyFactory(code="MKT", name="泉州市市场监督管理局", parent=judicial)}


@pytest.fixture
def zhang(runner, city, db_session) -> AdminUser:
    create_user(runner, "zhang", agency="MKT")
    return db_session.scalar(select(AdminUser).where(AdminUser.username == "zhang"))


def filed_with_contact(content: str, *, openid: str | None = None) -> services.Filed:
    data = {
        "category": "attitude",
        "content": content,
        "agency": "MKT",
        "contact_phone": "13905951234",
        "contact_name": "陈先生",
        "notify_consent": True,
    }
    return services.submit(data, channel="miniapp" if openid else "web", openid=openid)


def closed(user: AdminUser, filed: services.Filed) -> Complaint:
    complaint = filed.complaint
    services.accept(user, complaint)
    services.reply(user, complaint, "已核查，已对执法人员批评教育。")
    services.close(user, complaint, "办结。")
    return complaint


def erasures(db_session) -> list[tuple[str, list[str]]]:
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "complaint.contact_erased").order_by(AuditEntry.id)
    )
    return [(entry.target_id, entry.detail["fields"]) for entry in entries]


def test_contacts_are_erased_after_the_retention_and_the_complaint_is_kept(
    app, client, runner, zhang, db_session, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "COMPLAINT_CONTACT_RETENTION_DAYS", 30)
    old = filed_with_contact("执法人员态度恶劣，言语粗暴。", openid="o-wechat-user-1")
    closed(zhang, old)
    events_before = [(event.kind, event.text) for event in old.complaint.events]
    digests_before = (old.complaint.content_hash, old.complaint.dedupe_key)
    frozen_clock.advance(dt.timedelta(days=20))
    recent = filed_with_contact("另一起：执法人员拒绝出示证件。")
    closed(zhang, recent)
    still_open = filed_with_contact("第三起：检查时未告知权利。")

    frozen_clock.advance(dt.timedelta(days=10, seconds=1))  # the first closed 30 days and a second ago
    first = runner.invoke(args=["complaints", "erase-contacts"])
    assert first.exit_code == 0 and "erased the contact details of 1 complaints" in first.output

    db_session.expire_all()
    complaint = db_session.get(Complaint, old.complaint.id)
    assert (complaint.contact_phone, complaint.contact_name, complaint.openid) == (None, None, None)
    assert complaint.contact_erased_at == frozen_clock.now()
    # The digests over the phone number go with it (a phone number is found from its hash by trying them all).
    assert complaint.dedupe_key is None and complaint.content_hash not in digests_before
    assert complaint.content == "执法人员态度恶劣，言语粗暴。" and complaint.status == "closed"
    assert [(event.kind, event.text) for event in complaint.events] == events_before
    messages = db_session.scalars(select(Notification).where(Notification.complaint_id == complaint.id)).all()
    assert messages and {message.recipient for message in messages} == {""}
    assert all(message.sent_at or message.attempts >= 8 for message in messages)  # none will be sent to nobody
    for kept in (recent, still_open):
        row = db_session.get(Complaint, kept.complaint.id)
        assert (row.contact_phone, row.contact_name, row.contact_erased_at) == ("13905951234", "陈先生", None)
    assert erasures(db_session) == [(old.complaint.tracking_no, ["contact_phone", "contact_name", "openid"])]
    # The citizen still follows it with the tracking number and code; the handler sees the erasure.
    assert read_complaint(client, old.complaint.tracking_no, old.query_code).status_code == 200

    again = runner.invoke(args=["complaints", "erase-contacts"])
    assert again.exit_code == 0 and "of 0 complaints" in again.output
    assert len(erasures(db_session)) == 1
    frozen_clock.advance(dt.timedelta(days=20))  # now the second is past its retention too
    assert services.erase_expired_contacts() == 1
    assert [target for target, _ in erasures(db_session)] == [old.complaint.tracking_no, recent.complaint.tracking_no]


def test_a_reopened_complaint_keeps_its_contact_until_it_closes_again(
    app, zhang, db_session, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "COMPLAINT_CONTACT_RETENTION_DAYS", 15)
    filed = filed_with_contact("执法人员态度恶劣，言语粗暴。")
    complaint = closed(zhang, filed)
    frozen_clock.advance(dt.timedelta(days=14))
    services.reopen(complaint, "答复未说明处理结果。")
    frozen_clock.advance(dt.timedelta(days=30))
    assert services.erase_expired_contacts() == 0
    db_session.expire_all()
    assert db_session.get(Complaint, complaint.id).contact_phone == "13905951234"


def test_the_scheduler_runs_the_erasure(app):
    jobs = {job.name: job for job in default_jobs(app)}
    assert jobs["erase-complaint-contacts"].run is services.erase_expired_contacts
    assert jobs["erase-complaint-contacts"].every_seconds == app.config["RETENTION_JOB_SECONDS"]


def test_the_admin_page_says_when_the_contact_was_erased(
    app, client, runner, zhang, db_session, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "COMPLAINT_CONTACT_RETENTION_DAYS", 15)
    complaint = closed(zhang, filed_with_contact("执法人员态度恶劣，言语粗暴。"))
    frozen_clock.advance(dt.timedelta(days=16))
    services.erase_expired_contacts()
    person = AdminBrowser(app.test_client())
    assert person.login("zhang").status_code == 303
    page = person.page(f"/admin/complaints/{complaint.tracking_no}")
    assert "13905951234" not in page and "按保存期限删除" in page
