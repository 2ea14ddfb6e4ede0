import marshmallow as ma

from backend.cases.schemas import RecordSchema, ReviewSchema
from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime
from backend.transparency.schemas import CheckpointSchema

from .services import CHANGE_EVENTS


class AdminTokenRequestSchema(Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))


class DisclosureChangesArgsSchema(PageArgsSchema):
    event = ma.fields.String(validate=ma.validate.OneOf(CHANGE_EVENTS))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()


class DisclosureChangeSchema(Schema):
    log_index = ma.fields.Integer()
    event = ma.fields.String()
    at = BeijingDateTime()
    actor = ma.fields.String(metadata={"description": "who: client:<id>, admin:<username> or system:<job>"})
    agency = ma.fields.Nested(AgencyRefSchema)
    disclosure_id = ma.fields.String()
    external_id = ma.fields.String()
    title = ma.fields.String(metadata={"description": "the original title (supervisors see originals)"})
    reason = ma.fields.String(allow_none=True)
    explanation = ma.fields.String(allow_none=True)
    document_no = ma.fields.String(allow_none=True)


DisclosureChangesSchema = page_schema(DisclosureChangeSchema, "DisclosureChangesSchema")


class SummaryArgsSchema(Schema):
    region = ma.fields.String(validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    date_from = ma.fields.Date(data_key="from", required=True)
    date_to = ma.fields.Date(data_key="to", required=True)


class OverdueReviewSchema(Schema):
    agency = ma.fields.String()
    case_no = ma.fields.String()
    number = ma.fields.Integer()
    submitted_at = BeijingDateTime()
    due_on = ma.fields.Date()


class DecisionsWithoutCaseSchema(Schema):
    agency = ma.fields.String()
    name = ma.fields.String()
    reports_cases_since = BeijingDateTime(metadata={"description": "when the agency began reporting cases"})
    count = ma.fields.Integer()


class MadeMajorSchema(Schema):
    agency = ma.fields.String()
    case_no = ma.fields.String()
    matter = ma.fields.String()
    major_since = BeijingDateTime()
    major_by = ma.fields.String(metadata={"description": "flag, hearing or catalogue"})
    first_published_at = BeijingDateTime(metadata={"description": "when its first decision was published"})


class OverdueItemSchema(Schema):
    agency = ma.fields.String()
    case_no = ma.fields.String(allow_none=True, metadata={"description": "the case the decision ends"})
    external_id = ma.fields.String(allow_none=True, metadata={"description": "none for a missing decision"})
    title = ma.fields.String(metadata={"description": "the item's title, or the case's matter"})
    publish_deadline = ma.fields.Date()
    status = ma.fields.String(metadata={"description": "the item's status, or missing: no decision registered"})


class SummarySchema(Schema):
    period = ma.fields.Dict()
    on_time = ma.fields.List(ma.fields.Dict(), metadata={"description": "公示率 per agency, over registered items"})
    on_time_cases = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "公示率 per agency over decided cases: of the cases whose decision record is dated in the "
            "period, how many had their decision disclosure published by the deadline counted from that date"
        },
    )
    rates = ma.fields.Dict(metadata={"description": "both rates over the whole scope: items and cases"})
    overdue_items = ma.fields.List(
        ma.fields.Nested(OverdueItemSchema),
        metadata={"description": "late or overdue items, and decided cases past their deadline with none (missing)"},
    )
    cases_flagged = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "missing audio-video, continuous-recording gaps, late evidence"}
    )
    major_without_review = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "major cases with a decision made before an approving review"}
    )
    reviews_overdue = ma.fields.List(
        ma.fields.Nested(OverdueReviewSchema),
        metadata={"description": "legal reviews still awaiting an opinion after REVIEW_DAYS"},
    )
    decisions_without_case = ma.fields.List(
        ma.fields.Nested(DecisionsWithoutCaseSchema),
        metadata={
            "description": "per agency that reports cases: licensing, penalty and coercion decisions published in "
            "the period without a case, since it began reporting cases"
        },
    )
    made_major_after_publication = ma.fields.List(
        ma.fields.Nested(MadeMajorSchema),
        metadata={"description": "cases that became major in the period after one of their decisions was published"},
    )
    complaints = ma.fields.Dict(metadata={"description": "per agency, officer and disclosure type"})
    evaluations = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "案卷评查 per agency: cases scored in the period, mean score, deductions per item"},
    )
    withdrawals_by_reason = ma.fields.Dict()


class FiledReviewerSchema(Schema):
    agency = ma.fields.String()
    agency_name = ma.fields.String()
    badge_no = ma.fields.String()
    name = ma.fields.String()
    qualification = ma.fields.String(allow_none=True)
    qualified_on = ma.fields.Date(allow_none=True)
    registered_at = BeijingDateTime(metadata={"description": "filed (备案) on"})
    active = ma.fields.Boolean()
    signs_in = ma.fields.Boolean(metadata={"description": "has an enabled reviewer account"})


class StaffingSchema(Schema):
    agency = ma.fields.String()
    agency_name = ma.fields.String()
    officers = ma.fields.Integer(metadata={"description": "officers whose credential is active and valid today"})
    reviewers = ma.fields.Integer(metadata={"description": "filed reviewers still active"})
    ratio = ma.fields.Float(allow_none=True)
    below_minimum = ma.fields.Boolean(metadata={"description": "fewer reviewers than 5% of officers"})


class ReviewerRegistrySchema(Schema):
    reviewers = ma.fields.List(ma.fields.Nested(FiledReviewerSchema))
    staffing = ma.fields.List(ma.fields.Nested(StaffingSchema))
    below_minimum = ma.fields.List(ma.fields.String(), metadata={"description": "agencies below the 5% rule"})
    minimum_share = ma.fields.Float()


class ReportsCasesSchema(Schema):
    reports_cases = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={"description": "true/false, or null for automatic (on from the agency's first case)"},
    )
    reason = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=500))


class AgencySettingsSchema(Schema):
    code = ma.fields.String()
    reports_cases = ma.fields.Boolean(allow_none=True, metadata={"description": "as set; null: automatic"})
    reports_cases_now = ma.fields.Boolean(metadata={"description": "the setting in force"})
    reports_cases_since = BeijingDateTime(allow_none=True, metadata={"description": "when it began reporting cases"})
    case_domains = ma.fields.Dict(metadata={"description": "domains the agency declared per case category"})


class AnnualArgsSchema(Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=2000, max=2100))
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]))


class AnnualReportSchema(Schema):
    agency = ma.fields.Dict()
    year = ma.fields.Integer()
    decisions = ma.fields.Dict(metadata={"description": "counts by category and outcome"})
    inspections = ma.fields.Dict(metadata={"description": "抽查检查结果: total and count by outcome"})
    amounts = ma.fields.Dict(
        metadata={
            "description": "fine and confiscation totals in yuan (strings, exact), from the decisions' details "
            "fine_amount and confiscation_amount; decisions: how many carry one"
        }
    )
    on_time = ma.fields.Dict()
    reviews = ma.fields.Dict()
    complaints = ma.fields.Dict()
    withdrawals = ma.fields.Dict()
    evaluations = ma.fields.Dict(
        metadata={"description": "案卷评查: cases scored in the year, mean score, points deducted per sheet item"}
    )


class RegionSubmissionSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    region = ma.fields.String()
    submitted = ma.fields.Boolean(metadata={"description": "its annual_statistics item of the year is published"})
    submitted_at = BeijingDateTime(allow_none=True)
    late = ma.fields.Boolean(metadata={"description": "published after report_due, or not yet and report_due passed"})


class RegionalReportSchema(AnnualReportSchema):
    """A 司法行政部门's roll-up: the figures of every agency in its division and below (itself included)."""

    region = ma.fields.String()
    report_due = ma.fields.Date(metadata={"description": "15 January: agencies' data due, and this roll-up"})
    agencies = ma.fields.List(ma.fields.Nested(RegionSubmissionSchema))
    submissions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


# -- 实时调阅 ----------------------------------------------------------------------------------------
class CaseListArgsSchema(PageArgsSchema):
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "agency code"})
    case_no = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "a case number's start"})
    date_from = ma.fields.Date(data_key="from", metadata={"description": "opened on or after"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "opened on or before"})


class SupervisedCaseSchema(Schema):
    agency = ma.fields.String(attribute="agency.code")
    agency_name = ma.fields.String(attribute="agency.name")
    case_no = ma.fields.String()
    category = ma.fields.String()
    major = ma.fields.Boolean()
    matter = ma.fields.String()
    officers = ma.fields.List(ma.fields.String())
    subject_type = ma.fields.String(allow_none=True)
    subject_name = ma.fields.String(allow_none=True)
    opened_on = ma.fields.Date()
    record_count = ma.fields.Integer()
    head_hash = ma.fields.String(allow_none=True)
    decided_on = ma.fields.Date(allow_none=True, metadata={"description": "the date of its first decision record"})
    publish_deadline = ma.fields.Date(
        allow_none=True, metadata={"description": "when its decision disclosure is due, counted from decided_on"}
    )


CaseListSchema = page_schema(SupervisedCaseSchema, "SupervisedCaseListSchema")


class CaseDisclosureSchema(Schema):
    id = ma.fields.String()
    external_id = ma.fields.String()
    title = ma.fields.String(metadata={"description": "the original title (supervisors see originals)"})
    document_no = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    decision_date = ma.fields.Date(allow_none=True)
    publish_deadline = ma.fields.Date(allow_none=True)
    published_at = BeijingDateTime(allow_none=True)
    published_late = ma.fields.Boolean()
    withdrawal_reason = ma.fields.String(allow_none=True)


class CaseComplaintSchema(Schema):
    tracking_no = ma.fields.String()
    category = ma.fields.String()
    status = ma.fields.String()
    created_at = BeijingDateTime()
    disclosure_id = ma.fields.String(metadata={"description": "the decision disclosure it is about"})


class CaseFileSchema(Schema):
    """A case as a supervisor reads it (实时调阅); every read is audited."""

    case = ma.fields.Nested(SupervisedCaseSchema)
    valid = ma.fields.Boolean(attribute="chain.valid", metadata={"description": "every hash recomputed and linked"})
    problems = ma.fields.List(ma.fields.String(), attribute="chain.problems")
    flags = ma.fields.List(
        ma.fields.Dict(), attribute="chain.flags", metadata={"description": "missing_av, recording_gap, late_evidence"}
    )
    records = ma.fields.List(ma.fields.Nested(RecordSchema), attribute="chain.records")
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema), metadata={"description": "submissions and opinions"})
    disclosures = ma.fields.List(
        ma.fields.Nested(CaseDisclosureSchema), metadata={"description": "decision disclosures naming the case"}
    )
    complaints = ma.fields.List(
        ma.fields.Nested(CaseComplaintSchema),
        metadata={"description": "complaints about those disclosures (complaints name a disclosure, not a case)"},
    )


class CaseReadsArgsSchema(PageArgsSchema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")


class CaseReadSchema(Schema):
    at = BeijingDateTime(
        metadata={"description": "when the case was read, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    case_no = ma.fields.String(metadata={"description": "the case that was read"})
    reader = ma.fields.String(metadata={"description": "the reader's username (their official account)"})
    role = ma.fields.String(metadata={"description": "supervisor or admin, at the time of the read"})
    region = ma.fields.String(allow_none=True, metadata={"description": "the supervisor's division code then"})
    reader_agency = ma.fields.String(allow_none=True, metadata={"description": "the reader's own agency, if any"})
    via = ma.fields.String(metadata={"description": "page (the admin page) or api"})


CaseReadsSchema = page_schema(CaseReadSchema, "CaseReadsSchema")


# -- 案卷评查 ----------------------------------------------------------------------------------------------
class SheetItemSchema(Schema):
    key = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-z_]{1,32}$"))
    label = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    points = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=100))


class EvaluationRoundRequestSchema(Schema):
    agency = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={"description": "or region"})
    region = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$"), metadata={"description": "and below"})
    date_from = ma.fields.Date(required=True, metadata={"description": "cases closed (结案) from this day"})
    date_to = ma.fields.Date(required=True)
    sample_size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10000))
    sample_percent = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100))
    evaluators = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "usernames of supervisors or observers (监督员), in round-robin order"},
    )
    sheet = ma.fields.List(
        ma.fields.Nested(SheetItemSchema),
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "the scoring sheet; by default the six items of DEFAULT_SHEET"},
    )


class EvaluationRoundSchema(Schema):
    id = ma.fields.Integer()
    parameters = ma.fields.Dict(metadata={"description": "hashed into the seed as canonical JSON"})
    sheet = ma.fields.List(ma.fields.Dict())
    announcement_index = ma.fields.Integer(metadata={"description": "the log entry announcing the round"})
    checkpoint = ma.fields.Nested(CheckpointSchema, metadata={"description": "first checkpoint after it"})
    seed = ma.fields.String()
    eligible = ma.fields.List(ma.fields.String(), metadata={"description": "sorted <agency>/<case no> closed in scope"})
    sample = ma.fields.List(ma.fields.String(), metadata={"description": "in rank order"})


class EvaluationCaseSchema(Schema):
    round = ma.fields.Integer(attribute="round_id")
    rank = ma.fields.Integer()
    case = ma.fields.Function(lambda item: f"{item.case.agency.code}/{item.case.case_no}")
    sheet = ma.fields.Function(lambda item: item.round.sheet)
    scores = ma.fields.Dict(allow_none=True)
    total = ma.fields.Integer(allow_none=True)
    scored_at = BeijingDateTime(allow_none=True)


class EvaluationAssignmentsSchema(Schema):
    assignments = ma.fields.List(ma.fields.Nested(EvaluationCaseSchema))


class EvaluationScoreRequestSchema(Schema):
    scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        required=True,
        metadata={"description": "{item key: {score, comment}} for every item of the round's sheet"},
    )


class EvaluationResultsSchema(Schema):
    round = ma.fields.Integer()
    assigned = ma.fields.Integer()
    scored = ma.fields.Integer()
    agencies = ma.fields.List(ma.fields.Dict(), metadata={"description": "cases evaluated, mean score, deductions"})


class NegativeListArgsSchema(PageArgsSchema):
    region = ma.fields.String(validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    current = ma.fields.Boolean(metadata={"description": "true: only matters on the list now; false: only past"})


class NegativeListEntrySchema(Schema):
    id = ma.fields.Integer()
    agency = ma.fields.Nested(AgencyRefSchema)
    matter_key = ma.fields.String(metadata={"description": "事项编码 where the acts give one, else the matter's name"})
    matter_name = ma.fields.String()
    entered_at = BeijingDateTime()
    entered_figures = ma.fields.Dict(
        metadata={"description": "period, complaints, corrections, withdrawals by reason, overdue, deductions, crossed"}
    )
    left_at = BeijingDateTime(allow_none=True)
    left_figures = ma.fields.Dict(allow_none=True, metadata={"description": "the figures when it left"})


NegativeListSchema = page_schema(NegativeListEntrySchema, "NegativeListSchema")


class NegativeListPublishSchema(Schema):
    agency = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "code of the 司法行政部门 that publishes its region's list"},
    )


class MatterRankingArgsSchema(Schema):
    region = ma.fields.String(validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    date_from = ma.fields.Date(data_key="from", required=True)
    date_to = ma.fields.Date(data_key="to", required=True)
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))

    @ma.validates_schema
    def in_order(self, data: dict, **_kwargs: object) -> None:
        if data["date_from"] > data["date_to"]:
            raise ma.ValidationError({"to": ["must not be before from"]})


class MatterFiguresSchema(Schema):
    agency = ma.fields.Nested(AgencyRefSchema)
    matter_key = ma.fields.String()
    matter = ma.fields.String(metadata={"description": "the matter's name"})
    complaints = ma.fields.Integer()
    corrections = ma.fields.Integer()
    withdrawals = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    overdue = ma.fields.Integer()
    deductions = ma.fields.Float()
    crossed = ma.fields.List(ma.fields.String(), metadata={"description": "the figures at or over their threshold"})


class MatterRankingSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(MatterFiguresSchema))
