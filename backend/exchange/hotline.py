"""12345 work orders (工单): the hotline files complaints through its own client and hears of their progress.

A work order becomes a complaint like any other (``complaints.services.submit``, channel ``12345``), routed
the same way; the caller's name and phone become the complaint's private contact, which handlers read and
nothing public does. The hotline's number (工单编号) makes it idempotent per hotline client: the same order
again answers the same complaint, the same number with another body is refused (409).

Each status change of such a complaint (受理, 回复, 办结, 退回) is owed to the hotline in its own shape, through
the complaints' listener port: the listener registered here runs inside the transaction of the change and
writes the push outbox (``push.enqueue``), so a change and its message commit together or not at all.
The hotline's 回访满意度 becomes the complaint's rating (``complaints.services.rate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.accounts.scope import region_prefix
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.canonical import content_digest
from backend.complaints import listeners
from backend.complaints import services as complaints
from backend.complaints.models import Category, Complaint, ComplaintEvent, Status
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import clock, db
from backend.timezone import CHINA, today

from . import push
from .models import ExchangeClient, HotlineWorkOrder

CHANNEL = "12345"
EVENT_TYPE = "workorder.status"

# 诉求类别 as the hotline sends it -> the complaint category it becomes.
CATEGORIES = {
    "执法证件": Category.no_credential,
    "执法行为": Category.misconduct,
    "乱罚款乱收费": Category.arbitrary_charges,
    "工作作风": Category.attitude,
    "信息公开": Category.wrong_disclosure,
    "其他": Category.other,
}

# 回访满意度 code -> (label, the rating it becomes on the complaints' 1-5 scale).
SATISFACTION = {
    "satisfied": ("满意", 5),
    "basically_satisfied": ("基本满意", 3),
    "dissatisfied": ("不满意", 1),
}

# The complaint's status -> the work order's status code and label, as the hotline reads them.
STATUSES = {
    Status.submitted: ("pending", "待受理"),
    Status.accepted: ("accepted", "受理"),
    Status.replied: ("replied", "回复"),
    Status.closed: ("closed", "办结"),
    Status.rejected: ("returned", "退回"),
}
# The complaint events that change a work order's status: each is pushed back.
PUSHED_EVENTS = {
    "accepted": Status.accepted,
    "replied": Status.replied,
    "closed": Status.closed,
    "rejected": Status.rejected,
}


@dataclass(frozen=True)
class Received:
    order: HotlineWorkOrder
    created: bool


def receive(client: ExchangeClient, body: dict[str, Any], *, ip: str | None = None) -> Received:
    """File the work order ``body`` of the hotline ``client`` as a complaint, once per 工单编号.

    The number is claimed first (a unique row per client and number, committed, with the body's digest), then
    the complaint is filed and linked: two requests with the same order at once both end at one complaint (the
    second finds the claim, files with the same reference and gets the first's complaint back as its twin).
    A number is bound to its first body, even when filing it failed (422): the same body may be sent again."""
    digest = content_digest(body)
    order = find(client, body["order_no"])
    if order is None:
        # Checked for a new order only: the same order sent again after its due date is still the same order.
        _acceptable(client, body)
        order = _claim(client, body, digest)
    if order.body_digest != digest:
        raise Conflict(
            "该工单编号已用于内容不同的工单", errors={"order_no": ["already received with a different body"]}
        )
    if order.complaint is not None:
        return Received(order, created=False)
    filed = complaints.submit(
        {
            "category": CATEGORIES[body["category"]],
            "content": body["content"],
            "region": body["region"],
            "agency": body.get("agency"),
            "contact_name": body.get("caller_name"),
            "contact_phone": body.get("caller_phone"),
            "requested_due": body.get("due_date"),
        },
        channel=CHANNEL,
        reference=f"{client.client_id}/{order.order_no}",
    )
    order.complaint = filed.complaint
    record(f"exchange:{client.client_id}", "work_order.receive", "complaint", filed.complaint.tracking_no, ip=ip)
    db.session.commit()
    return Received(order, created=filed.created)


def _acceptable(client: ExchangeClient, body: dict[str, Any]) -> None:
    """A hotline files only for its own region and names only agencies of it (403), with a due date ahead."""
    prefix = region_prefix(client.region_code)
    if not body["region"].startswith(prefix):
        raise Forbidden("区域不在本热线的辖区内", errors={"region": [f"outside your region {client.region_code}"]})
    if body.get("agency"):
        agency = db.session.scalar(select(Agency).where(Agency.code == body["agency"]))
        if agency is None:
            raise Invalid("承办单位不存在", errors={"agency": [f"no agency {body['agency']!r}"]})
        if not agency.region_code.startswith(prefix):
            raise Forbidden(
                "承办单位不在本热线的辖区内", errors={"agency": [f"outside your region {client.region_code}"]}
            )
    if body.get("due_date") and body["due_date"] < today():
        raise Invalid("要求办结时限已过", errors={"due_date": ["before today (Beijing)"]})


def _claim(client: ExchangeClient, body: dict[str, Any], digest: str) -> HotlineWorkOrder:
    """The row of this number, claimed now (committed) unless another request claimed it first."""
    db.session.add(
        HotlineWorkOrder(
            client_id=client.id,
            order_no=body["order_no"],
            body_digest=digest,
            region_code=body["region"],
            created_at=clock.now(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # claimed at this moment by another request with the same number
        db.session.rollback()
    order = find(client, body["order_no"])
    assert order is not None  # claimed by this request or by the one it raced
    return order


def find(client: ExchangeClient, order_no: str) -> HotlineWorkOrder | None:
    return db.session.scalar(
        select(HotlineWorkOrder).where(HotlineWorkOrder.client_id == client.id, HotlineWorkOrder.order_no == order_no)
    )


def filed_order(client: ExchangeClient, order_no: str) -> HotlineWorkOrder:
    """A work order of this hotline that became a complaint; another hotline's number is not found."""
    order = find(client, order_no)
    if order is None or order.complaint is None:
        raise NotFound("未找到该工单", errors={"order_no": [f"no work order {order_no!r} from this client"]})
    return order


def status_of(complaint: Complaint) -> tuple[str, str]:
    """The work order's (status code, label) for the complaint's status."""
    return STATUSES[Status(complaint.status)]


def rate(client: ExchangeClient, order_no: str, result: str, comment: str | None) -> HotlineWorkOrder:
    """The hotline's 回访满意度 becomes the complaint's rating (once, after it is closed; 409 otherwise)."""
    order = filed_order(client, order_no)
    label, score = SATISFACTION[result]
    order.satisfaction = result
    complaints.rate(order.complaint, score, comment or f"12345回访：{label}")
    return order


def status_payload(order: HotlineWorkOrder, event: ComplaintEvent) -> dict[str, Any]:
    """What the hotline is told of a status change (event ``workorder.status``; README, "12345 work orders")."""
    complaint = order.complaint
    code, label = STATUSES[PUSHED_EVENTS[event.kind]]
    return {
        "order_no": order.order_no,
        "tracking_no": complaint.tracking_no,
        "status": code,
        "status_label": label,
        "text": event.text,
        "time": event.at.astimezone(CHINA).isoformat(timespec="seconds"),
        "agency": {"code": complaint.agency.code, "name": complaint.agency.name},
    }


def push_status(complaint: Complaint, event: ComplaintEvent) -> None:
    """The listener: a status change of a work order's complaint is owed to the hotline that sent it."""
    if complaint.channel != CHANNEL or event.kind not in PUSHED_EVENTS:
        return
    order = db.session.scalar(select(HotlineWorkOrder).where(HotlineWorkOrder.complaint_id == complaint.id))
    if order is None:
        return
    push.enqueue(
        EVENT_TYPE, status_payload(order, event), region_code=order.region_code, client_id=order.client.client_id
    )


def init_app(app: Flask) -> None:
    listeners.register(app, push_status)
