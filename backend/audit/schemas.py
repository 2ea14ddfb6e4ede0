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
    target_type = ma.fields.String(
        validate=ma.validate.Length(max=32), metadata={"description": "what kind of thing was acted on: admin_user …"}
    )
    target_id = ma.fields.String(
        validate=ma.validate.Length(max=128), metadata={"description": "which one (a username, an item id, a path)"}
    )
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
    id = ma.fields.Integer(metadata={"description": "its place in the trail, increasing"})
    at = BeijingDateTime(metadata={"description": "when, ISO 8601 with +08:00"})
    actor = ma.fields.String(metadata={"description": "who: admin:<username>, client:<client_id>, system:<job>, cli"})
    action = ma.fields.String(metadata={"description": "what was done, e.g. admin.login, disclosure.withdraw"})
    target_type = ma.fields.String(metadata={"description": "the kind of thing acted on"})
    target_id = ma.fields.String(metadata={"description": "the thing acted on"})
    ip = ma.fields.String(allow_none=True, metadata={"description": "the request's address; null for CLI and jobs"})
    detail = ma.fields.Dict(metadata={"description": "what else the action recorded (reason, query, counts …)"})


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
