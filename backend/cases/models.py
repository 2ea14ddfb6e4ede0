from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.agencies.models import Agency
from backend.disclosures.models import Category
from backend.extensions.database import Model, UTCDateTime

# Decisions whose making the three systems govern: an agency that reports cases names their case.
CASE_CATEGORIES = frozenset({Category.licensing, Category.penalty, Category.coercion})


class Step(enum.StrEnum):
    filing = "filing"  # 立案
    investigation = "investigation"  # 调查
    evidence = "evidence"  # 取证
    preservation = "preservation"  # 证据保全 (先行登记保存, 查封扣押 of evidence)
    review = "review"  # 审查
    notice = "notice"  # 告知
    hearing = "hearing"  # 听证
    decision = "decision"  # 决定
    service = "service"  # 送达
    execution = "execution"  # 执行
    closing = "closing"  # 结案


STEP_LABELS = {
    "filing": "立案",
    "investigation": "调查",
    "evidence": "取证",
    "preservation": "证据保全",
    "review": "审查",
    "notice": "告知",
    "hearing": "听证",
    "decision": "决定",
    "service": "送达",
    "execution": "执行",
    "closing": "结案",
}

# On-site acts: two officers at least (DOMAIN §2). Which recording each step needs is recording.py's.
ON_SITE_STEPS = {"investigation", "evidence", "preservation", "service", "execution"}


class Recording(enum.StrEnum):
    """What an 音像记录事项清单 asks of a step (seed 001 二(二)2)."""

    text = "text"  # 文字记录能够全面有效记录: a text record is enough
    av = "av"  # 音像记录: some audio or video
    continuous = "continuous"  # 全程音像记录: audio-video covering the step from start to end


RECORDING_LABELS = {"text": "文字记录", "av": "音像记录", "continuous": "全程音像记录"}


# What a legal review examines (DOMAIN §3), as checklist keys.
CHECKLIST = {
    "lawful_agency": "执法主体是否合法",
    "qualified_officers": "执法人员是否具备执法资格",
    "clear_facts": "案件事实是否清楚",
    "sufficient_evidence": "证据是否确凿充分",
    "correct_law": "适用法律依据是否准确",
    "proper_discretion": "是否符合裁量基准",
    "lawful_procedure": "程序是否合法",
    "within_power": "是否超越法定权限",
    "complete_documents": "执法文书是否完备规范",
    "crime_transfer": "是否涉嫌犯罪需移送司法机关",
}


class ReviewOutcome(enum.StrEnum):
    approve = "approve"  # 同意
    reject = "reject"  # 不同意
    revise = "revise"  # 修改后再报


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("agency_id", "case_no"),
        # Supervisors list cases made major in a period, in that order (most cases never are).
        Index(
            "ix_cases_major_since",
            "major_since",
            postgresql_where=text("major_since IS NOT NULL"),
            sqlite_where=text("major_since IS NOT NULL"),
        ),
        # 公示率 over decided cases reads the cases decided in a period; the overdue list walks decided cases in
        # deadline order and stops at its limit instead of checking every one for a decision disclosure.
        Index("ix_cases_decided_on", "decided_on"),
        Index(
            "ix_cases_publish_deadline",
            "publish_deadline",
            "id",
            postgresql_where=text("decided_on IS NOT NULL"),
            sqlite_where=text("decided_on IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_no: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    matter: Mapped[str] = mapped_column(String(200))
    # 事项编码 of the matter in the agency's 执法事项清单: what the review catalogue is matched on.
    matter_code: Mapped[str | None] = mapped_column(String(64))
    officers: Mapped[list[str]] = mapped_column(JSON)
    subject_type: Mapped[str | None] = mapped_column(String(16))
    subject_name: Mapped[str | None] = mapped_column(String(200))
    opened_on: Mapped[dt.date] = mapped_column(Date, index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    # Kept as records arrive (they never change), so supervision counts them without reading records.
    missing_av: Mapped[int] = mapped_column(Integer, default=0)
    recording_gaps: Mapped[int] = mapped_column(Integer, default=0)
    late_evidence: Mapped[int] = mapped_column(Integer, default=0)
    had_hearing: Mapped[bool] = mapped_column(Boolean, default=False)
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the platform first learnt the case was major, and by what (flag, hearing, catalogue): a case made
    # major after one of its decisions was published is listed to supervisors. Kept once set.
    major_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    major_by: Mapped[str | None] = mapped_column(String(16))
    # Set once, when the first decision record arrives: its date (Beijing) and the statutory deadline of the
    # decision's disclosure counted from it (disclosures.deadlines), so 公示率 over decided cases reads
    # columns instead of records. ``publish_by`` is the instant that deadline day ends, which SQL compares
    # with a disclosure's published_at the same way on either database.
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    publish_deadline: Mapped[dt.date | None] = mapped_column(Date)
    publish_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class CaseRecord(Model):
    """One step of a case. Append-only: each record's hash covers the previous one's, so altering or
    removing any record breaks every hash after it; a correction is a new record naming the old."""

    __tablename__ = "case_records"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    officers: Mapped[list[str]] = mapped_column(JSON)
    place: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    corrects: Mapped[int | None] = mapped_column(Integer)
    # The recording the list in force on arrival asked of this step, and which list that was ("statute", or
    # the av_matter_list item and its log entry, "<id>#<log_index>"); null on records from before migration 0017.
    recording: Mapped[str | None] = mapped_column(String(16))
    recording_list: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int | None] = mapped_column(Integer)


class LegalReviewer(Model):
    """A legal reviewer (法制审核人员) the agency filed with its supervising 司法局 (备案), by badge number.

    A 司法局's own reviewers (its agency ``supervises``) may be lent to the agencies of its region. A
    reviewer signs in as an admin user of role ``reviewer`` with the same agency and badge."""

    __tablename__ = "legal_reviewers"
    __table_args__ = (UniqueConstraint("agency_id", "badge_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    badge_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # e.g. 法律职业资格 and the date it was obtained (null for reviewers registered before filing existed).
    qualification: Mapped[str | None] = mapped_column(String(100))
    qualified_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class ReviewState(enum.StrEnum):
    pending = "pending"  # awaiting the reviewer's opinion
    decided = "decided"  # the opinion is given (approve, reject or revise)
    withdrawn = "withdrawn"  # the agency took the submission back before an opinion


class CaseReview(Model):
    """One submission for legal review and its opinion; resubmissions are new rows, history is kept.

    Submission, opinion and withdrawal each append a transparency-log entry committing to a hash of what
    was submitted or decided (``*_log_index``)."""

    __tablename__ = "case_reviews"
    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        # The reviewer's queue and the overdue listings read pending submissions by their time limit.
        Index("ix_case_reviews_pending_due", "outcome", "withdrawn_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(128))
    # The handling unit's statement for each checklist item.
    checklist: Mapped[dict[str, str]] = mapped_column(JSON)
    # 送审材料: [{"name", "sha256", "size"}], the files themselves stay in the agency's storage.
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # REVIEW_DAYS working days after submission (the official calendar), in Beijing dates.
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("legal_reviewers.id"))
    reviewer_badge: Mapped[str | None] = mapped_column(String(32))
    # Who signed in to give the opinion (admin:<username>), as the audit trail names them.
    reviewer_actor: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[dict[str, str] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))
    submit_log_index: Mapped[int | None] = mapped_column(Integer)
    opinion_log_index: Mapped[int | None] = mapped_column(Integer)
    withdraw_log_index: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[Case] = relationship()
    reviewer: Mapped[LegalReviewer | None] = relationship()

    @property
    def state(self) -> ReviewState:
        if self.withdrawn_at is not None:
            return ReviewState.withdrawn
        return ReviewState.pending if self.outcome is None else ReviewState.decided
