import marshmallow as ma

from backend.cases.schemas import RecordSchema, ReviewSchema
from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime
from backend.transparency.schemas import CheckpointSchema

from .services import CHANGE_EVENTS


class AdminTokenRequestSchema(Schema):
    username = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=64), metadata={"description": "the admin user's name"}
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=256),
        metadata={"description": "the admin user's password"},
    )
    otp = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=32),
        metadata={
            "description": "the authenticator app's current 6-digit code, or a recovery code: required when the "
            "account has a second factor (always under ADMIN_TOTP_REQUIRED)"
        },
    )


class DisclosureChangesArgsSchema(PageArgsSchema):
    event = ma.fields.String(
        validate=ma.validate.OneOf(CHANGE_EVENTS), metadata={"description": "only this kind of change"}
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    date_from = ma.fields.Date(metadata={"description": "first day (Beijing), YYYY-MM-DD"})
    date_to = ma.fields.Date(metadata={"description": "last day (Beijing), inclusive, YYYY-MM-DD"})


class DisclosureChangeSchema(Schema):
    log_index = ma.fields.Integer(metadata={"description": "the change's transparency log entry"})
    event = ma.fields.String(metadata={"description": "correct, withdraw, withhold or expire"})
    at = BeijingDateTime(metadata={"description": "when, ISO 8601 with the +08:00 offset (Beijing time)"})
    actor = ma.fields.String(metadata={"description": "who: client:<id>, admin:<username> or system:<job>"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the item's agency"})
    disclosure_id = ma.fields.String(metadata={"description": "the item's id"})
    external_id = ma.fields.String(metadata={"description": "the agency's own id of the item"})
    title = ma.fields.String(metadata={"description": "the original title (supervisors see originals)"})
    reason = ma.fields.String(allow_none=True, metadata={"description": "a withdrawal's reason"})
    explanation = ma.fields.String(allow_none=True, metadata={"description": "a withdrawal's explanation"})
    document_no = ma.fields.String(allow_none=True, metadata={"description": "the document that revoked it"})


DisclosureChangesSchema = page_schema(DisclosureChangeSchema, "DisclosureChangesSchema")


class SummaryArgsSchema(Schema):
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"),
        metadata={"description": "only this division and below"},
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    date_from = ma.fields.Date(
        data_key="from", required=True, metadata={"description": "first day of the period (from=), YYYY-MM-DD"}
    )
    date_to = ma.fields.Date(
        data_key="to", required=True, metadata={"description": "last day of the period (to=), inclusive, YYYY-MM-DD"}
    )


class OverdueReviewSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    case_no = ma.fields.String(metadata={"description": "the case"})
    number = ma.fields.Integer(metadata={"description": "the submission's number"})
    submitted_at = BeijingDateTime(
        metadata={"description": "when it was submitted, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    due_on = ma.fields.Date(metadata={"description": "when the opinion was due, YYYY-MM-DD"})


class DecisionsWithoutCaseSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    name = ma.fields.String(metadata={"description": "its name"})
    reports_cases_since = BeijingDateTime(metadata={"description": "when the agency began reporting cases"})
    count = ma.fields.Integer(metadata={"description": "how many such decisions"})


class MadeMajorSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    case_no = ma.fields.String(metadata={"description": "the case"})
    matter = ma.fields.String(metadata={"description": "its matter"})
    major_since = BeijingDateTime(
        metadata={"description": "when it became major, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    major_by = ma.fields.String(metadata={"description": "flag, hearing or catalogue"})
    first_published_at = BeijingDateTime(metadata={"description": "when its first decision was published"})


class OverdueItemSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    case_no = ma.fields.String(allow_none=True, metadata={"description": "the case the decision ends"})
    external_id = ma.fields.String(allow_none=True, metadata={"description": "none for a missing decision"})
    title = ma.fields.String(metadata={"description": "the item's title, or the case's matter"})
    publish_deadline = ma.fields.Date(metadata={"description": "the statutory deadline, YYYY-MM-DD"})
    status = ma.fields.String(metadata={"description": "the item's status, or missing: no decision registered"})


class SummarySchema(Schema):
    period = ma.fields.Dict(metadata={"description": "the period: {from, to}"})
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
    withdrawals_by_reason = ma.fields.Dict(metadata={"description": "withdrawals in the period, by reason"})


class FiledReviewerSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the reviewer's agency code"})
    agency_name = ma.fields.String(metadata={"description": "its name"})
    badge_no = ma.fields.String(metadata={"description": "the reviewer's 执法证号"})
    name = ma.fields.String(metadata={"description": "the reviewer's name"})
    qualification = ma.fields.String(
        allow_none=True, metadata={"description": "the qualification that lets them review"}
    )
    qualified_on = ma.fields.Date(allow_none=True, metadata={"description": "when it was obtained, YYYY-MM-DD"})
    registered_at = BeijingDateTime(metadata={"description": "filed (备案) on"})
    active = ma.fields.Boolean(metadata={"description": "false: no longer reviews"})
    signs_in = ma.fields.Boolean(metadata={"description": "has an enabled reviewer account"})


class StaffingSchema(Schema):
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    agency_name = ma.fields.String(metadata={"description": "its name"})
    officers = ma.fields.Integer(metadata={"description": "officers whose credential is active and valid today"})
    reviewers = ma.fields.Integer(metadata={"description": "filed reviewers still active"})
    ratio = ma.fields.Float(allow_none=True, metadata={"description": "reviewers per officer; null without officers"})
    below_minimum = ma.fields.Boolean(metadata={"description": "fewer reviewers than 5% of officers"})


class ReviewerRegistrySchema(Schema):
    reviewers = ma.fields.List(
        ma.fields.Nested(FiledReviewerSchema), metadata={"description": "every filed reviewer in scope"}
    )
    staffing = ma.fields.List(
        ma.fields.Nested(StaffingSchema), metadata={"description": "reviewers against officers, per agency"}
    )
    below_minimum = ma.fields.List(ma.fields.String(), metadata={"description": "agencies below the 5% rule"})
    minimum_share = ma.fields.Float(metadata={"description": "the least share of reviewers among officers (0.05)"})


class ReportsCasesSchema(Schema):
    reports_cases = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={"description": "true/false, or null for automatic (on from the agency's first case)"},
    )
    reason = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "why the setting changes (kept in the audit log, 1-500 characters)"},
    )


class AgencySettingsSchema(Schema):
    code = ma.fields.String(metadata={"description": "the agency's code"})
    reports_cases = ma.fields.Boolean(allow_none=True, metadata={"description": "as set; null: automatic"})
    reports_cases_now = ma.fields.Boolean(metadata={"description": "the setting in force"})
    reports_cases_since = BeijingDateTime(allow_none=True, metadata={"description": "when it began reporting cases"})
    case_domains = ma.fields.Dict(
        allow_none=True, metadata={"description": "domains the agency declared per case category; null: none"}
    )


class AnnualArgsSchema(Schema):
    year = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=2000, max=2100),
        metadata={"description": "the calendar year (2000-2100)"},
    )
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
        metadata={"description": "json, csv or xlsx"},
    )


class AnnualReportSchema(Schema):
    agency = ma.fields.Dict(metadata={"description": "the agency: {code, name}"})
    year = ma.fields.Integer(metadata={"description": "the calendar year"})
    decisions = ma.fields.Dict(metadata={"description": "counts by category and outcome"})
    inspections = ma.fields.Dict(metadata={"description": "抽查检查结果: total and count by outcome"})
    amounts = ma.fields.Dict(
        metadata={
            "description": "fine and confiscation totals in yuan (strings, exact), from the decisions' details "
            "fine_amount and confiscation_amount; decisions: how many carry one"
        }
    )
    on_time = ma.fields.Dict(metadata={"description": "公示率: items published by their deadline"})
    reviews = ma.fields.Dict(metadata={"description": "legal reviews: submitted, and counts by outcome"})
    complaints = ma.fields.Dict(metadata={"description": "complaints: received, by_status, average_rating"})
    withdrawals = ma.fields.Dict(metadata={"description": "withdrawals by reason"})
    evaluations = ma.fields.Dict(
        metadata={"description": "案卷评查: cases scored in the year, mean score, points deducted per sheet item"}
    )


class RegionSubmissionSchema(Schema):
    code = ma.fields.String(metadata={"description": "the agency's code"})
    name = ma.fields.String(metadata={"description": "its name"})
    region = ma.fields.String(metadata={"description": "its division code"})
    submitted = ma.fields.Boolean(metadata={"description": "its annual_statistics item of the year is published"})
    submitted_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when it published its statistics, ISO 8601 with the +08:00 offset (Beijing time)"},
    )
    late = ma.fields.Boolean(metadata={"description": "published after report_due, or not yet and report_due passed"})


class RegionalReportSchema(AnnualReportSchema):
    """A 司法行政部门's roll-up: the figures of every agency in its division and below (itself included)."""

    region = ma.fields.String(metadata={"description": "the division rolled up"})
    report_due = ma.fields.Date(metadata={"description": "15 January: agencies' data due, and this roll-up"})
    agencies = ma.fields.List(
        ma.fields.Nested(RegionSubmissionSchema), metadata={"description": "each agency's submission"}
    )
    submissions = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "{agencies, submitted, late}: how many agencies, how many submitted, how many late"},
    )


# -- 实时调阅 ----------------------------------------------------------------------------------------
class CaseListArgsSchema(PageArgsSchema):
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "agency code"})
    case_no = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "a case number's start"})
    date_from = ma.fields.Date(data_key="from", metadata={"description": "opened on or after"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "opened on or before"})


class SupervisedCaseSchema(Schema):
    agency = ma.fields.String(attribute="agency.code", metadata={"description": "the agency's code"})
    agency_name = ma.fields.String(attribute="agency.name", metadata={"description": "its name"})
    case_no = ma.fields.String(metadata={"description": "the case number"})
    category = ma.fields.String(metadata={"description": "执法类别"})
    major = ma.fields.Boolean(metadata={"description": "flagged major by the agency"})
    matter = ma.fields.String(metadata={"description": "its matter"})
    officers = ma.fields.List(ma.fields.String(), metadata={"description": "执法证号 of its officers"})
    subject_type = ma.fields.String(allow_none=True, metadata={"description": "person or organization"})
    subject_name = ma.fields.String(allow_none=True, metadata={"description": "行政相对人 name"})
    opened_on = ma.fields.Date(metadata={"description": "立案 day, YYYY-MM-DD"})
    record_count = ma.fields.Integer(metadata={"description": "records in its chain"})
    head_hash = ma.fields.String(allow_none=True, metadata={"description": "hash of the chain's last record"})
    decided_on = ma.fields.Date(allow_none=True, metadata={"description": "the date of its first decision record"})
    publish_deadline = ma.fields.Date(
        allow_none=True, metadata={"description": "when its decision disclosure is due, counted from decided_on"}
    )


CaseListSchema = page_schema(SupervisedCaseSchema, "SupervisedCaseListSchema")


class CaseDisclosureSchema(Schema):
    id = ma.fields.String(metadata={"description": "the item's id"})
    external_id = ma.fields.String(metadata={"description": "the agency's own id"})
    title = ma.fields.String(metadata={"description": "the original title (supervisors see originals)"})
    document_no = ma.fields.String(allow_none=True, metadata={"description": "文书号"})
    status = ma.fields.String(metadata={"description": "the item's status"})
    decision_date = ma.fields.Date(allow_none=True, metadata={"description": "decision day, YYYY-MM-DD"})
    publish_deadline = ma.fields.Date(allow_none=True, metadata={"description": "statutory deadline, YYYY-MM-DD"})
    published_at = BeijingDateTime(
        allow_none=True, metadata={"description": "when it went public, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    published_late = ma.fields.Boolean(metadata={"description": "published after its deadline"})
    withdrawal_reason = ma.fields.String(allow_none=True, metadata={"description": "why it was taken down, if it was"})


class CaseComplaintSchema(Schema):
    tracking_no = ma.fields.String(metadata={"description": "the complaint's tracking number"})
    category = ma.fields.String(metadata={"description": "its category"})
    status = ma.fields.String(metadata={"description": "its status"})
    created_at = BeijingDateTime(
        metadata={"description": "when it was filed, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    disclosure_id = ma.fields.String(metadata={"description": "the decision disclosure it is about"})


class CaseFileSchema(Schema):
    """A case as a supervisor reads it (实时调阅); every read is audited."""

    case = ma.fields.Nested(SupervisedCaseSchema, metadata={"description": "the case"})
    valid = ma.fields.Boolean(attribute="chain.valid", metadata={"description": "every hash recomputed and linked"})
    problems = ma.fields.List(
        ma.fields.String(),
        attribute="chain.problems",
        metadata={"description": "what breaks the record chain (empty when valid)"},
    )
    flags = ma.fields.List(
        ma.fields.Dict(), attribute="chain.flags", metadata={"description": "missing_av, recording_gap, late_evidence"}
    )
    records = ma.fields.List(
        ma.fields.Nested(RecordSchema),
        attribute="chain.records",
        metadata={"description": "the case's records in order"},
    )
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema), metadata={"description": "submissions and opinions"})
    disclosures = ma.fields.List(
        ma.fields.Nested(CaseDisclosureSchema), metadata={"description": "decision disclosures naming the case"}
    )
    complaints = ma.fields.List(
        ma.fields.Nested(CaseComplaintSchema),
        metadata={"description": "complaints about those disclosures (complaints name a disclosure, not a case)"},
    )


class CaseReadsArgsSchema(PageArgsSchema):
    date_from = ma.fields.Date(data_key="from", metadata={"description": "first day (from=), YYYY-MM-DD"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "last day (to=), inclusive, YYYY-MM-DD"})


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
    key = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z_]{1,32}$"),
        metadata={"description": "the item's key (lowercase letters and _)"},
    )
    label = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=40), metadata={"description": "its Chinese name"}
    )
    points = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "the most points it scores (1-100)"},
    )


class EvaluationRoundRequestSchema(Schema):
    agency = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={"description": "or region"})
    region = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$"), metadata={"description": "and below"})
    date_from = ma.fields.Date(required=True, metadata={"description": "cases closed (结案) from this day"})
    date_to = ma.fields.Date(
        required=True, metadata={"description": "cases closed up to this day, inclusive, YYYY-MM-DD"}
    )
    sample_size = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=10000),
        metadata={"description": "how many cases to draw (or sample_percent)"},
    )
    sample_percent = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "what share of the cases to draw, in percent (or sample_size)"},
    )
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
    id = ma.fields.Integer(metadata={"description": "the round's number"})
    parameters = ma.fields.Dict(metadata={"description": "hashed into the seed as canonical JSON"})
    sheet = ma.fields.List(ma.fields.Dict(), metadata={"description": "the scoring sheet: [{key, label, points}]"})
    announcement_index = ma.fields.Integer(metadata={"description": "the log entry announcing the round"})
    checkpoint = ma.fields.Nested(CheckpointSchema, metadata={"description": "first checkpoint after it"})
    seed = ma.fields.String(
        metadata={
            "description": "the draw's seed: SHA-256 (hex) of the checkpoint's root hash, the parameters "
            "and the eligible cases"
        }
    )
    eligible = ma.fields.List(ma.fields.String(), metadata={"description": "sorted <agency>/<case no> closed in scope"})
    sample = ma.fields.List(ma.fields.String(), metadata={"description": "in rank order"})


class EvaluationCaseSchema(Schema):
    round = ma.fields.Integer(attribute="round_id", metadata={"description": "the round's number"})
    rank = ma.fields.Integer(metadata={"description": "the case's rank in the draw, from 1"})
    case = ma.fields.Function(
        lambda item: f"{item.case.agency.code}/{item.case.case_no}", metadata={"description": "<agency code>/<case no>"}
    )
    sheet = ma.fields.Function(lambda item: item.round.sheet, metadata={"description": "the round's scoring sheet"})
    scores = ma.fields.Dict(
        allow_none=True, metadata={"description": "{item key: {score, comment}}; null until scored"}
    )
    total = ma.fields.Integer(allow_none=True, metadata={"description": "the total score; null until scored"})
    scored_at = BeijingDateTime(
        allow_none=True, metadata={"description": "when it was scored, ISO 8601 with the +08:00 offset (Beijing time)"}
    )


class EvaluationAssignmentsSchema(Schema):
    assignments = ma.fields.List(
        ma.fields.Nested(EvaluationCaseSchema), metadata={"description": "the cases assigned to you"}
    )


class EvaluationScoreRequestSchema(Schema):
    scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        required=True,
        metadata={"description": "{item key: {score, comment}} for every item of the round's sheet"},
    )


class EvaluationResultsSchema(Schema):
    round = ma.fields.Integer(metadata={"description": "the round's number"})
    assigned = ma.fields.Integer(metadata={"description": "cases drawn"})
    scored = ma.fields.Integer(metadata={"description": "cases scored so far"})
    agencies = ma.fields.List(ma.fields.Dict(), metadata={"description": "cases evaluated, mean score, deductions"})


class NegativeListArgsSchema(PageArgsSchema):
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"),
        metadata={"description": "only this division and below"},
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    current = ma.fields.Boolean(metadata={"description": "true: only matters on the list now; false: only past"})


class NegativeListEntrySchema(Schema):
    id = ma.fields.Integer(metadata={"description": "the entry's number"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the agency"})
    matter_key = ma.fields.String(metadata={"description": "事项编码 where the acts give one, else the matter's name"})
    matter_name = ma.fields.String(metadata={"description": "the matter's name"})
    entered_at = BeijingDateTime(
        metadata={"description": "when it went on the list, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    entered_figures = ma.fields.Dict(
        metadata={"description": "period, complaints, corrections, withdrawals by reason, overdue, deductions, crossed"}
    )
    left_at = BeijingDateTime(
        allow_none=True,
        metadata={
            "description": "when it left the list, ISO 8601 with the +08:00 offset (Beijing time); null while on it"
        },
    )
    left_figures = ma.fields.Dict(allow_none=True, metadata={"description": "the figures when it left"})


NegativeListSchema = page_schema(NegativeListEntrySchema, "NegativeListSchema")


class NegativeListPublishSchema(Schema):
    agency = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "code of the 司法行政部门 that publishes its region's list"},
    )


class MatterRankingArgsSchema(Schema):
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^[1-8]\d{5}$", error="a 6-digit division code"),
        metadata={"description": "only this division and below"},
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    date_from = ma.fields.Date(
        data_key="from", required=True, metadata={"description": "first day (from=), YYYY-MM-DD"}
    )
    date_to = ma.fields.Date(
        data_key="to", required=True, metadata={"description": "last day (to=), inclusive, YYYY-MM-DD"}
    )
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=500),
        metadata={"description": "most matters to list (1-500)"},
    )

    @ma.validates_schema
    def in_order(self, data: dict, **_kwargs: object) -> None:
        if data["date_from"] > data["date_to"]:
            raise ma.ValidationError({"to": ["must not be before from"]})


class MatterFiguresSchema(Schema):
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the agency"})
    matter_key = ma.fields.String(metadata={"description": "事项编码 where the acts give one, else the matter's name"})
    matter = ma.fields.String(metadata={"description": "the matter's name"})
    complaints = ma.fields.Integer(metadata={"description": "substantiated complaints"})
    corrections = ma.fields.Integer(metadata={"description": "corrections of published decisions"})
    withdrawals = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), metadata={"description": "withdrawals by reason"}
    )
    overdue = ma.fields.Integer(metadata={"description": "items published late"})
    deductions = ma.fields.Float(metadata={"description": "evaluation points deducted"})
    crossed = ma.fields.List(ma.fields.String(), metadata={"description": "the figures at or over their threshold"})


class MatterRankingSchema(Schema):
    items = ma.fields.List(
        ma.fields.Nested(MatterFiguresSchema),
        metadata={"description": "matters, the worst first (most figures crossed, then complaints, corrections, ...)"},
    )
