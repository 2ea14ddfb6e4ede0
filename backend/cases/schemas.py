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
    category = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Category)),
        metadata={"description": "执法类别: licensing, penalty, coercion, levy, fee or inspection"},
    )
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
    officers = ma.fields.List(
        BADGE,
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "执法证号 of the officers handling it (1-20), each registered with the agency"},
    )
    subject_type = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(["person", "organization"]),
        metadata={"description": "行政相对人 kind: person or organization"},
    )
    subject_name = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=1, max=200), metadata={"description": "行政相对人 name"}
    )
    opened_on = ma.fields.Date(required=True, metadata={"description": "立案 day, YYYY-MM-DD"})


class CaseSchema(Schema):
    case_no = ma.fields.String(metadata={"description": "the agency's case number"})
    category = ma.fields.String(metadata={"description": "执法类别"})
    major = ma.fields.Boolean(metadata={"description": "as flagged by the agency"})
    is_major = ma.fields.Boolean(metadata={"description": "flagged, in the review catalogue, or heard"})
    matter = ma.fields.String(metadata={"description": "the matter from the 执法事项清单"})
    matter_code = ma.fields.String(allow_none=True, metadata={"description": "its 事项编码"})
    major_since = BeijingDateTime(
        allow_none=True, metadata={"description": "when the platform learnt the case is major (kept once set)"}
    )
    officers = ma.fields.List(ma.fields.String(), metadata={"description": "执法证号 of the officers handling it"})
    subject_type = ma.fields.String(allow_none=True, metadata={"description": "person or organization"})
    subject_name = ma.fields.String(allow_none=True, metadata={"description": "行政相对人 name"})
    opened_on = ma.fields.Date(metadata={"description": "立案 day, YYYY-MM-DD"})
    record_count = ma.fields.Integer(metadata={"description": "how many records the case's chain holds"})
    head_hash = ma.fields.String(
        allow_none=True, metadata={"description": "hash of the chain's last record (SHA-256 hex); null: no records"}
    )


class EvidenceSchema(Schema):
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["text", "photo", "audio", "video"]),
        metadata={"description": "text, photo, audio or video"},
    )
    sha256 = ma.fields.String(
        required=True, validate=SHA256, metadata={"description": "SHA-256 of the file, 64 lowercase hex digits"}
    )
    size = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0), metadata={"description": "size of the file in bytes"}
    )
    uri = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "where the agency's storage keeps the file"},
    )
    captured_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "when it was captured, ISO 8601 with its UTC offset, e.g. 2026-11-18T09:30:00+08:00"},
    )
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
    officers = ma.fields.List(
        BADGE,
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "执法证号 of the officers who took the step (1-20)"},
    )
    place = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "where, e.g. 泉州市鲤城区中山中路123号 (up to 200 characters)"},
    )
    text = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=20_000),
        metadata={"description": "what was done, as the 执法文书 records it (1-20000 characters)"},
    )
    evidence = ma.fields.List(
        ma.fields.Nested(EvidenceSchema),
        validate=ma.validate.Length(max=200),
        metadata={"description": "photos, audio, video and documents of the step (up to 200)"},
    )
    corrects = ma.fields.Integer(allow_none=True, metadata={"description": "seq of the record this one corrects"})

    @ma.validates_schema
    def check_interval(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_interval(data, "time", "ended_at")


class RecordsPostSchema(Schema):
    records = ma.fields.List(
        ma.fields.Nested(RecordPostSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "1 to 500 records appended to the case's chain in order"},
    )


class RecordSchema(Schema):
    seq = ma.fields.Integer(metadata={"description": "the record's position in the chain, from 1"})
    step = ma.fields.String(metadata={"description": "the step (see RecordPost.step)"})
    # In UTC, as the record's hash committed to it, so the chain can be recomputed from what is returned.
    time = ma.fields.DateTime(
        attribute="at", metadata={"description": "when the step happened, ISO 8601 in UTC (as hashed)"}
    )
    ended_at = ma.fields.DateTime(allow_none=True, metadata={"description": "when it ended, ISO 8601 in UTC"})
    officers = ma.fields.List(ma.fields.String(), metadata={"description": "执法证号 of the officers"})
    place = ma.fields.String(allow_none=True, metadata={"description": "where"})
    text = ma.fields.String(metadata={"description": "what was done"})
    evidence = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "the evidence as recorded (kind, sha256, size, uri, times)"}
    )
    corrects = ma.fields.Integer(allow_none=True, metadata={"description": "seq of the record this one corrects"})
    recording = ma.fields.String(
        allow_none=True,
        metadata={"description": "text, av or continuous: what the agency's list in force on arrival asked"},
    )
    recording_list = ma.fields.String(
        allow_none=True,
        metadata={"description": 'that list: "statute", or the av_matter_list item as <id>#<log_index>'},
    )
    received_at = BeijingDateTime(
        metadata={"description": "when the platform received it, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    prev_hash = ma.fields.String(
        allow_none=True, metadata={"description": "hash of the record before (null for the first)"}
    )
    hash = ma.fields.String(metadata={"description": "SHA-256 of prev_hash and the record's canonical JSON"})
    log_index = ma.fields.Integer(allow_none=True, metadata={"description": "transparency log entry of the record"})


class ChainSchema(Schema):
    case_no = ma.fields.String(metadata={"description": "the case"})
    valid = ma.fields.Boolean(metadata={"description": "every hash recomputed and linked"})
    problems = ma.fields.List(
        ma.fields.String(), metadata={"description": "what breaks the chain, in words (empty when valid)"}
    )
    flags = ma.fields.List(ma.fields.Dict(), metadata={"description": "missing_av, recording_gap, late_evidence"})
    records = ma.fields.List(ma.fields.Nested(RecordSchema), metadata={"description": "every record in order"})


class AppendedSchema(Schema):
    case_no = ma.fields.String(metadata={"description": "the case"})
    record_count = ma.fields.Integer(metadata={"description": "how many records the chain holds now"})
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

    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "the reviewer's name (1-50 characters)"},
    )
    qualification = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "e.g. 法律职业资格 (A 类), 公职律师"},
    )
    qualified_on = ma.fields.Date(required=True, metadata={"description": "when the qualification was obtained"})
    active = ma.fields.Boolean(load_default=True, metadata={"description": "false: no longer reviews"})


class ReviewerSchema(Schema):
    agency = ma.fields.String(attribute="agency.code", metadata={"description": "code of the reviewer's agency"})
    agency_name = ma.fields.String(attribute="agency.name", metadata={"description": "its name"})
    badge_no = ma.fields.String(metadata={"description": "the reviewer's 执法证号"})
    name = ma.fields.String(metadata={"description": "the reviewer's name"})
    qualification = ma.fields.String(
        allow_none=True, metadata={"description": "the qualification that lets them review"}
    )
    qualified_on = ma.fields.Date(allow_none=True, metadata={"description": "when it was obtained, YYYY-MM-DD"})
    active = ma.fields.Boolean(metadata={"description": "false: no longer reviews"})
    registered_at = BeijingDateTime(metadata={"description": "filed (备案) on"})


# The review checklist (法制审核 items): a statement, or a reason, for every item is required.
ChecklistSchema = Schema.from_dict(
    {
        key: ma.fields.String(
            required=True,
            validate=ma.validate.Length(min=1, max=2000),
            metadata={"description": f"{label} (1-2000 characters)"},
        )
        for key, label in CHECKLIST.items()
    },
    name="ChecklistSchema",
)


def _checklist(description: str) -> ma.fields.Nested:
    return ma.fields.Nested(
        ChecklistSchema, required=True, metadata={"description": f"{description}, every item required"}
    )


class MaterialSchema(Schema):
    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "the material's name, e.g. 案件调查终结报告 (1-100 characters)"},
    )
    sha256 = ma.fields.String(
        required=True, validate=SHA256, metadata={"description": "SHA-256 of the file, 64 lowercase hex digits"}
    )
    size = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0), metadata={"description": "size of the file in bytes"}
    )


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
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "why the agency withdraws the submission (1-500 characters)"},
    )


class OpinionSchema(Schema):
    outcome = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(ReviewOutcome)),
        metadata={"description": "approve 同意, reject 不同意, revise 修改后再报"},
    )
    reasons = _checklist("the reviewer's written reason for every item")
    comment = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=5000),
        metadata={"description": "anything else the reviewer adds (up to 5000 characters)"},
    )


class ReviewSchema(Schema):
    number = ma.fields.Integer(metadata={"description": "the submission's number within the case, from 1"})
    state = ma.fields.String(metadata={"description": "pending, decided or withdrawn"})
    submitted_at = BeijingDateTime(
        metadata={"description": "when it was submitted, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    due_on = ma.fields.Date(allow_none=True, metadata={"description": "REVIEW_DAYS working days after submission"})
    overdue = ma.fields.Function(reviews.is_overdue, metadata={"description": "pending after its due date"})
    checklist = ma.fields.Dict(metadata={"description": "the handling unit's statement for every checklist item"})
    materials = ma.fields.List(ma.fields.Nested(MaterialSchema), metadata={"description": "送审材料 submitted"})
    outcome = ma.fields.String(
        allow_none=True, metadata={"description": "approve, reject or revise; null while pending"}
    )
    reviewer = ma.fields.String(attribute="reviewer_badge", allow_none=True, metadata={"description": "badge"})
    reviewer_name = ma.fields.String(
        attribute="reviewer.name", allow_none=True, metadata={"description": "the reviewer's name"}
    )
    reasons = ma.fields.Dict(
        allow_none=True, metadata={"description": "the reviewer's reason for every checklist item"}
    )
    comment = ma.fields.String(allow_none=True, metadata={"description": "the reviewer's comment"})
    decided_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when the opinion was given, ISO 8601 with the +08:00 offset (Beijing time)"},
    )
    withdrawn_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when the agency withdrew it, ISO 8601 with the +08:00 offset (Beijing time)"},
    )
    withdrawn_reason = ma.fields.String(allow_none=True, metadata={"description": "why it was withdrawn"})
    submit_log_index = ma.fields.Integer(allow_none=True, metadata={"description": "transparency-log entry"})
    opinion_log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency log entry of the opinion"}
    )
    withdraw_log_index = ma.fields.Integer(
        allow_none=True, metadata={"description": "transparency log entry of the withdrawal"}
    )


class ReviewListSchema(Schema):
    reviews = ma.fields.List(
        ma.fields.Nested(ReviewSchema), metadata={"description": "the case's submissions, oldest first"}
    )


class ReviewedCaseFields(Schema):
    """The case a submission belongs to, named from the submission (``case.*``)."""

    agency = ma.fields.String(attribute="case.agency.code", metadata={"description": "code of the case's agency"})
    agency_name = ma.fields.String(attribute="case.agency.name", metadata={"description": "its name"})
    case_no = ma.fields.String(attribute="case.case_no", metadata={"description": "the case number"})
    matter = ma.fields.String(attribute="case.matter", metadata={"description": "the case's matter"})
    category = ma.fields.String(attribute="case.category", metadata={"description": "执法类别"})


class QueuedReviewSchema(ReviewSchema, ReviewedCaseFields):
    pass


class QueueSchema(Schema):
    reviews = ma.fields.List(
        ma.fields.Nested(QueuedReviewSchema),
        metadata={"description": "submissions waiting for an opinion, oldest first"},
    )


class ReviewCaseSchema(ReviewedCaseFields):
    """What a reviewer reads: the case, its records and the submission."""

    officers = ma.fields.List(
        ma.fields.String(), attribute="case.officers", metadata={"description": "执法证号 of the case's officers"}
    )
    records = ma.fields.List(ma.fields.Nested(RecordSchema), metadata={"description": "the case's records"})
    review = ma.fields.Nested(ReviewSchema, metadata={"description": "the submission under review"})
