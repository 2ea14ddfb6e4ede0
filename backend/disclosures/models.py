from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Select, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backend import workdays
from backend.agencies.models import Agency
from backend.divisions import region_ancestors
from backend.extensions.database import Model, UTCDateTime
from backend.search.indexing import Searchable
from backend.timezone import china_date, today
from search_index.interfaces import Deletion, Document
from search_index.mappings import DISCLOSURES


class Phase(enum.StrEnum):
    pre = "pre"  # 事前公开
    during = "during"  # 事中公示
    post = "post"  # 事后公开


class Category(enum.StrEnum):
    licensing = "licensing"  # 行政许可
    penalty = "penalty"  # 行政处罚
    coercion = "coercion"  # 行政强制
    levy = "levy"  # 行政征收
    fee = "fee"  # 行政收费
    inspection = "inspection"  # 行政检查


class Status(enum.StrEnum):
    pending = "pending"  # registered, not yet published (the statutory clock runs)
    published = "published"
    withheld = "withheld"  # minors' cases and confidential items: never public
    withdrawn = "withdrawn"  # 撤下: revoked, confirmed illegal, to be re-made, credit repair
    expired = "expired"  # its disclosure period ended
    pending_approval = "pending_approval"  # held until an approver releases it (ApprovalRequirement)
    returned = "returned"  # the approver sent it back with reasons; a later push resubmits it


class WithdrawalReason(enum.StrEnum):
    revoked = "revoked"  # 被依法撤销
    confirmed_illegal = "confirmed_illegal"  # 确认违法
    remade = "remade"  # 要求重新作出
    credit_repair = "credit_repair"  # 信用修复
    other = "other"


TYPES: dict[Phase, tuple[str, ...]] = {
    Phase.pre: (
        "agency_profile",
        "power",
        "inspection_list",
        "service_guide",
        "procedure",
        "remedy",
        "officer_exam_list",
        "review_catalogue",
        "av_matter_list",
        "discretion_benchmark",
        "exemption_list",
        "negative_list",
    ),
    Phase.during: ("window_notice", "on_site_notice"),
    Phase.post: ("decision", "inspection_result", "annual_statistics"),
}
PHASE_OF_TYPE = {type_: phase for phase, types in TYPES.items() for type_ in types}
# Pre-phase lists a 司法局 may require to be approved before they go public ("经法制部门审核后公示", seed
# 000). Post-phase decisions are never held: their statutory clock runs from the decision.
APPROVABLE_TYPES = ("power", "inspection_list", "review_catalogue", "av_matter_list", "discretion_benchmark")
# The one type whose approver may also be another agency's account: the market regulator leads 双随机抽查.
APPROVER_AGENCY_TYPES = ("inspection_list",)

LABELS = {
    "pre": "事前公开",
    "during": "事中公示",
    "post": "事后公开",
    "licensing": "行政许可",
    "penalty": "行政处罚",
    "coercion": "行政强制",
    "levy": "行政征收",
    "fee": "行政收费",
    "inspection": "行政检查",
    "agency_profile": "执法主体",
    "power": "执法事项清单",
    "inspection_list": "随机抽查事项清单",
    "service_guide": "服务指南",
    "procedure": "执法流程",
    "remedy": "救济渠道",
    "officer_exam_list": "执法资格考试合格人员名单",
    "review_catalogue": "重大执法决定法制审核目录清单",
    "av_matter_list": "音像记录事项清单",
    "discretion_benchmark": "行政处罚裁量基准",
    "exemption_list": "减免责清单",
    "negative_list": "行政执法负面清单",
    "window_notice": "窗口公示",
    "on_site_notice": "现场告知",
    "decision": "执法决定",
    "inspection_result": "抽查检查结果",
    "annual_statistics": "年度统计",
}

# Chinese names of the type-specific ``details`` fields, for pages.
DETAIL_LABELS = {
    "matter": "事项名称",
    "basis": "依据",
    "procedure": "办理程序",
    "time_limit": "办理时限",
    "subject": "抽查主体",
    "targets": "抽查对象",
    "content": "抽查内容",
    "ratio": "抽查比例",
    "method": "抽查方式",
    "frequency": "抽查频次",
    "complaint_channel": "投诉渠道",
    "year": "年度",
    "matter_code": "事项编码",
    "fine_amount": "罚款金额（元）",
    "confiscation_amount": "没收金额（元）",
    "penalty_classes": "处罚类别",
    "violation_type": "违法行为类型",
    "violation_facts": "违法事实",
    "penalty_content": "处罚内容",
    "licence_affected": "暂扣或吊销证照名称及编号",
    "legal_representative": "法定代表人",
    "licence_class": "许可类别",
    "licence_name": "许可证书名称",
    "licence_no": "许可编号",
    "licence_content": "许可内容",
    "as_of": "截至日期",
}

# 处罚类别: the kinds of 行政处罚 of 行政处罚法 (2021) art. 9, with the names the credit platform's data standard
# writes them by.
PENALTY_CLASSES = {
    "warning": "警告",
    "criticism": "通报批评",
    "fine": "罚款",
    "confiscate_gains": "没收违法所得",
    "confiscate_property": "没收非法财物",
    "suspend_licence": "暂扣许可证件",
    "lower_qualification": "降低资质等级",
    "revoke_licence": "吊销许可证件",
    "restrict_business": "限制开展生产经营活动",
    "suspend_business": "责令停产停业",
    "close": "责令关闭",
    "restrict_practice": "限制从业",
    "detention": "行政拘留",
    "other": "其他",
}
# 许可类别 of the credit platform's licensing data standard (行政许可法 art. 12).
LICENCE_CLASSES = {
    "ordinary": "普通",
    "special": "特许",
    "approval": "认可",
    "verification": "核准",
    "registration": "登记",
    "other": "其他",
}

# Types only a 司法行政部门 (Agency.supervises) publishes: the region's 负面清单 is its finding, not an agency's.
SUPERVISOR_TYPES = ("negative_list",)
# What a negative_list (负面清单) entry counts of a matter (backend/supervision/negative_list.py).
NEGATIVE_LIST_FIGURES = ("complaints", "corrections", "withdrawals", "overdue", "deductions")

# What an exemption_list (减免责清单, 包容审慎监管) grants for a matter under its conditions.
EXEMPTION_MEASURES = {
    "no_penalty": "不予处罚",
    "mitigated": "减轻处罚",
    "lenient": "从轻处罚",
}


class Disclosure(Searchable, Model):
    """One item an agency must disclose. The submitted original is kept; only ``public`` is ever shown."""

    __tablename__ = "disclosures"
    __search__ = DISCLOSURES
    __table_args__ = (
        UniqueConstraint("agency_id", "external_id"),
        Index("ix_disclosures_agency_status", "agency_id", "status"),
        Index("ix_disclosures_agency_phase_type", "agency_id", "phase", "type"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    phase: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(String(6))
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_until: Mapped[dt.date | None] = mapped_column(Date)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document_no: Mapped[str | None] = mapped_column(String(100))
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    # The enforcement case a decision ends (its records and legal review), and what it decided.
    case_no: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(50))
    subject_type: Mapped[str | None] = mapped_column(String(16))
    subject_name: Mapped[str | None] = mapped_column(String(200))
    # For a person the ID number: stored for the agency and supervisors, never public.
    subject_id: Mapped[str | None] = mapped_column(String(64))
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)

    # What passed the privacy gate: the only text that is ever shown or indexed.
    public: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    privacy_report: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)  # kind -> field -> count
    content_hash: Mapped[str] = mapped_column(String(64))

    status: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    publish_deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # Published after its deadline: stays true for ever, it counts against the on-time rate.
    published_late: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Penalties leave public view when their disclosure period ends (see DISCLOSURE_PERIODS).
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    expired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(String(32))
    withdrawal_explanation: Mapped[str | None] = mapped_column(Text)
    withdrawal_document_no: Mapped[str | None] = mapped_column(String(100))
    # Transparency log: the entry of the current public content, and of the withdrawal or expiry.
    log_index: Mapped[int | None] = mapped_column(Integer)
    removal_log_index: Mapped[int | None] = mapped_column(Integer)
    # Salts of the log's commitments: the content's stays private (so a withdrawn text cannot be
    # guessed from the log), the withdrawal notice's is published with the notice.
    commitment_salt: Mapped[str | None] = mapped_column(String(32))
    notice_salt: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    # Its submissions held for approval, the latest last (read by the agency's view of the item).
    approvals: Mapped[list[ApprovalRequest]] = relationship(order_by="ApprovalRequest.id", viewonly=True, lazy="select")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_public(self) -> bool:
        return self.status == Status.published

    @property
    def public_date(self) -> dt.date | None:
        """The date citizens see and sort by: the decision date, else the day it was published."""
        return _public_date(self.decision_date, self.published_at)

    @property
    def published_on(self) -> dt.date | None:
        """The day it was published, in Beijing (公开于)."""
        return china_date(self.published_at) if self.published_at else None

    @property
    def type_label(self) -> str:
        return LABELS[self.type]

    @property
    def approval(self) -> ApprovalRequest | None:
        """The latest submission held for approval, if any."""
        return self.approvals[-1] if self.approvals else None

    @property
    def overdue(self) -> bool:
        """Published late, or still pending past its deadline."""
        return self.published_late or (
            self.status == Status.pending and self.publish_deadline is not None and today() > self.publish_deadline
        )

    @property
    def working_days_left(self) -> int | None:
        """Until a pending item's deadline; negative: working days late. Counted on the calendar this process
        has loaded (the reading services sync it first)."""
        return workdays.working_days_left(self.publish_deadline, today()) if self.status == Status.pending else None

    @property
    def search_id(self) -> str:
        return self.id

    def search_document(self) -> dict[str, Any] | None:
        if not self.is_public:
            return None
        return _search_body(
            self.public,
            self.document_no,
            self.phase,
            self.type,
            self.category,
            self.agency.code,
            self.region_code,
            self.public_date,
        )

    @classmethod
    def load_for_search(cls, session: Session, ids: list[str]) -> dict[str, Disclosure]:
        return {d.id: d for d in session.scalars(select(cls).where(cls.id.in_(ids)))}

    @classmethod
    def load_changes(
        cls, session: Session, ids: list[str], selecting: Select[tuple[str]]
    ) -> dict[str, Document | Deletion]:
        """The indexer's read: only the columns a document is made of, no ORM rows."""
        rows = session.execute(cls._change_columns().where(cls.id.in_(selecting)))
        return {row[0]: _change_of(row) for row in rows}

    @classmethod
    def stream_changes(cls, session: Session) -> Iterator[Document | Deletion]:
        """A rebuild's read, the indexer's way: columns, not ORM rows (a third of the time per item)."""
        query = cls._change_columns().where(cls.status == Status.published).order_by(cls.id)
        for row in session.execute(query.execution_options(yield_per=1000)):
            yield _change_of(row)

    @classmethod
    def _change_columns(cls) -> Select[Any]:
        return select(
            cls.id,
            cls.version,
            cls.status,
            cls.public,
            cls.document_no,
            cls.phase,
            cls.type,
            cls.category,
            Agency.code,
            cls.region_code,
            cls.decision_date,
            cls.published_at,
        ).join(Agency, Agency.id == cls.agency_id)

    @classmethod
    def select_for_search(cls) -> Select[tuple[Disclosure]]:
        return select(cls).where(cls.status == Status.published).order_by(cls.id)


def _change_of(row: Any) -> Document | Deletion:
    """A row of ``Disclosure._change_columns`` as what the index must hold."""
    id_, version, status, public, number, phase, type_, category, agency, region, decided, published = row
    if status != Status.published:
        return Deletion(id_, version)
    date = _public_date(decided, published)
    return Document(id_, version, _search_body(public, number, phase, type_, category, agency, region, date))


def _public_date(decision_date: dt.date | None, published_at: dt.datetime | None) -> dt.date | None:
    if decision_date:
        return decision_date
    return china_date(published_at) if published_at else None


# Detail keys whose values are codes or figures, not words a citizen reads or searches for (a recording rule,
# a penalty class like "fine", an amount like "5000.00"): kept out of the indexed text and so of snippets.
_CODED_DETAILS = frozenset(
    {
        "step",
        "categories",
        "recording",
        "measure",
        "penalty_classes",
        "licence_class",
        "fine_amount",
        "confiscation_amount",
    }
)


def flatten_text(prefix: str, value: Any) -> dict[str, str]:
    """Every string in a JSON value by its path (details/entries/0/range): what the privacy gate masks and
    what search indexes of the type-specific details."""
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in flatten_text(f"{prefix}/{key}", sub).items()}
    if isinstance(value, list):
        return {k: v for i, sub in enumerate(value) for k, v in flatten_text(f"{prefix}/{i}", sub).items()}
    return {prefix: value} if isinstance(value, str) else {}


def _search_body(
    public: dict[str, Any],
    document_no: str | None,
    phase: str,
    type_: str,
    category: str | None,
    agency_code: str,
    region_code: str,
    date: dt.date | None,
) -> dict[str, Any]:
    """The indexed document of a public item: only text that passed the privacy gate. The details' text
    (a benchmark's circumstances and ranges, a list's matters) is searched with the content."""
    details = [
        text
        for path, text in flatten_text("details", public.get("details") or {}).items()
        if not _CODED_DETAILS.intersection(path.split("/"))
    ]
    return {
        "title": public.get("title") or "",
        "content": "\n".join(text for text in (public.get("content"), *details) if text),
        "legal_basis": public.get("legal_basis") or "",
        "subject": public.get("subject_name") or "",
        "document_no": document_no or "",
        "phase": phase,
        "type": type_,
        "category": category,
        "agency": agency_code,
        "region": region_ancestors(region_code),
        "date": date.isoformat() if date else None,
    }


class DisclosureVersion(Model):
    """Every distinct submission of an item, kept: a correction never erases what was published before."""

    __tablename__ = "disclosure_versions"
    __table_args__ = (UniqueConstraint("disclosure_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disclosure_id: Mapped[str] = mapped_column(ForeignKey("disclosures.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted: Mapped[dict[str, Any]] = mapped_column(JSON)
    public: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    disclosure: Mapped[Disclosure] = relationship()


class ApprovalRequirement(Model):
    """A 司法局's rule: the agency's items of ``type`` go public only once approved."""

    __tablename__ = "approval_requirements"
    __table_args__ = (UniqueConstraint("agency_id", "type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    type: Mapped[str] = mapped_column(String(32))
    # For inspection_list: the agency (the region's 市场监督管理局) whose handler accounts approve too.
    approver_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    set_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id], lazy="joined", innerjoin=True)
    approver_agency: Mapped[Agency | None] = relationship(foreign_keys=[approver_agency_id], lazy="joined")


class ApprovalState(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    returned = "returned"
    superseded = "superseded"  # the agency pushed the item again without asking for publication


class ApprovalRequest(Model):
    """One submission held for approval: what was pushed, kept until an approver releases or returns it.

    The item's published version stays public meanwhile; approval applies ``submitted`` to the item."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_state", "state", "agency_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disclosure_id: Mapped[str] = mapped_column(ForeignKey("disclosures.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    type: Mapped[str] = mapped_column(String(32))
    submitted: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reasons: Mapped[str | None] = mapped_column(Text)
    log_index: Mapped[int | None] = mapped_column(Integer)

    disclosure: Mapped[Disclosure] = relationship(lazy="joined", innerjoin=True)
