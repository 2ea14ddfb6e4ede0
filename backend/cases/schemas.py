from typing import Any

import marshmallow as ma

from backend.disclosures.models import Category
from backend.extensions.smorest import Schema
from backend.timezone import BeijingDateTime

from . import reviews
from .models import CHECKLIST, ReviewOutcome, Step

BADGE_PATTERN = ma.validate.Regexp(r"^[0-9A-Za-z-]{4,32}$", error="a badge number")
BADGE = ma.fields.String(validate=BADGE_PATTERN)
SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lowercase hex")


class CasePutSchema(Schema):
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(list(Category)))
    major = ma.fields.Boolean(load_default=False, metadata={"description": "the agency deems it major (重大)"})
    matter = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "the matter from the agency's 执法事项清单"},
    )
    matter_code = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "事项编码 of the matter in the 执法事项清单: the review catalogue matches on it"},
    )
    officers = ma.fields.List(BADGE, required=True, validate=ma.validate.Length(min=1, max=20))
    subject_type = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["person", "organization"]))
    subject_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=200))
    opened_on = ma.fields.Date(required=True)


class CaseSchema(Schema):
    case_no = ma.fields.String()
    category = ma.fields.String()
    major = ma.fields.Boolean(metadata={"description": "as flagged by the agency"})
    is_major = ma.fields.Boolean(metadata={"description": "flagged, in the review catalogue, or heard"})
    matter = ma.fields.String()
    matter_code = ma.fields.String(allow_none=True)
    major_since = BeijingDateTime(
        allow_none=True, metadata={"description": "when the platform learnt the case is major (kept once set)"}
    )
    officers = ma.fields.List(ma.fields.String())
    subject_type = ma.fields.String(allow_none=True)
    subject_name = ma.fields.String(allow_none=True)
    opened_on = ma.fields.Date()
    record_count = ma.fields.Integer()
    head_hash = ma.fields.String(allow_none=True)


class EvidenceSchema(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["text", "photo", "audio", "video"]))
    sha256 = ma.fields.String(required=True, validate=SHA256)
    size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    uri = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "where the agency's storage keeps the file"},
    )
    captured_at = ma.fields.AwareDateTime(required=True)
    started_at = ma.fields.AwareDateTime(metadata={"description": "an audio or video clip's start"})
    ended_at = ma.fields.AwareDateTime(metadata={"description": "the clip's end (with started_at)"})

    @ma.validates_schema
    def check_interval(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_interval(data, "started_at", "ended_at", together=True)


def check_interval(data: dict[str, Any], start: str, end: str, *, together: bool = False) -> None:
    """``end`` is not before ``start``; with ``together``, neither is given without the other."""
    if together and (start in data) != (end in data):
        missing = start if end in data else end
        raise ma.ValidationError(f"{start} and {end} go together", missing)
    if start in data and end in data and data[end] < data[start]:
        raise ma.ValidationError(f"before {start}", end)


class RecordPostSchema(Schema):
    step = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Step)),
        metadata={
            "description": "filing 立案, investigation 调查, evidence 取证, preservation 证据保全, review 审查, "
            "notice 告知, hearing 听证, decision 决定, service 送达, execution 执行, closing 结案"
        },
    )
    time = ma.fields.AwareDateTime(required=True, metadata={"description": "when the step happened, or began"})
    ended_at = ma.fields.AwareDateTime(
        metadata={"description": "when the step ended: a step the agency's list records in full needs it"}
    )
    officers = ma.fields.List(BADGE, required=True, validate=ma.validate.Length(min=1, max=20))
    place = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20_000))
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema), validate=ma.validate.Length(max=200))
    corrects = ma.fields.Integer(allow_none=True, metadata={"description": "seq of the record this one corrects"})

    @ma.validates_schema
    def check_interval(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_interval(data, "time", "ended_at")


class RecordsPostSchema(Schema):
    records = ma.fields.List(
        ma.fields.Nested(RecordPostSchema), required=True, validate=ma.validate.Length(min=1, max=500)
    )


class RecordSchema(Schema):
    seq = ma.fields.Integer()
    step = ma.fields.String()
    # In UTC, as the record's hash committed to it, so the chain can be recomputed from what is returned.
    time = ma.fields.DateTime(attribute="at")
    ended_at = ma.fields.DateTime(allow_none=True)
    officers = ma.fields.List(ma.fields.String())
    place = ma.fields.String(allow_none=True)
    text = ma.fields.String()
    evidence = ma.fields.List(ma.fields.Dict())
    corrects = ma.fields.Integer(allow_none=True)
    recording = ma.fields.String(
        allow_none=True,
        metadata={"description": "text, av or continuous: what the agency's list in force on arrival asked"},
    )
    recording_list = ma.fields.String(
        allow_none=True,
        metadata={"description": 'that list: "statute", or the av_matter_list item as <id>#<log_index>'},
    )
    received_at = BeijingDateTime()
    prev_hash = ma.fields.String(allow_none=True)
    hash = ma.fields.String()
    log_index = ma.fields.Integer(allow_none=True)


class ChainSchema(Schema):
    case_no = ma.fields.String()
    valid = ma.fields.Boolean(metadata={"description": "every hash recomputed and linked"})
    problems = ma.fields.List(ma.fields.String())
    flags = ma.fields.List(ma.fields.Dict(), metadata={"description": "missing_av, recording_gap, late_evidence"})
    records = ma.fields.List(ma.fields.Nested(RecordSchema))


class AppendedSchema(Schema):
    case_no = ma.fields.String()
    record_count = ma.fields.Integer()
    head_hash = ma.fields.String(metadata={"description": "hash of the chain's last record"})
    records = ma.fields.List(ma.fields.Nested(RecordSchema), metadata={"description": "the records just appended"})


DOMAIN = ma.fields.String(validate=ma.validate.Length(min=1, max=50))


class CaseDomainsSchema(Schema):
    domains = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(list(Category))),
        values=ma.fields.List(DOMAIN, validate=ma.validate.Length(min=1, max=50)),
        required=True,
        metadata={
            "description": "per case category, the enforcement domains (as officers' domains name them) whose "
            "officers may act in its cases; a category left out is not checked"
        },
    )


class ReviewerPutSchema(Schema):
    """备案: who the reviewer is and the qualification that lets them review."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    qualification = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "e.g. 法律职业资格 (A 类), 公职律师"},
    )
    qualified_on = ma.fields.Date(required=True, metadata={"description": "when the qualification was obtained"})
    active = ma.fields.Boolean(load_default=True, metadata={"description": "false: no longer reviews"})


class ReviewerSchema(Schema):
    agency = ma.fields.String(attribute="agency.code")
    agency_name = ma.fields.String(attribute="agency.name")
    badge_no = ma.fields.String()
    name = ma.fields.String()
    qualification = ma.fields.String(allow_none=True)
    qualified_on = ma.fields.Date(allow_none=True)
    active = ma.fields.Boolean()
    registered_at = BeijingDateTime(metadata={"description": "filed (备案) on"})


def _checklist(description: str) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(list(CHECKLIST))),
        values=ma.fields.String(validate=ma.validate.Length(min=1, max=2000)),
        required=True,
        metadata={"description": description + ": " + ", ".join(f"{k} ({v})" for k, v in CHECKLIST.items())},
    )


class MaterialSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    sha256 = ma.fields.String(required=True, validate=SHA256)
    size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


class ReviewSubmitSchema(Schema):
    checklist = _checklist("the handling unit's statement for every item")
    materials = ma.fields.List(
        ma.fields.Nested(MaterialSchema),
        required=True,
        validate=ma.validate.Length(max=200),
        metadata={
            "description": "送审材料: every name the agency's 审核目录清单 asks for (details.materials; by default "
            "拟作出的执法决定书, 案件调查终结报告, 证据材料, 法律依据), the files kept in the agency's storage"
        },
    )


class ReviewWithdrawSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class OpinionSchema(Schema):
    outcome = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(ReviewOutcome)),
        metadata={"description": "approve 同意, reject 不同意, revise 修改后再报"},
    )
    reasons = _checklist("the reviewer's written reason for every item")
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))


class ReviewSchema(Schema):
    number = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "pending, decided or withdrawn"})
    submitted_at = BeijingDateTime()
    due_on = ma.fields.Date(allow_none=True, metadata={"description": "REVIEW_DAYS working days after submission"})
    overdue = ma.fields.Function(reviews.is_overdue, metadata={"description": "pending after its due date"})
    checklist = ma.fields.Dict()
    materials = ma.fields.List(ma.fields.Nested(MaterialSchema))
    outcome = ma.fields.String(allow_none=True)
    reviewer = ma.fields.String(attribute="reviewer_badge", allow_none=True, metadata={"description": "badge"})
    reviewer_name = ma.fields.String(attribute="reviewer.name", allow_none=True)
    reasons = ma.fields.Dict(allow_none=True)
    comment = ma.fields.String(allow_none=True)
    decided_at = BeijingDateTime(allow_none=True)
    withdrawn_at = BeijingDateTime(allow_none=True)
    withdrawn_reason = ma.fields.String(allow_none=True)
    submit_log_index = ma.fields.Integer(allow_none=True, metadata={"description": "transparency-log entry"})
    opinion_log_index = ma.fields.Integer(allow_none=True)
    withdraw_log_index = ma.fields.Integer(allow_none=True)


class ReviewListSchema(Schema):
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema))


class ReviewedCaseFields(Schema):
    """The case a submission belongs to, named from the submission (``case.*``)."""

    agency = ma.fields.String(attribute="case.agency.code")
    agency_name = ma.fields.String(attribute="case.agency.name")
    case_no = ma.fields.String(attribute="case.case_no")
    matter = ma.fields.String(attribute="case.matter")
    category = ma.fields.String(attribute="case.category")


class QueuedReviewSchema(ReviewSchema, ReviewedCaseFields):
    pass


class QueueSchema(Schema):
    reviews = ma.fields.List(ma.fields.Nested(QueuedReviewSchema))


class ReviewCaseSchema(ReviewedCaseFields):
    """What a reviewer reads: the case, its records and the submission."""

    officers = ma.fields.List(ma.fields.String(), attribute="case.officers")
    records = ma.fields.List(ma.fields.Nested(RecordSchema))
    review = ma.fields.Nested(ReviewSchema)
