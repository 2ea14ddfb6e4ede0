import datetime as dt
from typing import Any

import marshmallow as ma

from backend.extensions.smorest import Schema


class SignedTime(ma.fields.DateTime):
    """A checkpoint's time as signed (services.signed_message): UTC to the second, ``2026-12-06T05:31:00Z``. An
    RFC 3339 date-time, so the document says ``format: date-time`` (a strftime format would mean nothing there)."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


class HexBytes(ma.fields.Field):
    """Bytes as lowercase hex."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else bytes(value).hex()


class CheckpointSchema(Schema):
    tree_size = ma.fields.Integer()
    root_hash = HexBytes()
    timestamp = SignedTime(
        metadata={
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
            "description": "when it was signed, UTC to the second, exactly as the signature covers it",
        }
    )
    signature = ma.fields.String(
        metadata={"description": "Ed25519, or SM2 r‖s with SIGNATURE_SUITE=sm2; hex, over the signed message (README)"}
    )
    key_id = ma.fields.String()


class EntriesArgsSchema(Schema):
    start = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    end = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))


class EntrySchema(Schema):
    index = ma.fields.Integer()
    leaf_hash = HexBytes()
    event = ma.fields.String()
    item_id = ma.fields.String()
    agency = ma.fields.String()
    actor = ma.fields.String()
    time = ma.fields.Function(lambda entry: entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    commitment = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()


class EntriesSchema(Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))


class InclusionArgsSchema(Schema):
    index = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    tree_size = ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={"description": "default: current"})


class InclusionSchema(Schema):
    index = ma.fields.Integer()
    tree_size = ma.fields.Integer()
    hashes = ma.fields.List(HexBytes())


class ConsistencyArgsSchema(Schema):
    first = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    second = ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={"description": "default: current"})


class ConsistencySchema(Schema):
    first = ma.fields.Integer()
    second = ma.fields.Integer()
    hashes = ma.fields.List(HexBytes())
