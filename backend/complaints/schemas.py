import marshmallow as ma

from backend.agencies.schemas import REGION_CODE
from backend.extensions.smorest import Schema
from backend.timezone import BeijingDateTime

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
    content = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=2000))
    badge_no = ma.fields.String(allow_none=True, validate=ma.validate.Regexp(r"^[0-9A-Za-z-]{4,32}$"))
    agency = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=40))
    disclosure_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=32))
    region = ma.fields.String(allow_none=True, validate=REGION_CODE)
    place = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    occurred_at = ma.fields.AwareDateTime(allow_none=True, default_timezone=None)
    contact_phone = ma.fields.String(allow_none=True, validate=PHONE)
    receipt = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "the signed scan receipt from the badge verification page"},
    )


class FiledSchema(Schema):
    tracking_no = ma.fields.String()
    query_code = ma.fields.String(metadata={"description": "secret: with the tracking number it opens the complaint"})
    status = ma.fields.String()
    agency = ma.fields.Dict()
    accept_due = ma.fields.Date()


QUERY_CODE_LENGTH = ma.validate.Length(min=4, max=16)
# The query code is a secret: in a header or a body, never in the URL (access logs, Referer headers).
QUERY_CODE_HEADER = "X-Query-Code"


class QueryCodeSchema(Schema):
    code = ma.fields.String(required=True, validate=QUERY_CODE_LENGTH)


class QueryCodeHeaderSchema(Schema):
    code = ma.fields.String(
        required=True,
        data_key=QUERY_CODE_HEADER,
        validate=QUERY_CODE_LENGTH,
        metadata={"description": "the query code given when filing; a `code` in the query string is refused (400)"},
    )


class TimelineEventSchema(Schema):
    at = BeijingDateTime()
    kind = ma.fields.String()
    label = ma.fields.String()
    text = ma.fields.String(allow_none=True)


class ComplaintViewSchema(Schema):
    tracking_no = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    category = ma.fields.String()
    category_label = ma.fields.String()
    created_at = BeijingDateTime()
    agency = ma.fields.Dict()
    accept_due = ma.fields.Date()
    reply_due = ma.fields.Date(allow_none=True)
    timeline = ma.fields.List(ma.fields.Nested(TimelineEventSchema))
    rating = ma.fields.Integer(allow_none=True)
    can_rate = ma.fields.Boolean()
    can_reopen = ma.fields.Boolean()
    reopen_until = BeijingDateTime(allow_none=True)


class RatingSchema(QueryCodeSchema):
    score = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class ReopenSchema(QueryCodeSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=1000))
