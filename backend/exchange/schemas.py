from typing import Any

import marshmallow as ma

from backend.agencies.schemas import REGION_CODE
from backend.complaints.schemas import PHONE
from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import Schema
from backend.timezone import BeijingDateTime
from backend.transparency.schemas import CheckpointSchema

from . import credit, hotline, push
from .events import event_types


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


class SubscriptionCreateSchema(Schema):
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2000),
        metadata={"description": "where events are POSTed: https, or http only to a loopback host"},
    )
    event_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(event_types()))),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "log events the changes feed carries (publish, correct, …) and workorder.status"},
    )
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^\d{6}$"),
        metadata={"description": "the client's region or a division under it; absent: the client's region"},
    )
    after = ma.fields.Integer(
        validate=ma.validate.Range(min=0),
        metadata={"description": "push log events from this log index (a feed cursor); absent: from now on"},
    )


class SubscriptionSchema(Schema):
    id = ma.fields.Integer(
        dump_only=True, metadata={"description": "the subscription's number, for GET, DELETE and resume"}
    )
    url = ma.fields.String(metadata={"description": "where events are POSTed"})
    event_types = ma.fields.List(ma.fields.String(), metadata={"description": "the event types pushed"})
    region = ma.fields.String(attribute="region_code", metadata={"description": "six-digit division code"})
    state = ma.fields.String(
        metadata={"description": "active, or parked: a delivery failed for the whole retry window; an admin resumes"}
    )
    log_cursor = ma.fields.Integer(metadata={"description": "log entries below this index have been queued"})
    pending = ma.fields.Function(
        lambda subscription: push.pending_count(subscription),
        metadata={"description": "deliveries queued and not yet answered 2xx"},
    )
    created_at = BeijingDateTime(metadata={"description": "when it was made"})
    parked_at = BeijingDateTime(allow_none=True, metadata={"description": "while parked"})


class IssuedSubscriptionSchema(Schema):
    subscription = ma.fields.Nested(SubscriptionSchema, metadata={"description": "the subscription made"})
    secret = ma.fields.String(
        metadata={"description": "the signing secret, shown this once: keep it to verify X-Sanxiang-Signature"}
    )


class ParkedDeliverySchema(Schema):
    event_id = ma.fields.UUID(metadata={"description": "the id every attempt carried (X-Sanxiang-Event-Id)"})
    sequence = ma.fields.Integer(metadata={"description": "its place in the subscription's order"})
    event_type = ma.fields.String(metadata={"description": "a log event (publish, …) or workorder.status"})
    attempts = ma.fields.Integer(metadata={"description": "attempts made, all under the same event id"})
    first_attempt_at = BeijingDateTime(metadata={"description": "the retry window runs from here"})
    parked_at = BeijingDateTime(metadata={"description": "when its last try failed"})
    last_error = ma.fields.String(allow_none=True, metadata={"description": "the receiver's last answer or error"})


class ParkedSubscriptionSchema(SubscriptionSchema):
    client_id = ma.fields.String(attribute="client.client_id", metadata={"description": "the exchange client"})
    parked_delivery = ma.fields.Nested(
        ParkedDeliverySchema,
        allow_none=True,
        metadata={"description": "the delivery that failed for the whole retry window (what resume sends first)"},
    )


# -- 12345 work orders --------------------------------------------------------------------------
WORK_ORDER_EXAMPLE = {
    "order_no": "GD2025102000123",
    "content": "鲤城区某市场执法人员检查时未出示执法证件，态度粗暴。",
    "category": "执法证件",
    "region": "350502",
    "caller_name": "王女士",
    "caller_phone": "13800000000",
    "due_date": "2025-11-03",
}


class WorkOrderCreateSchema(Schema):
    order_no = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[0-9A-Za-z_-]{4,64}$", error="4-64 letters, digits, - or _"),
        metadata={
            "description": "工单编号, the hotline's number: the same number and body again answer the same "
            "complaint (200); the same number with another body is refused (409)",
            "example": "GD2025102000123",
        },
    )
    content = ma.fields.String(
        required=True, validate=ma.validate.Length(min=5, max=2000), metadata={"description": "诉求内容"}
    )
    category = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(hotline.CATEGORIES)),
        metadata={
            "description": "诉求类别 -> complaint category: "
            + ", ".join(f"{name} -> {category}" for name, category in hotline.CATEGORIES.items())
        },
    )
    region = ma.fields.String(
        required=True,
        validate=REGION_CODE,
        metadata={"description": "区域: 6-digit division code within the client's region", "example": "350502"},
    )
    agency = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=40),
        metadata={"description": "承办单位 code, when the hotline dispatches to a known agency of its region"},
    )
    caller_name = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=50),
        metadata={"description": "来电人 name: private, seen by handlers only"},
    )
    caller_phone = ma.fields.String(
        allow_none=True, validate=PHONE, metadata={"description": "来电人 phone: private, seen by handlers only"}
    )
    due_date = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "要求办结时限 (Beijing date, not before today): the earlier of it and the statutory "
            "deadline runs"
        },
    )


class WorkOrderSchema(Schema):
    order_no = ma.fields.String(metadata={"description": "工单编号"})
    tracking_no = ma.fields.String(
        attribute="complaint.tracking_no", metadata={"description": "the complaint's number"}
    )
    status = ma.fields.Function(
        lambda order: hotline.status_of(order.complaint)[0],
        metadata={"description": "pending, accepted (受理), replied (回复), closed (办结), returned (退回)"},
    )
    status_label = ma.fields.Function(
        lambda order: hotline.status_of(order.complaint)[1],
        metadata={"type": "string", "description": "the status in Chinese: 已受理, 已回复, 已办结, 已退回 …"},
    )
    region = ma.fields.String(attribute="region_code", metadata={"description": "区域: 6-digit division code"})
    agency = ma.fields.Nested(AgencyRefSchema, attribute="complaint.agency", metadata={"description": "承办单位"})
    created_at = BeijingDateTime(attribute="complaint.created_at", metadata={"description": "when it was received"})
    due_date = ma.fields.Date(
        attribute="complaint.requested_due", allow_none=True, metadata={"description": "要求办结时限 as sent"}
    )
    accept_due = ma.fields.Date(attribute="complaint.accept_due", metadata={"description": "受理期限 that runs"})
    reply_due = ma.fields.Date(
        attribute="complaint.reply_due", allow_none=True, metadata={"description": "答复期限 that runs, once accepted"}
    )
    satisfaction = ma.fields.String(allow_none=True, metadata={"description": "回访满意度, once given"})
    rating = ma.fields.Integer(attribute="complaint.rating", allow_none=True, metadata={"description": "1-5"})


class SatisfactionSchema(Schema):
    result = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(hotline.SATISFACTION)),
        metadata={
            "description": "回访满意度 -> rating: "
            + ", ".join(f"{code} ({label}) -> {score}" for code, (label, score) in hotline.SATISFACTION.items())
        },
    )
    comment = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=500), metadata={"description": "回访意见"}
    )
