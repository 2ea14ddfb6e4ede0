import marshmallow as ma

from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime

from .trail import Filters

# Rows of one CSV export; a longer trail is exported in parts (after_id).
EXPORT_LIMIT = 50_000


class AuditArgsSchema(PageArgsSchema):
    actor = ma.fields.String(
        validate=ma.validate.Length(max=128),
        metadata={"description": "exactly: admin:<username>, client:<client_id>, system:<job>, cli"},
    )
    action = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "an action or its start: admin.login, admin., supervision.read …"},
    )
    target_type = ma.fields.String(validate=ma.validate.Length(max=32))
    target_id = ma.fields.String(validate=ma.validate.Length(max=128))
    date_from = ma.fields.Date(data_key="from", metadata={"description": "first Beijing day"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "last Beijing day"})
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": f"csv: oldest first, at most {EXPORT_LIMIT} rows, without paging"},
    )

    @ma.post_load
    def filters(self, data: dict, **_kwargs) -> dict:
        keys = ("actor", "action", "target_type", "target_id", "date_from", "date_to")
        data["filters"] = Filters(**{key: data.pop(key, None) for key in keys})
        return data


class AuditEntrySchema(Schema):
    id = ma.fields.Integer()
    at = BeijingDateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.String()
    ip = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
