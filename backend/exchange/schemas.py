from typing import Any

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
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))
    tree_size = ma.fields.Integer(
        validate=ma.validate.Range(min=1),
        metadata={"description": "prove against this signed checkpoint (default: the latest)"},
    )


class ChangeSchema(Schema):
    index = ma.fields.Integer()
    event = ma.fields.String()
    item_id = ma.fields.String()
    agency = ma.fields.String()
    actor = ma.fields.String()
    time = ma.fields.String()
    commitment = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()
    leaf_hash = ma.fields.String()
    content = ma.fields.Dict(
        allow_none=True, metadata={"description": "{committed, salt} while the committed content is public"}
    )
    proof = ma.fields.List(ma.fields.String(), metadata={"description": "inclusion proof in the page's checkpoint"})


class ChangesSchema(Schema):
    checkpoint = ma.fields.Nested(CheckpointSchema)
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    next_cursor = ma.fields.Integer()
    more = ma.fields.Boolean()


class CreditArgsSchema(Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(credit.KINDS)))
    since = ma.fields.Date(metadata={"description": "first day (Beijing) of publication; absent: from the start"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))
    after = ma.fields.String(
        validate=ma.validate.Regexp(r"^\d{1,18}\.[0-9a-f]{32}$", error="a cursor from a previous page's next"),
        metadata={"description": "the previous page's `next` (JSON) or `X-Next-Cursor` header (CSV); absent: first"},
    )
    limit = ma.fields.Integer(
        load_default=credit.PAGE,
        validate=ma.validate.Range(min=1, max=5000),
        metadata={"description": "rows per page, 1-5000"},
    )

    @ma.post_load
    def cursor(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "after" in data:
            try:
                data["after"] = credit.Cursor.parse(data["after"])
            except OverflowError:
                raise ma.ValidationError("a cursor from a previous page's next", "after") from None
        return data


class CreditExportSchema(Schema):
    type = ma.fields.String(metadata={"description": "penalty or licensing"})
    fields = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "the standard's field codes (CF_XDR_MC, …, BZ / XK_XDR_MC, …, BZ), in its order"},
    )
    columns = ma.fields.List(
        ma.fields.String(), metadata={"description": "the standard's field names, in the same order (the CSV header)"}
    )
    rows = ma.fields.List(
        ma.fields.List(ma.fields.String()), metadata={"description": "one per decision, values as the columns"}
    )
    next = ma.fields.String(
        allow_none=True, metadata={"description": "pass as `after` for the next page; null: this is the last"}
    )
