import marshmallow as ma

from backend.extensions.smorest import Schema
from backend.transparency.schemas import CheckpointSchema

from . import credit


class ChangesArgsSchema(Schema):
    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0),
        metadata={"description": "the cursor: log index to read from (0, or the last page's next_cursor)"},
    )
    limit = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(min=1, max=500),
        metadata={"description": "most changes per page (1-500)"},
    )
    tree_size = ma.fields.Integer(
        validate=ma.validate.Range(min=1),
        metadata={"description": "prove against this signed checkpoint (default: the latest)"},
    )


class ChangeSchema(Schema):
    index = ma.fields.Integer(metadata={"description": "the change's log index: the cursor after it is index + 1"})
    event = ma.fields.String(
        metadata={"description": "what happened (each event's JSON Schema is at /api/v1/exchange/schemas/{name}.json)"}
    )
    item_id = ma.fields.String(metadata={"description": "the item it concerns"})
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    actor = ma.fields.String(metadata={"description": "who: client:<id>, admin:<username> or system:<job>"})
    time = ma.fields.String(metadata={"description": "when it was logged, ISO 8601 in UTC (Z)"})
    commitment = ma.fields.String(
        allow_none=True,
        metadata={"description": "salted SHA-256 of the committed content (hex); null for events without content"},
    )
    detail = ma.fields.Dict(metadata={"description": "the event's public particulars"})
    leaf_hash = ma.fields.String(
        metadata={"description": "the entry's Merkle leaf hash (hex), to check against proof and checkpoint"}
    )
    content = ma.fields.Dict(
        allow_none=True, metadata={"description": "{committed, salt} while the committed content is public"}
    )
    proof = ma.fields.List(ma.fields.String(), metadata={"description": "inclusion proof in the page's checkpoint"})


class ChangesSchema(Schema):
    checkpoint = ma.fields.Nested(
        CheckpointSchema, metadata={"description": "the signed checkpoint every proof of the page is in"}
    )
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), metadata={"description": "the changes in log order"})
    next_cursor = ma.fields.Integer(metadata={"description": "pass as after= to read on"})
    more = ma.fields.Boolean(metadata={"description": "true when more changes follow"})


class CreditArgsSchema(Schema):
    type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(credit.KINDS)),
        metadata={"description": "penalty (行政处罚) or licensing (行政许可)"},
    )
    since = ma.fields.Date(metadata={"description": "first day (Beijing) of publication; absent: from the start"})
    format = ma.fields.String(
        load_default="json", validate=ma.validate.OneOf(["json", "csv"]), metadata={"description": "json or csv"}
    )


class CreditExportSchema(Schema):
    type = ma.fields.String(metadata={"description": "penalty or licensing"})
    columns = ma.fields.List(ma.fields.String(), metadata={"description": "the standard's fields, in its order"})
    rows = ma.fields.List(
        ma.fields.List(ma.fields.String()), metadata={"description": "one per decision, values as the columns"}
    )
