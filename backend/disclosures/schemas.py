"""Publishing and public schemas. Required fields per type are checked here, and errors name the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import current_app

from backend.agencies.schemas import REGION_CODE
from backend.cases.models import Recording, Step
from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime

from .models import (
    EXEMPTION_MEASURES,
    LABELS,
    LICENCE_CLASSES,
    NEGATIVE_LIST_FIGURES,
    PENALTY_CLASSES,
    PHASE_OF_TYPE,
    TYPES,
    ApprovalState,
    Category,
    Disclosure,
    Phase,
    Status,
    WithdrawalReason,
)

MAX_BULK_ITEMS = 500
FEN = Decimal("0.01")
MAX_YUAN = Decimal("1e12")


def public_url(item: Disclosure) -> str:
    """The item's page for citizens (where its QR codes and chat replies lead)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/d/{item.id}"


class AttachmentSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    url = ma.fields.Url(required=True, schemes={"http", "https"}, validate=ma.validate.Length(max=1000))
    sha256 = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lowercase hex"))
    size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=10 * 1024**3))
    media_type = ma.fields.String(validate=ma.validate.Length(max=100))


def _text(required: bool = True, max_length: int = 2000) -> ma.fields.String:
    return ma.fields.String(required=required, validate=ma.validate.Length(min=1, max=max_length))


class PowerDetailsSchema(Schema):
    """执法事项清单 entry."""

    matter = _text(max_length=200)
    code = _text(required=False, max_length=64)  # 事项编码: what cases and the review catalogue name it by
    domain = _text(required=False, max_length=50)  # 执法领域
    basis = _text()
    procedure = _text(required=False)
    time_limit = _text(required=False, max_length=200)


class InspectionListDetailsSchema(Schema):
    """随机抽查事项清单 entry: who inspects, on what basis, whom, what, how many, how, how often."""

    subject = _text(max_length=200)
    basis = _text()
    targets = _text()
    content = _text()
    ratio = _text(max_length=100)
    method = _text(max_length=200)
    frequency = _text(max_length=100)


class StaffSchema(Schema):
    name = _text(max_length=50)
    post = _text(max_length=100)


class WindowNoticeDetailsSchema(Schema):
    """Service-window staff with their posts, and where to complain."""

    staff = ma.fields.List(ma.fields.Nested(StaffSchema), required=True, validate=ma.validate.Length(min=1, max=100))
    complaint_channel = _text(required=False, max_length=200)


class AnnualStatisticsDetailsSchema(Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=2000, max=2100))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(validate=ma.validate.Range(min=0)))
    region = ma.fields.String(
        validate=REGION_CODE,
        metadata={"description": "a 司法行政部门's roll-up of this division and below (due 15 January)"},
    )


class CatalogueMatterSchema(Schema):
    code = _text(max_length=64)
    name = _text(max_length=200)


class CatalogueMatter(ma.fields.Field):
    """A 审核目录清单 entry: ``{code, name}`` (the 事项编码 cases are matched on), or a name alone, as catalogues
    were published before entries carried codes (see ``cases.policy.Catalogue`` for how each matches)."""

    _name = _text(max_length=200)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | dict[str, str]:
        if isinstance(value, dict):
            return CatalogueMatterSchema().load(value)
        return self._name.deserialize(value)


class ReviewCatalogueDetailsSchema(Schema):
    """审核目录清单: the matters whose decisions need legal review before they are made."""

    matters = ma.fields.List(
        CatalogueMatter(),
        required=True,
        validate=ma.validate.Length(min=1, max=500),
    )
    materials = ma.fields.List(
        _text(max_length=100),
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "送审材料 every submission for review must carry (default: the platform's list)"},
    )


class AvMatterSchema(Schema):
    step = ma.fields.String(required=True, validate=ma.validate.OneOf(list(Step)))
    categories = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(Category))),
        validate=ma.validate.Length(min=1, max=len(Category)),
        metadata={"description": "the case categories it applies to; absent: every category"},
    )
    recording = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Recording)),
        metadata={"description": "text 文字记录即可, av 音像记录, continuous 全程音像记录"},
    )
    matter = _text(required=False, max_length=200)


class AvMatterListDetailsSchema(Schema):
    """音像记录事项清单: which steps, in which case categories, need audio-video, which need it in full from
    start to end, and which a text record covers (seed 001 二(二)2). A step it does not list needs text."""

    matters = ma.fields.List(
        ma.fields.Nested(AvMatterSchema), required=True, validate=ma.validate.Length(min=1, max=200)
    )

    @ma.validates_schema
    def once_each(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Each step once for every category and once per category, so the list never contradicts itself."""
        seen: set[tuple[str, str | None]] = set()
        errors: dict[int, dict[str, list[str]]] = {}
        for index, matter in enumerate(data.get("matters") or []):
            for category in matter.get("categories") or [None]:
                if (matter["step"], category) in seen:
                    errors[index] = {"step": [f"{matter['step']} listed twice for {category or 'every category'}"]}
                seen.add((matter["step"], category))
        if errors:
            raise ma.ValidationError({"matters": errors})


class DiscretionEntrySchema(Schema):
    circumstances = _text(max_length=500)
    grade = _text(required=False, max_length=50)
    range = _text(max_length=200)


class DiscretionBenchmarkDetailsSchema(Schema):
    """行政处罚裁量基准 of one matter: under which circumstances (违法情节) which range of penalty applies."""

    matter = _text(max_length=200)
    matter_code = _text(required=False, max_length=64)
    basis = _text()
    entries = ma.fields.List(
        ma.fields.Nested(DiscretionEntrySchema), required=True, validate=ma.validate.Length(min=1, max=50)
    )


class ExemptionSchema(Schema):
    matter = _text(max_length=200)
    matter_code = _text(required=False, max_length=64)
    measure = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(EXEMPTION_MEASURES)),
        metadata={"description": ", ".join(f"{k} {v}" for k, v in EXEMPTION_MEASURES.items())},
    )
    conditions = _text(max_length=500)
    basis = _text()


class ExemptionListDetailsSchema(Schema):
    """减免责清单 (包容审慎监管): matters where a first minor violation, corrected in time, is not penalised
    (不予处罚), or is penalised less (减轻处罚, 从轻处罚), and on what conditions and basis."""

    matters = ma.fields.List(
        ma.fields.Nested(ExemptionSchema), required=True, validate=ma.validate.Length(min=1, max=500)
    )


class NegativeListFiguresSchema(Schema):
    complaints = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    corrections = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    withdrawals = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(list(WithdrawalReason))),
        values=ma.fields.Integer(validate=ma.validate.Range(min=0)),
        required=True,
    )
    overdue = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    deductions = ma.fields.Float(required=True, validate=ma.validate.Range(min=0))


class NegativeListEntrySchema(Schema):
    agency = _text(max_length=40)
    agency_name = _text(max_length=200)
    matter = _text(max_length=200)
    figures = ma.fields.Nested(NegativeListFiguresSchema, required=True)
    crossed = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(list(NEGATIVE_LIST_FIGURES))), required=True)
    entered_on = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"))


class NegativeListDetailsSchema(Schema):
    """行政执法负面清单 a 司法行政部门 publishes (seed 004): the matters of its region on the list as of a day,
    each with the figures that put it there over the window and the day it went on."""

    as_of = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"))
    entries = ma.fields.List(
        ma.fields.Nested(NegativeListEntrySchema), required=True, validate=ma.validate.Length(max=5000)
    )


class Yuan(ma.fields.Decimal):
    """An amount in yuan, non-negative, to the fen; kept as a string ("5000.00") so JSON holds it exactly."""

    default_error_messages = {"amount": "a non-negative amount in yuan with at most two decimals (fen)"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        amount: Decimal = super()._deserialize(value, attr, data, **kwargs)
        if amount < 0 or amount >= MAX_YUAN or amount != amount.quantize(FEN):
            raise self.make_error("amount")
        return f"{amount:.2f}"


class FreeDetailsSchema(Schema):
    class Meta:
        unknown = ma.INCLUDE


class DecisionDetailsSchema(FreeDetailsSchema):
    """A decision's details are free, but amounts the annual statistics add up and the 双公示 fields the credit
    platform reads (backend/exchange/credit.py) are checked; which of those a decision must carry: credit_errors."""

    fine_amount = Yuan(metadata={"description": '罚款金额 in yuan, e.g. 5000 or "5000.00" (exported in 万元)'})
    confiscation_amount = Yuan(metadata={"description": "没收违法所得、没收非法财物的金额 in yuan (exported in 万元)"})
    penalty_classes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(PENALTY_CLASSES))),
        validate=ma.validate.Length(min=1, max=len(PENALTY_CLASSES)),
        metadata={
            "description": "处罚类别 (行政处罚法 art. 9): " + ", ".join(f"{k} {v}" for k, v in PENALTY_CLASSES.items())
        },
    )
    violation_type = _text(required=False, max_length=200)  # 违法行为类型
    violation_facts = _text(required=False, max_length=5000)  # 违法事实
    penalty_content = _text(required=False, max_length=2000)  # 处罚内容
    licence_affected = _text(required=False, max_length=200)  # 暂扣或吊销证照名称及编号
    legal_representative = _text(required=False, max_length=50)  # 法定代表人 (an organization's, public with it)
    licence_class = ma.fields.String(
        validate=ma.validate.OneOf(list(LICENCE_CLASSES)),
        metadata={"description": "许可类别: " + ", ".join(f"{k} {v}" for k, v in LICENCE_CLASSES.items())},
    )
    licence_name = _text(required=False, max_length=200)  # 许可证书名称
    licence_no = _text(required=False, max_length=100)  # 许可编号
    licence_content = _text(required=False, max_length=2000)  # 许可内容


# 双公示 fields a decision must carry in its details (the 信用中国 data standard's required items); a decision
# that imposes nothing (outcome 不予处罚, 不予许可) is not a credit record and needs none of them.
CREDIT_REQUIRED = {
    "penalty": ("penalty_classes", "violation_type", "violation_facts", "penalty_content"),
    "licensing": ("licence_class", "licence_content"),
}
# Amounts and documents a penalty class makes required.
CLASS_REQUIRES = {
    "fine": "fine_amount",
    "confiscate_gains": "confiscation_amount",
    "confiscate_property": "confiscation_amount",
    "suspend_licence": "licence_affected",
    "revoke_licence": "licence_affected",
}


def credit_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """The 双公示 fields a penalty or licensing decision lacks, by details key (有效期自 for licensing is the
    top-level effective_from; 处罚依据 is legal_basis, already required)."""
    category = data.get("category")
    if data.get("type") != "decision" or category not in CREDIT_REQUIRED:
        return {}
    if (data.get("outcome") or "").startswith("不予"):
        return {}
    details = data.get("details") or {}
    needed = list(CREDIT_REQUIRED[category])
    if category == "penalty":
        if data.get("subject_type") == "organization":
            needed.append("legal_representative")
        needed += [CLASS_REQUIRES[c] for c in details.get("penalty_classes") or [] if c in CLASS_REQUIRES]
    message = f"required for a {category} decision (信用中国 双公示)"
    errors = {field: [message] for field in needed if details.get(field) in (None, "", [])}
    if category == "licensing" and not data.get("effective_from"):
        errors["effective_from"] = [f"有效期自 {message}"]
    return errors


DETAILS_SCHEMAS: dict[str, type[Schema]] = {
    "power": PowerDetailsSchema,
    "inspection_list": InspectionListDetailsSchema,
    "window_notice": WindowNoticeDetailsSchema,
    "annual_statistics": AnnualStatisticsDetailsSchema,
    "review_catalogue": ReviewCatalogueDetailsSchema,
    "av_matter_list": AvMatterListDetailsSchema,
    "discretion_benchmark": DiscretionBenchmarkDetailsSchema,
    "exemption_list": ExemptionListDetailsSchema,
    "negative_list": NegativeListDetailsSchema,
    "decision": DecisionDetailsSchema,
}

# Top-level fields each type must carry beyond phase, type and title.
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "agency_profile": ("content",),
    "power": ("legal_basis", "details"),
    "inspection_list": ("details",),
    "service_guide": ("content",),
    "procedure": ("content",),
    "remedy": ("content",),
    "officer_exam_list": ("content",),
    "review_catalogue": ("details",),
    "av_matter_list": ("details",),
    "discretion_benchmark": ("details",),
    "exemption_list": ("details",),
    "negative_list": ("details",),
    "window_notice": ("details",),
    "on_site_notice": ("content",),
    "decision": ("category", "document_no", "decision_date", "subject_type", "subject_name", "legal_basis"),
    "inspection_result": ("decision_date", "subject_type", "subject_name", "content"),
    "annual_statistics": ("details",),
}


class DisclosurePutSchema(Schema):
    """An item as an agency's case system submits it. An optional field may be null: null is absent."""

    phase = ma.fields.String(required=True, validate=ma.validate.OneOf(list(Phase)))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(PHASE_OF_TYPE)))
    title = _text(max_length=200)
    content = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100_000))
    legal_basis = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=10_000))
    region = ma.fields.String(
        allow_none=True, validate=REGION_CODE, metadata={"description": "default: the agency's region"}
    )
    effective_from = ma.fields.Date(allow_none=True)
    effective_until = ma.fields.Date(allow_none=True)
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema), allow_none=True, validate=ma.validate.Length(max=50)
    )
    details = ma.fields.Dict(
        allow_none=True, metadata={"description": "type-specific fields (power, inspection_list, ...)"}
    )
    category = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(list(Category)))
    document_no = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=1, max=100), metadata={"description": "文书号"}
    )
    decision_date = ma.fields.Date(allow_none=True)
    case_no = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "the case this decision ends; a major case needs an approved legal review first"},
    )
    outcome = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "what was decided, e.g. 准予许可, 罚款, 不予处罚 (annual statistics count it)"},
    )
    subject_type = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["person", "organization"]))
    subject_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=200))
    subject_id = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "统一社会信用代码, or a person's ID number (never public)"},
    )
    minor = ma.fields.Boolean(load_default=False, metadata={"description": "a minor's case: never public"})
    confidential = ma.fields.Boolean(load_default=False, metadata={"description": "secret or private: never public"})
    publish = ma.fields.Boolean(
        load_default=True, metadata={"description": "false registers the item (the clock runs) without publishing"}
    )

    @ma.validates_schema
    def check_type(self, data: dict[str, Any], **_kwargs: Any) -> None:
        type_ = data.get("type")
        if type_ is None or data.get("phase") is None:
            return
        errors: dict[str, list[str]] = {}
        if PHASE_OF_TYPE[type_] != data["phase"]:
            errors["type"] = [
                f"{type_} belongs to phase {PHASE_OF_TYPE[type_]}; types of {data['phase']}: "
                + ", ".join(TYPES[Phase(data["phase"])])
            ]
        for field in REQUIRED_BY_TYPE[type_]:
            if data.get(field) in (None, "", {}):
                errors[field] = [f"required for type {type_}"]
        if type_ == "inspection_result" and data.get("category", "inspection") != "inspection":
            errors["category"] = ["an inspection_result is of category inspection"]
        if (
            data.get("effective_from")
            and data.get("effective_until")
            and data["effective_until"] < data["effective_from"]
        ):
            errors["effective_until"] = ["before effective_from"]
        if data.get("details") is not None and "details" not in errors:
            details_errors = DETAILS_SCHEMAS.get(type_, FreeDetailsSchema)().validate(data["details"])
            if details_errors:
                errors["details"] = details_errors
        if "details" not in errors:
            missing = credit_errors(data)
            if "effective_from" in missing:
                errors["effective_from"] = missing.pop("effective_from")
            if missing:
                errors["details"] = missing
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def normalize(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data["type"] == "inspection_result":
            data["category"] = "inspection"
        if data["type"] in DETAILS_SCHEMAS and data.get("details") is not None:
            data["details"] = DETAILS_SCHEMAS[data["type"]]().load(data["details"])
        return data


class WithdrawSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(list(WithdrawalReason)))
    explanation = ma.fields.String(required=True, validate=ma.validate.Length(min=4, max=2000))
    document_no = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100), metadata={"description": "the document that revoked it"}
    )


class BulkItemSchema(DisclosurePutSchema):
    external_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class BulkRequestSchema(Schema):
    # Items are validated one by one in the service, so one bad item does not fail the others.
    items = ma.fields.List(ma.fields.Raw(), required=True, validate=ma.validate.Length(min=1))


class DeadlineStateSchema(Schema):
    publish_deadline = ma.fields.Date(allow_none=True)
    deadline_provisional = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    working_days_left = ma.fields.Integer(
        allow_none=True, metadata={"description": "until the deadline; negative: working days late"}
    )


class AgencyRefSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class ApprovalStateSchema(Schema):
    """A submission held for approval (an ApprovalRequest), as its agency sees it."""

    id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": ", ".join(ApprovalState)})
    content_hash = ma.fields.String(metadata={"description": "the held submission's digest"})
    submitted_at = BeijingDateTime()
    decided_at = BeijingDateTime(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    reasons = ma.fields.String(allow_none=True, metadata={"description": "why it was returned"})


class DisclosureSchema(DeadlineStateSchema):
    """An item as its own agency sees it (a Disclosure): the original, what is public, and the clock."""

    id = ma.fields.String(dump_only=True)
    external_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(Status)})
    phase = ma.fields.String()
    type = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    title = ma.fields.String()
    content = ma.fields.String()
    legal_basis = ma.fields.String(allow_none=True)
    region = ma.fields.String(attribute="region_code")
    effective_from = ma.fields.Date(allow_none=True)
    effective_until = ma.fields.Date(allow_none=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))
    details = ma.fields.Dict()
    document_no = ma.fields.String(allow_none=True)
    decision_date = ma.fields.Date(allow_none=True)
    subject_type = ma.fields.String(allow_none=True)
    subject_name = ma.fields.String(allow_none=True)
    subject_id = ma.fields.String(allow_none=True)
    minor = ma.fields.Boolean()
    confidential = ma.fields.Boolean()
    public = ma.fields.Dict(metadata={"description": "exactly what citizens see"})
    privacy_report = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer()),
        metadata={"description": 'what the privacy gate masked: kind -> field -> count ("*": fields not recorded)'},
    )
    published_at = BeijingDateTime(allow_none=True)
    corrected_at = BeijingDateTime(allow_none=True)
    expires_on = ma.fields.Date(allow_none=True)
    withdrawn_at = BeijingDateTime(allow_none=True)
    withdrawal_reason = ma.fields.String(allow_none=True)
    withdrawal_explanation = ma.fields.String(allow_none=True)
    log_index = ma.fields.Integer(allow_none=True)
    removal_log_index = ma.fields.Integer(allow_none=True)
    case_no = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    public_url = ma.fields.Function(
        lambda item: public_url(item) if item.is_public else None, allow_none=True, metadata={"type": "string"}
    )
    approval = ma.fields.Nested(
        ApprovalStateSchema,
        allow_none=True,
        metadata={"description": "its latest submission held for approval; a public item stays as it was meanwhile"},
    )


class DisclosureListArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(list(Status)))
    overdue = ma.fields.Boolean()
    phase = ma.fields.String(validate=ma.validate.OneOf(list(Phase)))
    type = ma.fields.String(validate=ma.validate.OneOf(list(PHASE_OF_TYPE)))


DisclosureListSchema = page_schema(DisclosureSchema, "DisclosureListSchema")


class BulkResultSchema(Schema):
    index = ma.fields.Integer()
    external_id = ma.fields.String(allow_none=True)
    status = ma.fields.Integer(metadata={"description": "201 created, 200 updated or unchanged, 422 invalid"})
    id = ma.fields.String()
    result = ma.fields.String(metadata={"description": "created, updated, unchanged or invalid"})
    errors = ma.fields.Dict()


class BulkResponseSchema(Schema):
    results = ma.fields.List(ma.fields.Nested(BulkResultSchema))
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    invalid = ma.fields.Integer()


class DeadlineExplanationSchema(DeadlineStateSchema):
    start = ma.fields.Date()
    working_days = ma.fields.Integer()
    skipped = ma.fields.List(ma.fields.Dict())
    makeup_days = ma.fields.List(ma.fields.Date())
    explanation = ma.fields.String()


# -- public ----------------------------------------------------------------------------
class PublicDisclosureSchema(Schema):
    """A published item as citizens see it (a Disclosure): only its public content, never the original."""

    id = ma.fields.String()
    agency = ma.fields.Nested(AgencyRefSchema)
    phase = ma.fields.String()
    type = ma.fields.String()
    type_label = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    title = ma.fields.String(attribute="public.title")
    content = ma.fields.String(attribute="public.content")
    legal_basis = ma.fields.String(attribute="public.legal_basis", allow_none=True)
    document_no = ma.fields.String(allow_none=True)
    decision_date = ma.fields.Date(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    subject_type = ma.fields.String(allow_none=True)
    # The privacy gate's name (masked for a person); get, not attribute=: null, never absent.
    subject_name = ma.fields.Function(
        lambda item: item.public.get("subject_name"), allow_none=True, metadata={"type": "string"}
    )
    region = ma.fields.String(attribute="region_code")
    effective_from = ma.fields.Date(allow_none=True)
    effective_until = ma.fields.Date(allow_none=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), attribute="public.attachments")
    details = ma.fields.Dict(attribute="public.details")
    published_at = BeijingDateTime()
    published_on = ma.fields.Date(metadata={"description": "the day it was published, in Beijing (公开于)"})
    corrected_at = BeijingDateTime(allow_none=True, metadata={"description": "set when the item was corrected"})
    log_index = ma.fields.Integer(metadata={"description": "transparency log entry of this content"})
    commitment_salt = ma.fields.String(
        metadata={"description": "with the content, recomputes the log entry's commitment"}
    )
    url = ma.fields.Function(public_url, metadata={"type": "string"})


PUBLIC_DATE = "the decision date, or else the day it was published in Beijing"


class DisclosureSearchArgsSchema(PageArgsSchema):
    q = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    phase = ma.fields.String(validate=ma.validate.OneOf(list(Phase)))
    type = ma.fields.String(validate=ma.validate.OneOf(list(PHASE_OF_TYPE)))
    category = ma.fields.String(validate=ma.validate.OneOf(list(Category)))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    region = ma.fields.String(validate=REGION_CODE)
    date_from = ma.fields.Date(metadata={"description": "first day (a Beijing calendar day) of the item's date"})
    date_to = ma.fields.Date(metadata={"description": "last day (a Beijing calendar day), inclusive"})
    sort = ma.fields.String(load_default="relevance", validate=ma.validate.OneOf(["relevance", "date"]))


class SearchItemSchema(Schema):
    """A search hit (reading.Found): its item's public fields and the text that matched."""

    id = ma.fields.String(attribute="item.id")
    title = ma.fields.String(attribute="item.public.title")
    snippet = ma.fields.String(metadata={"description": "HTML-escaped text with matches in <em>"})
    agency = ma.fields.Nested(AgencyRefSchema, attribute="item.agency")
    phase = ma.fields.String(attribute="item.phase")
    type = ma.fields.String(attribute="item.type")
    category = ma.fields.String(attribute="item.category", allow_none=True)
    date = ma.fields.Date(attribute="item.public_date", allow_none=True, metadata={"description": PUBLIC_DATE})


class SearchPageItemSchema(SearchItemSchema):
    """A search hit as the search page shows it: with its type's label and the title as matched."""

    type_label = ma.fields.String(attribute="item.type_label")
    title_highlight = ma.fields.String(allow_none=True, metadata={"description": "HTML-escaped, matches in <em>"})


class FacetValueSchema(Schema):
    value = ma.fields.String()
    label = ma.fields.String()
    count = ma.fields.Integer()


DisclosureSearchSchema = page_schema(
    SearchItemSchema,
    "DisclosureSearchSchema",
    facets=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.Nested(FacetValueSchema))),
)


# -- pre-publication approval (admin) ------------------------------------------------------------
class ApprovalRequirementSchema(Schema):
    """A 司法局's requirement (an ApprovalRequirement)."""

    agency = ma.fields.Nested(AgencyRefSchema)
    type = ma.fields.String()
    type_label = ma.fields.Function(lambda r: LABELS[r.type])
    approver_agency = ma.fields.Nested(AgencyRefSchema, allow_none=True)
    set_by = ma.fields.String()
    created_at = BeijingDateTime()


class ApprovalRequirementPutSchema(Schema):
    approver_agency = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "inspection_list only: the agency (市场监督管理局) whose handlers approve too"},
    )


class ApprovalRequestSchema(ApprovalStateSchema):
    """A held submission as its approver sees it: what was pushed, and what citizens see now."""

    agency = ma.fields.Nested(AgencyRefSchema, attribute="disclosure.agency")
    type = ma.fields.String()
    type_label = ma.fields.Function(lambda r: LABELS[r.type])
    disclosure_id = ma.fields.String()
    external_id = ma.fields.String(attribute="disclosure.external_id")
    item_status = ma.fields.String(attribute="disclosure.status")
    submitted = ma.fields.Dict(metadata={"description": "the submission as pushed"})
    submitted_by = ma.fields.String()
    public_now = ma.fields.Function(
        lambda r: r.disclosure.public if r.disclosure.is_public else None,
        allow_none=True,
        metadata={"type": "object", "description": "what citizens see of the item now (null: nothing)"},
    )
    log_index = ma.fields.Integer(allow_none=True)


class ApprovalReturnSchema(Schema):
    reasons = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=2000))


ApprovalQueueSchema = page_schema(ApprovalRequestSchema, "ApprovalQueueSchema")
