"""Publishing and public schemas. Required fields per type are checked here, and errors name the field."""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cache
from typing import Any

import marshmallow as ma
from flask import current_app

from backend.agencies.schemas import REGION_CODE
from backend.cases.models import Recording, Step
from backend.extensions.smorest import ErrorSchema, PageArgsSchema, Schema, page_schema, search_page_fields
from backend.timezone import BeijingDateTime

from .models import (
    EXEMPTION_MEASURES,
    LABELS,
    LICENCE_CLASSES,
    NEGATIVE_LIST_FIGURES,
    PENALTY_CLASSES,
    PHASE_OF_TYPE,
    SUPERVISOR_TYPES,
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
    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "file name citizens see, e.g. 行政处罚决定书.pdf (passes the privacy gate)"},
    )
    url = ma.fields.Url(
        required=True,
        schemes={"http", "https"},
        validate=ma.validate.Length(max=1000),
        metadata={"description": "http(s) address the file is downloaded from (up to 1000 characters)"},
    )
    sha256 = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lowercase hex"),
        metadata={
            "description": "SHA-256 of the file, 64 lowercase hex digits, so readers can check what they downloaded"
        },
    )
    size = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0, max=10 * 1024**3),
        metadata={"description": "size of the file in bytes (up to 10 GiB)"},
    )
    media_type = ma.fields.String(
        validate=ma.validate.Length(max=100), metadata={"description": "MIME type, e.g. application/pdf"}
    )


def _text(description: str, required: bool = True, max_length: int = 2000, **metadata: str) -> ma.fields.String:
    return ma.fields.String(
        required=required,
        validate=ma.validate.Length(min=1, max=max_length),
        metadata={"description": f"{description} (up to {max_length} characters)", **metadata},
    )


class PowerDetailsSchema(Schema):
    """执法事项清单 entry."""

    matter = _text("执法事项 name, e.g. 对未取得食品经营许可从事食品经营活动的处罚", max_length=200)
    code = _text(
        "事项编码 the agency gives the matter: cases and the review catalogue name it by this code",
        required=False,
        max_length=64,
    )
    domain = _text("执法领域, e.g. 市场监管", required=False, max_length=50)
    basis = _text("实施依据: the laws and articles the power rests on")
    procedure = _text("办理流程 in brief", required=False)
    time_limit = _text("办理时限, e.g. 自立案之日起九十日内作出处理决定", required=False, max_length=200)


class InspectionListDetailsSchema(Schema):
    """随机抽查事项清单 entry: who inspects, on what basis, whom, what, how many, how, how often."""

    subject = _text("抽查主体: the agency or office that inspects", max_length=200)
    basis = _text("抽查依据: the laws and articles")
    targets = _text("抽查对象: whom it inspects")
    content = _text("抽查内容: what it checks")
    ratio = _text("抽查比例, e.g. 5%", max_length=100)
    method = _text("抽查方式, e.g. 双随机、一公开 现场检查", max_length=200)
    frequency = _text("抽查频次, e.g. 每年一次", max_length=100)


class StaffSchema(Schema):
    name = _text("the staff member's name", max_length=50)
    post = _text("岗位: the post they hold at the window", max_length=100)


class WindowNoticeDetailsSchema(Schema):
    """Service-window staff with their posts, and where to complain."""

    staff = ma.fields.List(
        ma.fields.Nested(StaffSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "the staff on duty at the window, 1 to 100"},
    )
    complaint_channel = _text(
        "where to complain about the window's service, e.g. a phone number", required=False, max_length=200
    )


class AnnualStatisticsDetailsSchema(Schema):
    year = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=2000, max=2100),
        metadata={"description": "the calendar year the statistics cover (2000-2100)"},
    )
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(validate=ma.validate.Range(min=0)),
        metadata={"description": 'counts by kind, e.g. {"penalty": 120, "licensing": 860}; non-negative integers'},
    )
    region = ma.fields.String(
        validate=REGION_CODE,
        metadata={"description": "a 司法行政部门's roll-up of this division and below (due 15 January)"},
    )


class CatalogueMatterSchema(Schema):
    code = _text("事项编码 of the matter (as in the agency's power list)", max_length=64)
    name = _text("事项名称", max_length=200)


class CatalogueMatter(ma.fields.Field):
    """A 审核目录清单 entry: ``{code, name}`` (the 事项编码 cases are matched on), or a name alone, as catalogues
    were published before entries carried codes (see ``cases.policy.Catalogue`` for how each matches)."""

    _name = _text("事项名称", max_length=200)

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
        metadata={
            "description": "1 to 500 matters, each {code, name} (the 事项编码 cases are matched on) or a name alone"
        },
    )
    materials = ma.fields.List(
        _text("a 送审材料, e.g. 案件调查终结报告", max_length=100),
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "送审材料 every submission for review must carry (default: the platform's list)"},
    )


class AvMatterSchema(Schema):
    step = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Step)),
        metadata={"description": "the 执法环节 the rule is for, e.g. on_site_inspection"},
    )
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
    matter = _text("the 执法事项 it concerns, for readers", required=False, max_length=200)


class AvMatterListDetailsSchema(Schema):
    """音像记录事项清单: which steps, in which case categories, need audio-video, which need it in full from
    start to end, and which a text record covers (seed 001 二(二)2). A step it does not list needs text."""

    matters = ma.fields.List(
        ma.fields.Nested(AvMatterSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "1 to 200 rules; each step at most once per case category"},
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
    circumstances = _text("违法情节: the circumstances, e.g. 初次违法且危害后果轻微", max_length=500)
    grade = _text("裁量阶次, e.g. 从轻", required=False, max_length=50)
    range = _text("处罚幅度: the range of penalty, e.g. 罚款五千元以上一万元以下", max_length=200)


class DiscretionBenchmarkDetailsSchema(Schema):
    """行政处罚裁量基准 of one matter: under which circumstances (违法情节) which range of penalty applies."""

    matter = _text("the 执法事项 the benchmark grades", max_length=200)
    matter_code = _text("its 事项编码", required=False, max_length=64)
    basis = _text("处罚依据: the laws and articles")
    entries = ma.fields.List(
        ma.fields.Nested(DiscretionEntrySchema),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "1 to 50 grades: which circumstances call for which range"},
    )


class ExemptionSchema(Schema):
    matter = _text("the 执法事项 concerned", max_length=200)
    matter_code = _text("its 事项编码", required=False, max_length=64)
    measure = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(EXEMPTION_MEASURES)),
        metadata={"description": ", ".join(f"{k} {v}" for k, v in EXEMPTION_MEASURES.items())},
    )
    conditions = _text("适用条件: when the measure applies, e.g. 首次违法、危害后果轻微并及时改正", max_length=500)
    basis = _text("依据: the laws and articles")


class ExemptionListDetailsSchema(Schema):
    """减免责清单 (包容审慎监管): matters where a first minor violation, corrected in time, is not penalised
    (不予处罚), or is penalised less (减轻处罚, 从轻处罚), and on what conditions and basis."""

    matters = ma.fields.List(
        ma.fields.Nested(ExemptionSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "1 to 500 matters with their measure, conditions and basis"},
    )


class NegativeListFiguresSchema(Schema):
    complaints = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "substantiated complaints about the matter in the window"},
    )
    corrections = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "corrections of published decisions in the window"},
    )
    withdrawals = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(list(WithdrawalReason))),
        values=ma.fields.Integer(validate=ma.validate.Range(min=0)),
        required=True,
        metadata={
            "description": "withdrawals in the window, by reason (revoked, "
            "confirmed_illegal, remade, credit_repair, other)"
        },
    )
    overdue = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "items published after their statutory deadline in the window"},
    )
    deductions = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "evaluation points deducted in the window"},
    )


class NegativeListDetailsEntrySchema(Schema):
    agency = _text("the agency's code", max_length=40)
    agency_name = _text("the agency's name", max_length=200)
    matter = _text("the 执法事项 on the list", max_length=200)
    figures = ma.fields.Nested(
        NegativeListFiguresSchema,
        required=True,
        metadata={"description": "the figures over the window that put the matter on the list"},
    )
    crossed = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(NEGATIVE_LIST_FIGURES))),
        required=True,
        metadata={"description": "which figures crossed their threshold"},
    )
    entered_on = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"),
        metadata={"description": "the day the matter went on the list, YYYY-MM-DD"},
    )


class NegativeListDetailsSchema(Schema):
    """行政执法负面清单 a 司法行政部门 publishes (seed 004): the matters of its region on the list as of a day,
    each with the figures that put it there over the window and the day it went on."""

    as_of = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"),
        metadata={"description": "the day the list stands as of, YYYY-MM-DD"},
    )
    entries = ma.fields.List(
        ma.fields.Nested(NegativeListDetailsEntrySchema),
        required=True,
        validate=ma.validate.Length(max=5000),
        metadata={"description": "the matters on the list (up to 5000; empty: none)"},
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


GRANTS = "outcome does not start with 不予"


def credit_condition(name: str) -> dict[str, str]:
    """When the 双公示 rules (credit_errors) make a decision's details field ``name`` required, as the document
    states it (``x-required-when``)."""
    for category, names in CREDIT_REQUIRED.items():
        if name in names:
            return {"x_required_when": f"category is {category} and {GRANTS}"}
    classes = [class_ for class_, needed in CLASS_REQUIRES.items() if needed == name]
    if classes:
        return {"x_required_when": f"category is penalty, {GRANTS} and penalty_classes has {' or '.join(classes)}"}
    if name == "legal_representative":
        return {"x_required_when": f"category is penalty, {GRANTS} and subject_type is organization"}
    return {}


class DecisionDetailsSchema(FreeDetailsSchema):
    """A decision's details are free, but amounts the annual statistics add up and the 双公示 fields the credit
    platform reads (backend/exchange/credit.py) are checked; which of those a decision must carry: credit_errors."""

    fine_amount = Yuan(
        metadata={
            "description": '罚款金额 in yuan (元), up to two decimals, e.g. 5000 or "5000.00"; '
            "the credit export shows it in 万元",
            **credit_condition("fine_amount"),
        }
    )
    confiscation_amount = Yuan(
        metadata={
            "description": "没收违法所得、没收非法财物的金额 in yuan (元), up to two decimals; the credit export "
            "shows it in 万元",
            **credit_condition("confiscation_amount"),
        }
    )
    penalty_classes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(PENALTY_CLASSES))),
        validate=ma.validate.Length(min=1, max=len(PENALTY_CLASSES)),
        metadata={
            "description": "处罚类别 (行政处罚法 art. 9): " + ", ".join(f"{k} {v}" for k, v in PENALTY_CLASSES.items()),
            **credit_condition("penalty_classes"),
        },
    )
    violation_type = _text(
        "违法行为类型 (双公示; required for a penalty)",
        required=False,
        max_length=200,
        **credit_condition("violation_type"),
    )
    violation_facts = _text(
        "违法事实 (双公示; required for a penalty)",
        required=False,
        max_length=5000,
        **credit_condition("violation_facts"),
    )
    penalty_content = _text(
        "处罚内容, e.g. 罚款五千元 (双公示; required for a penalty)",
        required=False,
        max_length=2000,
        **credit_condition("penalty_content"),
    )
    licence_affected = _text(
        "暂扣或吊销证照名称及编号 (required with penalty class suspend_licence or revoke_licence)",
        required=False,
        max_length=200,
        **credit_condition("licence_affected"),
    )
    legal_representative = _text(
        "法定代表人 of an organization (public with it; required for a penalty on an organization)",
        required=False,
        max_length=50,
        **credit_condition("legal_representative"),
    )
    licence_class = ma.fields.String(
        validate=ma.validate.OneOf(list(LICENCE_CLASSES)),
        metadata={
            "description": "许可类别: " + ", ".join(f"{k} {v}" for k, v in LICENCE_CLASSES.items()),
            **credit_condition("licence_class"),
        },
    )
    licence_name = _text("许可证书名称, e.g. 食品经营许可证", required=False, max_length=200)
    licence_no = _text("许可编号 of the certificate", required=False, max_length=100)
    licence_content = _text(
        "许可内容, e.g. 预包装食品销售 (双公示; required for a licence)",
        required=False,
        max_length=2000,
        **credit_condition("licence_content"),
    )


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


# Fields a type requires only in some cases, as the document states it (x-required-when): the 双公示 rules
# (credit_errors) and a case-reporting agency's rule (cases.policy.check_disclosure).
REQUIRED_WHEN: dict[str, dict[str, str]] = {
    "decision": {
        "details": f"category is penalty or licensing and {GRANTS}",
        "effective_from": f"category is licensing and {GRANTS}",
        "case_no": "publish is true, category is licensing, penalty or coercion, and the agency reports its cases",
    }
}


class DisclosurePutSchema(Schema):
    """An item as an agency's case system submits it. An optional field may be null: null is absent."""

    class Meta(Schema.Meta):
        description = (
            "An item as an agency's case system submits it, in the schema of its type (told apart by type). "
            "An optional field may be null: null is absent, and a resubmission without it clears it."
        )

    # The type whose schema this is (see ``variant``); None: the schema of every type, which loads through them.
    for_type: str | None = None

    phase = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Phase)),
        metadata={
            "description": "公开阶段: pre 事前公开, during 事中公示, post 事后公开; must be the phase of the type"
        },
    )
    type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(PHASE_OF_TYPE)),
        metadata={
            "description": "the item's type: " + ", ".join(f"{type_} {LABELS[type_]}" for type_ in PHASE_OF_TYPE)
        },
    )
    title = _text("标题 citizens see, e.g. 某某公司销售过期食品行政处罚决定书", max_length=200)
    content = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=100_000),
        metadata={
            "description": "正文 citizens read, plain text up to 100000 characters (passes the "
            "privacy gate: ID numbers, phones masked)"
        },
    )
    legal_basis = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=10_000),
        metadata={
            "description": "法律依据: the laws and articles, e.g. 《中华人民共和国食品安全法》第一百二十四条 "
            "(up to 10000 characters)"
        },
    )
    region = ma.fields.String(
        allow_none=True, validate=REGION_CODE, metadata={"description": "default: the agency's region"}
    )
    effective_from = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "有效期自 (a licence's, YYYY-MM-DD, Beijing calendar day); required "
            "for a licensing decision that grants"
        },
    )
    effective_until = ma.fields.Date(
        allow_none=True, metadata={"description": "有效期至, YYYY-MM-DD, not before effective_from"}
    )
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema),
        allow_none=True,
        validate=ma.validate.Length(max=50),
        metadata={"description": "up to 50 files (the decision document, a scanned list) citizens can download"},
    )
    details = ma.fields.Dict(
        allow_none=True, metadata={"description": "type-specific fields (power, inspection_list, ...)"}
    )
    category = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(list(Category)),
        metadata={
            "description": "执法类别 of a decision: licensing 行政许可, penalty 行政处罚, coercion 行政强制, "
            "levy 行政征收, fee 行政收费, inspection 行政检查"
        },
    )
    document_no = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=1, max=100), metadata={"description": "文书号"}
    )
    decision_date = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "the day the decision was made, YYYY-MM-DD (Beijing); the "
            "statutory publication clock runs from it"
        },
    )
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
    subject_type = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(["person", "organization"]),
        metadata={
            "description": "行政相对人 kind: person (natural person: name masked, ID never public) or organization"
        },
    )
    subject_name = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "行政相对人 name; a person's is masked to 张某某 in what citizens see"},
    )
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
        if type_ == "inspection_result" and data.get("category", "inspection") != "inspection":
            errors["category"] = ["an inspection_result is of category inspection"]
        if (
            data.get("effective_from")
            and data.get("effective_until")
            and data["effective_until"] < data["effective_from"]
        ):
            errors["effective_until"] = ["before effective_from"]
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
        return data

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        """Load through the schema of the item's type (``variant``), which carries what that type requires; an
        item without a known type is refused here, naming ``type``."""
        type_ = data.get("type") if isinstance(data, dict) and self.for_type is None else None
        if isinstance(type_, str) and type_ in REQUIRED_BY_TYPE:
            return self.variant(type_)().load(data, many=many, partial=partial, unknown=unknown)
        return super().load(data, many=many, partial=partial, unknown=unknown)

    @classmethod
    @cache
    def variant(cls, type_: str) -> type[DisclosurePutSchema]:
        """This schema for items of ``type_``: its required fields (REQUIRED_BY_TYPE) required and not null, its
        details checked by the type's details schema."""
        fields: dict[str, ma.fields.Field] = {
            "type": ma.fields.String(
                required=True,
                validate=ma.validate.OneOf([type_]),
                metadata={
                    "description": f"always {type_} ({LABELS[type_]}): it decides the phase and the required fields"
                },
            ),
            "phase": ma.fields.String(
                required=True,
                validate=ma.validate.OneOf(list(Phase)),
                metadata={"enum": [PHASE_OF_TYPE[type_]], "description": PHASE_DESCRIPTION},
            ),
        }
        required = REQUIRED_BY_TYPE[type_]
        for name in required:
            field = copy.deepcopy(cls._declared_fields[name])
            field.required, field.allow_none = True, False
            if isinstance(field, ma.fields.String | ma.fields.Dict) and not any(
                isinstance(v, ma.validate.OneOf) for v in field.validators
            ):
                field.validators = [*field.validators, ma.validate.Length(min=1)]
            fields[name] = field
        if type_ in DETAILS_SCHEMAS:
            fields["details"] = ma.fields.Nested(
                DETAILS_SCHEMAS[type_],
                required="details" in required,
                allow_none="details" not in required,
                metadata={"description": f"the fields of a {LABELS[type_]}"},
            )
        for name, condition in REQUIRED_WHEN.get(type_, {}).items():
            field = fields.get(name) or copy.deepcopy(cls._declared_fields[name])
            field.metadata = {**field.metadata, "x_required_when": condition}
            fields[name] = field
        name = "".join(part.title() for part in type_.split("_"))
        schema = cls.from_dict(fields, name=f"{name}{cls.__name__.removeprefix('Disclosure')}")
        schema.for_type = type_
        schema.Meta.description = f"{LABELS[type_]} ({type_}, {LABELS[PHASE_OF_TYPE[type_]]})" + (
            "; published by a 司法行政部门 (supervising agency) only" if type_ in SUPERVISOR_TYPES else ""
        )
        return schema

    @classmethod
    def openapi_variants(cls) -> tuple[str, dict[str, type[DisclosurePutSchema]]] | None:
        """The request body is documented as one schema per type, told apart by ``type``."""
        if cls.for_type is not None:
            return None
        return "type", {type_: cls.variant(type_) for type_ in PHASE_OF_TYPE}


class WithdrawSchema(Schema):
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(WithdrawalReason)),
        metadata={
            "description": "why it is taken down: revoked 被依法撤销, confirmed_illegal 确认违法, "
            "remade 要求重新作出, credit_repair 信用修复, other"
        },
    )
    explanation = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=4, max=2000),
        metadata={
            "description": "the explanation citizens see in the notice that replaces the item (4-2000 characters)"
        },
    )
    document_no = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100), metadata={"description": "the document that revoked it"}
    )


class BulkItemSchema(DisclosurePutSchema):
    external_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={
            "description": "the agency's own id of the item (1-128 characters), as in PUT /disclosures/{external_id}"
        },
    )


class BulkRequestSchema(Schema):
    # Items are validated one by one in the service, so one bad item does not fail the others.
    items = ma.fields.List(
        ma.fields.Raw(),
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={"description": "1 to 500 items, each a PUT body with its external_id; checked one by one"},
    )


class DeadlineStateSchema(Schema):
    publish_deadline = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "法定公开时限: the last day to publish, YYYY-MM-DD (Beijing); null "
            "where no statutory deadline applies"
        },
    )
    deadline_provisional = ma.fields.Boolean(
        metadata={
            "description": "true when the holiday calendar of the deadline's year is not "
            "published yet, so the day may move"
        }
    )
    overdue = ma.fields.Boolean(
        metadata={"description": "true when the item is not public and its deadline has passed"}
    )
    working_days_left = ma.fields.Integer(
        allow_none=True, metadata={"description": "until the deadline; negative: working days late"}
    )


class AgencyRefSchema(Schema):
    code = ma.fields.String(metadata={"description": "the agency's code (统一社会信用代码 or the platform's code)"})
    name = ma.fields.String(metadata={"description": "the agency's name"})


class ApprovalStateSchema(Schema):
    """A submission held for approval (an ApprovalRequest), as its agency sees it."""

    id = ma.fields.Integer(metadata={"description": "the submission's number in the approval queue"})
    state = ma.fields.String(metadata={"description": ", ".join(ApprovalState)})
    content_hash = ma.fields.String(metadata={"description": "the held submission's digest"})
    submitted_at = BeijingDateTime(
        metadata={"description": "when it was pushed, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    decided_at = BeijingDateTime(
        allow_none=True,
        metadata={
            "description": "when the approver decided, ISO 8601 with the +08:00 offset "
            "(Beijing time); null while pending"
        },
    )
    decided_by = ma.fields.String(
        allow_none=True, metadata={"description": "the approver's user name; null while pending"}
    )
    reasons = ma.fields.String(allow_none=True, metadata={"description": "why it was returned"})


class DisclosureSchema(DeadlineStateSchema):
    """An item as its own agency sees it (a Disclosure): the original, what is public, and the clock."""

    id = ma.fields.String(
        dump_only=True,
        metadata={"description": "the platform's id of the item (32 hex digits), in its public address /d/{id}"},
    )
    external_id = ma.fields.String(metadata={"description": "the agency's own id of the item"})
    status = ma.fields.String(metadata={"description": ", ".join(Status)})
    phase = ma.fields.String(metadata={"description": "公开阶段: pre, during or post"})
    type = ma.fields.String(metadata={"description": "the item's type, as submitted"})
    category = ma.fields.String(allow_none=True, metadata={"description": "执法类别 of a decision, as submitted"})
    title = ma.fields.String(metadata={"description": "the title as submitted (citizens see public.title)"})
    content = ma.fields.String(metadata={"description": "the text as submitted, before the privacy gate"})
    legal_basis = ma.fields.String(allow_none=True, metadata={"description": "法律依据 as submitted"})
    region = ma.fields.String(
        attribute="region_code", metadata={"description": "6-digit administrative division code the item belongs to"}
    )
    effective_from = ma.fields.Date(allow_none=True, metadata={"description": "有效期自, YYYY-MM-DD"})
    effective_until = ma.fields.Date(allow_none=True, metadata={"description": "有效期至, YYYY-MM-DD"})
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), metadata={"description": "files as submitted"})
    details = ma.fields.Dict(metadata={"description": "type-specific fields as loaded (amounts as strings in yuan)"})
    document_no = ma.fields.String(allow_none=True, metadata={"description": "文书号 as submitted"})
    decision_date = ma.fields.Date(allow_none=True, metadata={"description": "decision day, YYYY-MM-DD"})
    subject_type = ma.fields.String(allow_none=True, metadata={"description": "person or organization"})
    subject_name = ma.fields.String(
        allow_none=True,
        metadata={"description": "the subject's name as submitted (unmasked: only the agency sees this)"},
    )
    subject_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "统一社会信用代码 or ID number as submitted (a person's never public)"},
    )
    minor = ma.fields.Boolean(metadata={"description": "a minor's case: withheld"})
    confidential = ma.fields.Boolean(metadata={"description": "secret or private: withheld"})
    public = ma.fields.Dict(metadata={"description": "exactly what citizens see"})
    privacy_report = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer()),
        metadata={"description": 'what the privacy gate masked: kind -> field -> count ("*": fields not recorded)'},
    )
    published_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when it first went public, ISO 8601 with the +08:00 offset (Beijing time)"},
    )
    corrected_at = BeijingDateTime(
        allow_none=True,
        metadata={
            "description": "when its public content was last corrected, ISO 8601 with the +08:00 offset (Beijing time)"
        },
    )
    expires_on = ma.fields.Date(
        allow_none=True,
        metadata={"description": "the last day of its disclosure period (公示期), YYYY-MM-DD; then it is taken down"},
    )
    withdrawn_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when it was taken down (撤下), ISO 8601 with the +08:00 offset (Beijing time)"},
    )
    withdrawal_reason = ma.fields.String(
        allow_none=True, metadata={"description": "why it was taken down (see the withdraw request)"}
    )
    withdrawal_explanation = ma.fields.String(allow_none=True, metadata={"description": "the explanation citizens see"})
    log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency log entry of its latest public content"}
    )
    removal_log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency log entry of its withdrawal or withholding"}
    )
    case_no = ma.fields.String(allow_none=True, metadata={"description": "the case it ends, as submitted"})
    outcome = ma.fields.String(allow_none=True, metadata={"description": "what was decided, as submitted"})
    version = ma.fields.Integer(metadata={"description": "how many times the item was changed (1: as created)"})
    public_url = ma.fields.Function(
        lambda item: public_url(item) if item.is_public else None,
        allow_none=True,
        metadata={"type": "string", "description": "the page citizens read it on; null while not public"},
    )
    approval = ma.fields.Nested(
        ApprovalStateSchema,
        allow_none=True,
        metadata={"description": "its latest submission held for approval; a public item stays as it was meanwhile"},
    )


class DisclosureListArgsSchema(PageArgsSchema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(list(Status)), metadata={"description": "only items in this status"}
    )
    overdue = ma.fields.Boolean(metadata={"description": "only items past (true) or within (false) their deadline"})
    phase = ma.fields.String(
        validate=ma.validate.OneOf(list(Phase)), metadata={"description": "only items of this phase"}
    )
    type = ma.fields.String(
        validate=ma.validate.OneOf(list(PHASE_OF_TYPE)), metadata={"description": "only items of this type"}
    )


DisclosureListSchema = page_schema(DisclosureSchema, "DisclosureListSchema")


class BulkResultSchema(Schema):
    index = ma.fields.Integer(metadata={"description": "the item's position in the request, from 0"})
    external_id = ma.fields.String(
        allow_none=True, metadata={"description": "the item's external_id, when it had a readable one"}
    )
    status = ma.fields.Integer(metadata={"description": "201 created, 200 updated or unchanged, 422 invalid"})
    id = ma.fields.String(metadata={"description": "the platform's id of the item (absent when invalid)"})
    result = ma.fields.String(metadata={"description": "created, updated, unchanged or invalid"})
    errors = ma.fields.Dict(
        metadata={"description": "what is wrong, by field, as a 422 names it (invalid or conflict only)"}
    )


class BulkResponseSchema(Schema):
    results = ma.fields.List(
        ma.fields.Nested(BulkResultSchema), metadata={"description": "one result per item, in the request's order"}
    )
    created = ma.fields.Integer(metadata={"description": "how many items were created"})
    updated = ma.fields.Integer(metadata={"description": "how many existing items changed"})
    unchanged = ma.fields.Integer(metadata={"description": "how many were resubmitted as they were"})
    invalid = ma.fields.Integer(metadata={"description": "how many were refused"})


class DeadlineExplanationSchema(DeadlineStateSchema):
    start = ma.fields.Date(metadata={"description": "the day the count starts from (the decision date), YYYY-MM-DD"})
    working_days = ma.fields.Integer(metadata={"description": "how many working days the law allows"})
    skipped = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "days not counted: [{date, reason}] (weekends, public holidays)"}
    )
    makeup_days = ma.fields.List(
        ma.fields.Date(), metadata={"description": "weekend days counted because they are official working days (调休)"}
    )
    explanation = ma.fields.String(metadata={"description": "the count in a sentence, in Chinese"})


PHASE_DESCRIPTION = "公开阶段 of the type: pre 事前公开, during 事中公示, post 事后公开"


# -- public ----------------------------------------------------------------------------
class PublicDisclosureSchema(Schema):
    """A published item as citizens see it (a Disclosure): only its public content, never the original."""

    id = ma.fields.String(metadata={"description": "the item's id (32 hex digits)"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the agency that published it"})
    phase = ma.fields.String(metadata={"description": "公开阶段: pre, during or post"})
    type = ma.fields.String(metadata={"description": "the item's type"})
    type_label = ma.fields.String(metadata={"description": "the type's Chinese name, e.g. 执法决定"})
    category = ma.fields.String(allow_none=True, metadata={"description": "执法类别 of a decision"})
    title = ma.fields.String(attribute="public.title", metadata={"description": "the title after the privacy gate"})
    content = ma.fields.String(attribute="public.content", metadata={"description": "the text after the privacy gate"})
    legal_basis = ma.fields.String(
        attribute="public.legal_basis", allow_none=True, metadata={"description": "法律依据"}
    )
    document_no = ma.fields.String(allow_none=True, metadata={"description": "文书号"})
    decision_date = ma.fields.Date(allow_none=True, metadata={"description": "decision day, YYYY-MM-DD"})
    outcome = ma.fields.String(allow_none=True, metadata={"description": "what was decided"})
    subject_type = ma.fields.String(allow_none=True, metadata={"description": "person or organization"})
    # The privacy gate's name (masked for a person); get, not attribute=: null, never absent.
    subject_name = ma.fields.Function(
        lambda item: item.public.get("subject_name"),
        allow_none=True,
        metadata={"type": "string", "description": "the subject's name as shown (a person's masked, e.g. 张某某)"},
    )
    region = ma.fields.String(attribute="region_code", metadata={"description": "6-digit administrative division code"})
    effective_from = ma.fields.Date(allow_none=True, metadata={"description": "有效期自, YYYY-MM-DD"})
    effective_until = ma.fields.Date(allow_none=True, metadata={"description": "有效期至, YYYY-MM-DD"})
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema),
        attribute="public.attachments",
        metadata={"description": "files to download"},
    )
    details = ma.fields.Dict(
        attribute="public.details", metadata={"description": "type-specific fields after the privacy gate"}
    )
    published_at = BeijingDateTime(
        metadata={"description": "when it went public, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    published_on = ma.fields.Date(metadata={"description": "the day it was published, in Beijing (公开于)"})
    expires_on = ma.fields.Date(
        allow_none=True,
        metadata={"description": "the last day it stays public (公示期至, a Beijing date); null: no fixed period"},
    )
    corrected_at = BeijingDateTime(allow_none=True, metadata={"description": "set when the item was corrected"})
    log_index = ma.fields.Integer(metadata={"description": "transparency log entry of this content"})
    commitment_salt = ma.fields.String(
        metadata={"description": "with the content, recomputes the log entry's commitment"}
    )
    url = ma.fields.Function(public_url, metadata={"type": "string", "description": "its page for citizens"})


PUBLIC_DATE = "the decision date, or else the day it was published in Beijing"


class DisclosureSearchFiltersSchema(Schema):
    """What a public search asks for, whatever pages it: the words, the filters and the order."""

    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "words to find (up to 100 characters); empty: everything"},
    )
    phase = ma.fields.String(validate=ma.validate.OneOf(list(Phase)), metadata={"description": "only this phase"})
    type = ma.fields.String(validate=ma.validate.OneOf(list(PHASE_OF_TYPE)), metadata={"description": "only this type"})
    category = ma.fields.String(
        validate=ma.validate.OneOf(list(Category)), metadata={"description": "only this category"}
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    region = ma.fields.String(
        validate=REGION_CODE, metadata={"description": "only this division and the divisions under it (6-digit code)"}
    )
    date_from = ma.fields.Date(metadata={"description": "first day (a Beijing calendar day) of the item's date"})
    date_to = ma.fields.Date(metadata={"description": "last day (a Beijing calendar day), inclusive"})
    sort = ma.fields.String(
        load_default="relevance",
        validate=ma.validate.OneOf(["relevance", "date"]),
        metadata={"description": "relevance (best match first) or date (newest first)"},
    )


class DisclosureSearchArgsSchema(PageArgsSchema, DisclosureSearchFiltersSchema):
    """The public search's query: its words, filters and order, and a page."""


class SearchItemSchema(Schema):
    """A search hit (reading.Found): its item's public fields and the text that matched."""

    id = ma.fields.String(attribute="item.id", metadata={"description": "the item's id"})
    title = ma.fields.String(attribute="item.public.title", metadata={"description": "the item's public title"})
    snippet = ma.fields.String(metadata={"description": "HTML-escaped text with matches in <em>"})
    agency = ma.fields.Nested(
        AgencyRefSchema, attribute="item.agency", metadata={"description": "the agency that published it"}
    )
    phase = ma.fields.String(attribute="item.phase", metadata={"description": "公开阶段"})
    type = ma.fields.String(attribute="item.type", metadata={"description": "the item's type"})
    category = ma.fields.String(
        attribute="item.category", allow_none=True, metadata={"description": "执法类别 of a decision"}
    )
    date = ma.fields.Date(attribute="item.public_date", allow_none=True, metadata={"description": PUBLIC_DATE})


class SearchPageItemSchema(SearchItemSchema):
    """A search hit as the search page shows it: with its type's label and the title as matched."""

    type_label = ma.fields.String(attribute="item.type_label", metadata={"description": "the type's Chinese name"})
    title_highlight = ma.fields.String(
        allow_none=True,
        metadata={"description": "the whole title (never cut), HTML-escaped, matches in <em>; null when none matched"},
    )


class FacetValueSchema(Schema):
    value = ma.fields.String(metadata={"description": "the value to filter by"})
    label = ma.fields.String(metadata={"description": "its Chinese name"})
    count = ma.fields.Integer(metadata={"description": "how many hits have it"})


def facets_field() -> ma.fields.Dict:
    """The labelled facet counts a search answers (facets.label_facets)."""
    return ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(FacetValueSchema)),
        metadata={
            "description": "counts of the hits by agency, region (a division and those above it), type, category "
            "and phase: each value with its Chinese name (an agency's name, a division's such as 泉州市); a facet "
            "counts with every filter but its own, so a chosen region still lists the other regions"
        },
    )


DisclosureSearchSchema = page_schema(
    SearchItemSchema, "DisclosureSearchSchema", facets=facets_field(), **search_page_fields()
)


# -- pre-publication approval (admin) ------------------------------------------------------------
class ApprovalRequirementSchema(Schema):
    """A 司法局's requirement (an ApprovalRequirement)."""

    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the agency whose items need approval"})
    type = ma.fields.String(metadata={"description": "the pre-phase type that needs approval"})
    type_label = ma.fields.Function(lambda r: LABELS[r.type], metadata={"description": "the type's Chinese name"})
    approver_agency = ma.fields.Nested(
        AgencyRefSchema,
        allow_none=True,
        metadata={"description": "another agency whose handlers approve too (inspection_list only)"},
    )
    set_by = ma.fields.String(metadata={"description": "the admin who set the requirement"})
    created_at = BeijingDateTime(
        metadata={"description": "when it was set, ISO 8601 with the +08:00 offset (Beijing time)"}
    )


class ApprovalRequirementPutSchema(Schema):
    approver_agency = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "inspection_list only: the agency (市场监督管理局) whose handlers approve too"},
    )


class ApprovalRequestSchema(ApprovalStateSchema):
    """A held submission as its approver sees it: what was pushed, and what citizens see now."""

    agency = ma.fields.Nested(
        AgencyRefSchema, attribute="disclosure.agency", metadata={"description": "the agency that pushed it"}
    )
    type = ma.fields.String(metadata={"description": "the item's type"})
    type_label = ma.fields.Function(lambda r: LABELS[r.type], metadata={"description": "the type's Chinese name"})
    disclosure_id = ma.fields.String(metadata={"description": "the item's id"})
    external_id = ma.fields.String(
        attribute="disclosure.external_id", metadata={"description": "the agency's own id of the item"}
    )
    item_status = ma.fields.String(attribute="disclosure.status", metadata={"description": "the item's status now"})
    submitted = ma.fields.Dict(metadata={"description": "the submission as pushed"})
    submitted_by = ma.fields.String(metadata={"description": "the client or user that pushed it"})
    public_now = ma.fields.Function(
        lambda r: r.disclosure.public if r.disclosure.is_public else None,
        allow_none=True,
        metadata={"type": "object", "description": "what citizens see of the item now (null: nothing)"},
    )
    log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency log entry of the release, once approved"}
    )


class ApprovalReturnSchema(Schema):
    reasons = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=2, max=2000),
        metadata={"description": "why it is sent back, for the agency (2-2000 characters)"},
    )


ApprovalQueueSchema = page_schema(ApprovalRequestSchema, "ApprovalQueueSchema")


class RemovalNoticeSchema(ErrorSchema):
    """A 410: the error shape, and the notice that stands where the item was (reading.removal_notice)."""

    id = ma.fields.String(metadata={"description": "the item's id"})
    withdrawn_at = ma.fields.String(
        metadata={"description": "when it was withdrawn (ISO 8601, +08:00); withdrawn only"}
    )
    expired_at = ma.fields.String(metadata={"description": "when its publicity period ended; expired only"})
    reason = ma.fields.String(
        metadata={"description": "revoked, confirmed_illegal, remade, credit_repair, other, or expired"}
    )
    reason_label = ma.fields.String(metadata={"description": "the reason in Chinese, e.g. 被依法撤销"})
    explanation = ma.fields.String(allow_none=True, metadata={"description": "the agency's public explanation"})
    document_no = ma.fields.String(allow_none=True, metadata={"description": "文号 of the document that withdrew it"})
    log_index = ma.fields.Integer(metadata={"description": "transparency-log index of the removal"})
    published_log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency-log index of its publication"}
    )
    notice_salt = ma.fields.String(
        allow_none=True, metadata={"description": "the salt the removal entry's commitment to this notice used"}
    )
