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
    tree_size = ma.fields.Integer(metadata={"description": "how many entries the log held when signed"})
    root_hash = HexBytes(metadata={"description": "Merkle root of those entries (SHA-256, hex)"})
    timestamp = SignedTime(
        metadata={
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
            "description": "when it was signed, UTC to the second, exactly as the signature covers it",
        }
    )
    signature = ma.fields.String(
        metadata={"description": "Ed25519, or SM2 r‖s with SIGNATURE_SUITE=sm2; hex, over the signed message (README)"}
    )
    key_id = ma.fields.String(metadata={"description": "which key signed it (see /api/v1/transparency/keys)"})


class EntriesArgsSchema(Schema):
    start = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0), metadata={"description": "first log index, from 0"}
    )
    end = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1), metadata={"description": "one past the last log index"}
    )


class EntrySchema(Schema):
    index = ma.fields.Integer(metadata={"description": "the entry's position in the log, from 0"})
    leaf_hash = HexBytes(metadata={"description": "the entry's Merkle leaf hash (SHA-256, hex)"})
    event = ma.fields.String(
        metadata={
            "description": "what happened, e.g. publish, correct, withdraw, withhold, review_submit, review_opinion"
        }
    )
    item_id = ma.fields.String(
        metadata={"description": "the item (disclosure id, <agency>/<case no>, officer) it concerns"}
    )
    agency = ma.fields.String(metadata={"description": "the agency's code"})
    actor = ma.fields.String(metadata={"description": "who: client:<id>, admin:<username> or system:<job>"})
    time = ma.fields.Function(
        lambda entry: entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        metadata={"description": "when it was logged, ISO 8601 in UTC (Z) with microseconds"},
    )
    commitment = ma.fields.String(
        allow_none=True,
        metadata={"description": "salted SHA-256 of the content citizens saw (hex); null for events without content"},
    )
    detail = ma.fields.Dict(metadata={"description": "the event's public particulars (e.g. a withdrawal's reason)"})


class EntriesSchema(Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema), metadata={"description": "the entries in index order"})


class InclusionArgsSchema(Schema):
    index = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0), metadata={"description": "the entry to prove"}
    )
    tree_size = ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={"description": "default: current"})


class InclusionSchema(Schema):
    index = ma.fields.Integer(metadata={"description": "the entry proved"})
    tree_size = ma.fields.Integer(metadata={"description": "the checkpoint's size it is proved in"})
    hashes = ma.fields.List(
        HexBytes(), metadata={"description": "the audit path, leaf to root (SHA-256, hex; RFC 6962)"}
    )


class ConsistencyArgsSchema(Schema):
    first = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1), metadata={"description": "the older tree size"}
    )
    second = ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={"description": "default: current"})


class ConsistencySchema(Schema):
    first = ma.fields.Integer(metadata={"description": "the older tree size"})
    second = ma.fields.Integer(metadata={"description": "the newer tree size"})
    hashes = ma.fields.List(HexBytes(), metadata={"description": "the consistency proof (SHA-256, hex; RFC 6962)"})
