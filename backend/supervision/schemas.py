import marshmallow as ma

from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import PageArgsSchema, Schema

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
    at = ma.fields.DateTime()
    actor = ma.fields.String(metadata={"description": "who: client:<id>, admin:<username> or system:<job>"})
    agency = ma.fields.Nested(AgencyRefSchema)
    disclosure_id = ma.fields.String()
    external_id = ma.fields.String()
    title = ma.fields.String(metadata={"description": "the original title (supervisors see originals)"})
    reason = ma.fields.String(allow_none=True)
    explanation = ma.fields.String(allow_none=True)
    document_no = ma.fields.String(allow_none=True)


class DisclosureChangesSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(DisclosureChangeSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
