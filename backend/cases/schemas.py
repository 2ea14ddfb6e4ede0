import marshmallow as ma

from backend.disclosures.models import Category
from backend.extensions.smorest import Schema
from backend.timezone import BeijingDateTime

from .models import CHECKLIST, ReviewOutcome, Step

BADGE_PATTERN = ma.validate.Regexp(r"^[0-9A-Za-z-]{4,32}$", error="a badge number")
BADGE = ma.fields.String(validate=BADGE_PATTERN)


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
    sha256 = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lowercase hex"))
    size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    uri = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "where the agency's storage keeps the file"},
    )
    captured_at = ma.fields.AwareDateTime(required=True)


class RecordPostSchema(Schema):
    step = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Step)),
        metadata={
            "description": "filing 立案, investigation 调查, evidence 取证, review 审查, notice 告知, hearing 听证, "
            "decision 决定, service 送达, execution 执行, closing 结案"
        },
    )
    time = ma.fields.AwareDateTime(required=True)
    officers = ma.fields.List(BADGE, required=True, validate=ma.validate.Length(min=1, max=20))
    place = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20_000))
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema), validate=ma.validate.Length(max=200))
    corrects = ma.fields.Integer(allow_none=True, metadata={"description": "seq of the record this one corrects"})


class RecordsPostSchema(Schema):
    records = ma.fields.List(
        ma.fields.Nested(RecordPostSchema), required=True, validate=ma.validate.Length(min=1, max=500)
    )


class RecordSchema(Schema):
    seq = ma.fields.Integer()
    step = ma.fields.String()
    # In UTC, as the record's hash committed to it, so the chain can be recomputed from what is returned.
    time = ma.fields.DateTime(attribute="at")
    officers = ma.fields.List(ma.fields.String())
    place = ma.fields.String(allow_none=True)
    text = ma.fields.String()
    evidence = ma.fields.List(ma.fields.Dict())
    corrects = ma.fields.Integer(allow_none=True)
    received_at = BeijingDateTime()
    prev_hash = ma.fields.String(allow_none=True)
    hash = ma.fields.String()
    log_index = ma.fields.Integer(allow_none=True)


class ChainSchema(Schema):
    case_no = ma.fields.String()
    valid = ma.fields.Boolean(metadata={"description": "every hash recomputed and linked"})
    problems = ma.fields.List(ma.fields.String())
    flags = ma.fields.List(ma.fields.Dict(), metadata={"description": "missing_av, late_evidence"})
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
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    active = ma.fields.Boolean(load_default=True)


class ReviewerSchema(Schema):
    badge_no = ma.fields.String()
    name = ma.fields.String()
    active = ma.fields.Boolean()


def _checklist(description: str) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(list(CHECKLIST))),
        values=ma.fields.String(validate=ma.validate.Length(min=1, max=2000)),
        required=True,
        metadata={"description": description + ": " + ", ".join(f"{k} ({v})" for k, v in CHECKLIST.items())},
    )


class ReviewSubmitSchema(Schema):
    checklist = _checklist("the handling unit's statement for every item")


class OpinionSchema(Schema):
    reviewer = ma.fields.String(required=True, validate=BADGE_PATTERN, metadata={"description": "the reviewer's badge"})
    outcome = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(ReviewOutcome)),
        metadata={"description": "approve 同意, reject 不同意, revise 修改后再报"},
    )
    reasons = _checklist("the reviewer's written reason for every item")
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))


class ReviewSchema(Schema):
    number = ma.fields.Integer()
    submitted_at = BeijingDateTime()
    checklist = ma.fields.Dict()
    outcome = ma.fields.String(allow_none=True)
    reviewer = ma.fields.String(attribute="reviewer_badge", allow_none=True)
    reasons = ma.fields.Dict(allow_none=True)
    comment = ma.fields.String(allow_none=True)
    decided_at = BeijingDateTime(allow_none=True)


class ReviewListSchema(Schema):
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema))
