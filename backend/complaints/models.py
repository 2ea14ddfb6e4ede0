from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.accounts.models import AdminUser
from backend.agencies.models import Agency
from backend.extensions.database import Model, UTCDateTime


class Category(enum.StrEnum):
    no_credential = "no_credential"  # 未亮证/证件无效
    misconduct = "misconduct"  # 执法不规范
    arbitrary_charges = "arbitrary_charges"  # 乱罚款/乱收费
    attitude = "attitude"  # 态度问题
    wrong_disclosure = "wrong_disclosure"  # 公示信息有误
    other = "other"  # 其他


CATEGORY_LABELS = {
    "no_credential": "未亮证/证件无效",
    "misconduct": "执法不规范",
    "arbitrary_charges": "乱罚款/乱收费",
    "attitude": "态度问题",
    "wrong_disclosure": "公示信息有误",
    "other": "其他",
}


# The national government service hotline (政务服务便民热线), where any citizen can raise a complaint no agency answers.
GOVERNMENT_HOTLINE = "12345"


class Status(enum.StrEnum):
    submitted = "submitted"  # 待受理
    accepted = "accepted"  # 已受理 (being worked)
    rejected = "rejected"  # 不予受理 (final, with reason)
    replied = "replied"  # 已答复
    closed = "closed"  # 已办结


STATUS_LABELS = {
    "submitted": "待受理",
    "accepted": "办理中",
    "rejected": "不予受理",
    "replied": "已答复",
    "closed": "已办结",
}

EVENT_LABELS = {
    "submitted": "已提交",
    "accepted": "已受理",
    "rejected": "不予受理",
    "assigned": "已分派",
    "replied": "已答复",
    "closed": "已办结",
    "escalated": "已督办升级",
    "reopened": "已重新办理",
    "rated": "已评价",
    "note": "内部备注",
}


class Complaint(Model):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_agency_status", "agency_id", "status"),
        Index("ix_complaints_content_hash", "content_hash", "created_at"),
        # Two identical complaints in one dedupe window cannot both be stored, whichever worker files them.
        Index("uq_complaints_dedupe_key", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(24))
    content: Mapped[str] = mapped_column(Text)
    badge_no: Mapped[str | None] = mapped_column(String(32))
    officer_agency_code: Mapped[str | None] = mapped_column(String(40))
    disclosure_id: Mapped[str | None] = mapped_column(String(32), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Private: handlers see them to call back; never shown publicly.
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    # When the retention job erased the contact details (contact_phone, contact_name, openid); None until then.
    contact_erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A signed badge-scan receipt proved the badge was scanned at this time.
    scan_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    scanned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))  # web, miniapp, official_account, 12345
    openid: Mapped[str | None] = mapped_column(String(64), index=True)
    notify_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    # content_hash and the dedupe window it was filed in (None for complaints filed before it existed).
    dedupe_key: Mapped[str | None] = mapped_column(String(64))

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    routed_by: Mapped[str] = mapped_column(String(16))  # officer, disclosure, agency, region
    status: Mapped[str] = mapped_column(String(16), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Needs a reviewer's look before it is accepted (the content filter doubted it).
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    accept_due: Mapped[dt.date] = mapped_column(Date, index=True)
    # The sender's own deadline to finish (a 12345 work order's 要求办结时限); the earlier of it and the
    # statutory deadline is the one that runs (accept_due, reply_due).
    requested_due: Mapped[dt.date | None] = mapped_column(Date)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reply_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id], lazy="joined", innerjoin=True)
    escalated_to: Mapped[Agency | None] = relationship(foreign_keys=[escalated_to_id], lazy="joined")
    assigned_to: Mapped[AdminUser | None] = relationship(lazy="joined")
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )

    # Loaded only when asked for (the admin complaint page): most reads of a complaint never need them.
    evidence: Mapped[list[ComplaintEvidence]] = relationship(
        back_populates="complaint", order_by="ComplaintEvidence.id", cascade="all, delete-orphan", lazy="select"
    )

    __mapper_args__ = {"version_id_col": version}


class ComplaintEvidence(Model):
    """A file the complainant attached (evidence.py): checked by content, images re-encoded without metadata.

    Private like the contact details: only the handlers of the agency working the complaint read it."""

    __tablename__ = "complaint_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    # Of the bytes kept (after re-encoding), so a downloaded copy can be checked against the record.
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    extension: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: listing a complaint's evidence never loads the files themselves.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(64))

    complaint: Mapped[Complaint] = relationship(back_populates="evidence")


class ComplaintEvent(Model):
    """The timeline. Public events are what the citizen sees; notes stay internal."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # submitted, accepted, rejected, assigned, replied, closed, escalated, reopened, rated, note
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    public: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class Notification(Model):
    """A message owed to a citizen about their complaint, sent by the notifier (outbox: none is lost)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))

    complaint: Mapped[Complaint] = relationship()
