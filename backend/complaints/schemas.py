import marshmallow as ma
from flask_smorest.fields import Upload

from backend.agencies.schemas import REGION_CODE
from backend.extensions.smorest import Schema
from backend.timezone import CHINA, BeijingDateTime

from .models import Category

PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9\- ]{6,19}$", error="a phone number")


class ComplaintCreateSchema(Schema):
    category = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(Category)),
        metadata={
            "description": "no_credential 未亮证/证件无效, misconduct 执法不规范, arbitrary_charges 乱罚款/乱收费, "
            "attitude 态度问题, wrong_disclosure 公示信息有误, other 其他"
        },
    )
    content = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=5, max=2000),
        metadata={"description": "what happened, in the citizen's words (5-2000 characters)"},
    )
    badge_no = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^[0-9A-Za-z-]{4,32}$"),
        metadata={"description": "the officer's 执法证号, if known"},
    )
    agency = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=40), metadata={"description": "the agency's code, if known"}
    )
    disclosure_id = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=32),
        metadata={"description": "the published item it is about, if any"},
    )
    region = ma.fields.String(
        allow_none=True, validate=REGION_CODE, metadata={"description": "6-digit division code where it happened"}
    )
    place = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "where it happened (up to 200 characters)"},
    )
    occurred_at = ma.fields.AwareDateTime(
        allow_none=True,
        default_timezone=CHINA,
        metadata={"description": "when it happened, ISO 8601 (Beijing time if no offset)"},
    )
    contact_phone = ma.fields.String(
        allow_none=True,
        validate=PHONE,
        metadata={"description": "a phone number to reach the complainant (never public)"},
    )
    receipt = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "the signed scan receipt from the badge verification page"},
    )


class FiledSchema(Schema):
    tracking_no = ma.fields.String(metadata={"description": "the complaint's tracking number"})
    query_code = ma.fields.String(metadata={"description": "secret: with the tracking number it opens the complaint"})
    status = ma.fields.String(metadata={"description": "its status"})
    agency = ma.fields.Dict(metadata={"description": "the agency it was routed to: {code, name}"})
    accept_due = ma.fields.Date(metadata={"description": "the day it must be accepted by, YYYY-MM-DD"})


QUERY_CODE_LENGTH = ma.validate.Length(min=4, max=16)
# The query code is a secret: in a header or a body, never in the URL (access logs, Referer headers).
QUERY_CODE_HEADER = "X-Query-Code"


class QueryCodeSchema(Schema):
    code = ma.fields.String(
        required=True, validate=QUERY_CODE_LENGTH, metadata={"description": "the secret query code given on filing"}
    )


class QueryCodeHeaderSchema(Schema):
    code = ma.fields.String(
        required=True,
        data_key=QUERY_CODE_HEADER,
        validate=QUERY_CODE_LENGTH,
        metadata={"description": "the query code given when filing; a `code` in the query string is refused (400)"},
    )


class TimelineEventSchema(Schema):
    at = BeijingDateTime(metadata={"description": "when, ISO 8601 with the +08:00 offset (Beijing time)"})
    kind = ma.fields.String(
        metadata={
            "description": "what happened: submitted, accepted, rejected, assigned, replied, closed, escalated, "
            "reopened, rated"
        }
    )
    label = ma.fields.String(metadata={"description": "its Chinese name"})
    text = ma.fields.String(allow_none=True, metadata={"description": "the agency's reply or note, if any"})


class DeadlineSchema(Schema):
    kind = ma.fields.String(metadata={"description": "accept (受理) or reply (答复)"})
    due = ma.fields.Date(metadata={"description": "the last day, YYYY-MM-DD (Beijing date)"})
    text = ma.fields.String(metadata={"description": "the agency's undertaking, e.g. 将于 2025年10月23日 前受理"})
    met = ma.fields.Boolean(metadata={"description": "whether the agency has done it"})
    passed = ma.fields.Boolean(metadata={"description": "whether the day passed without it"})


class EscalationSchema(Schema):
    agency = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "the supervising 司法局: {code, name, phone}; null where none is known (12345 then)"},
    )
    hotline = ma.fields.String(metadata={"description": "the 12345 government service hotline"})
    text = ma.fields.String(metadata={"description": "what to tell the citizen, in Chinese"})


class ComplaintViewSchema(Schema):
    tracking_no = ma.fields.String(metadata={"description": "the tracking number"})
    status = ma.fields.String(metadata={"description": "where it stands"})
    status_label = ma.fields.String(metadata={"description": "its Chinese name"})
    category = ma.fields.String(metadata={"description": "the complaint's category"})
    category_label = ma.fields.String(metadata={"description": "its Chinese name"})
    created_at = BeijingDateTime(
        metadata={"description": "when it was filed, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    agency = ma.fields.Dict(metadata={"description": "the agency handling it: {code, name}"})
    accept_due = ma.fields.Date(metadata={"description": "accept by, YYYY-MM-DD"})
    reply_due = ma.fields.Date(allow_none=True, metadata={"description": "reply by, YYYY-MM-DD; null until accepted"})
    deadlines = ma.fields.List(
        ma.fields.Nested(DeadlineSchema), metadata={"description": "each deadline that applies, in citizen wording"}
    )
    escalation = ma.fields.Nested(
        EscalationSchema,
        allow_none=True,
        metadata={"description": "whom to turn to, once a deadline passed unmet; null while none has"},
    )
    timeline = ma.fields.List(
        ma.fields.Nested(TimelineEventSchema), metadata={"description": "what happened, oldest first"}
    )
    rating = ma.fields.Integer(
        allow_none=True, metadata={"description": "the complainant's satisfaction, 1-5; null until rated"}
    )
    can_rate = ma.fields.Boolean(metadata={"description": "whether it can be rated now"})
    can_reopen = ma.fields.Boolean(metadata={"description": "whether it can be reopened now"})
    reopen_until = BeijingDateTime(
        allow_none=True,
        metadata={"description": "last moment to reopen, ISO 8601 with the +08:00 offset (Beijing time)"},
    )


class RatingSchema(QueryCodeSchema):
    score = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "satisfaction from 1 (very dissatisfied) to 5 (very satisfied)"},
    )
    comment = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "a comment (up to 500 characters)"},
    )


class ReopenSchema(QueryCodeSchema):
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=5, max=1000),
        metadata={"description": "why the reply did not settle it (5-1000 characters)"},
    )


class EvidenceUploadSchema(Schema):
    # Required, but checked after the tracking number and code: whoever holds no complaint learns nothing more.
    evidence = Upload(
        metadata={
            "description": "required: one file, a JPEG, PNG or WebP image, or a PDF, judged by its content (not "
            "its name or type); images are re-encoded without EXIF (no location). At most "
            "COMPLAINT_EVIDENCE_MAX_BYTES (413 past it) and COMPLAINT_EVIDENCE_MAX_FILES per complaint"
        },
    )


class EvidenceReceiptSchema(Schema):
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the file as kept (an image after re-encoding)"})
    media_type = ma.fields.String(metadata={"description": "image/jpeg, image/png, image/webp or application/pdf"})
    size = ma.fields.Integer(metadata={"description": "bytes kept"})
