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
    "review": "审查",
    "notice": "告知",
    "hearing": "听证",
    "decision": "决定",
    "service": "送达",
    "execution": "执行",
    "closing": "结案",
}

# On-site acts: two officers at least, and audio-video recording (DOMAIN §2).
ON_SITE_STEPS = {"investigation", "evidence", "service", "execution"}
AV_STEPS = {"evidence", "hearing", "service"}
# Coercive measures and inspections are recorded on video whenever they happen on site.
AV_STEPS_BY_CATEGORY = {"coercion": {"execution", "investigation"}, "inspection": {"investigation"}}

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
    late_evidence: Mapped[int] = mapped_column(Integer, default=0)
    had_hearing: Mapped[bool] = mapped_column(Boolean, default=False)
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the platform first learnt the case was major, and by what (flag, hearing, catalogue): a case made
    # major after one of its decisions was published is listed to supervisors. Kept once set.
    major_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    major_by: Mapped[str | None] = mapped_column(String(16))
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
    officers: Mapped[list[str]] = mapped_column(JSON)
    place: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    corrects: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int | None] = mapped_column(Integer)


class LegalReviewer(Model):
    """A person the agency registered as its legal reviewer (法制审核人员), by badge number."""

    __tablename__ = "legal_reviewers"
    __table_args__ = (UniqueConstraint("agency_id", "badge_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    badge_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CaseReview(Model):
    """One submission for legal review and its opinion; resubmissions are new rows, history is kept."""

    __tablename__ = "case_reviews"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(128))
    # The handling unit's statement for each checklist item.
    checklist: Mapped[dict[str, str]] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reviewer_badge: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[dict[str, str] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()
