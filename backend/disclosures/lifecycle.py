"""An item's life after publication: withdrawn by its agency, expired at the end of its disclosure
period, its deadline recounted when calendar data arrives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, or_, select, update

from backend.agencies.models import Agency
from backend.audit.services import record
from backend.calendars import services as calendars
from backend.errors import Conflict
from backend.extensions import clock, db
from backend.timezone import china_date, today
from backend.transparency import services as transparency

from .deadlines import statutory_clock
from .models import ApprovalRequest, ApprovalState, Disclosure, Status
from .reading import get_own


def withdraw(
    agency: Agency,
    external_id: str,
    *,
    reason: str,
    explanation: str,
    document_no: str | None,
    actor: str,
    ip: str | None = None,
) -> Disclosure:
    """Take a published item down at once, with the explanation the law requires; idempotent.

    The original stays for the agency and supervisors; the log records reason and a commitment to
    the notice, and the outbox removes the item from the index.
    """
    item = get_own(agency, external_id)
    if item.status == Status.withdrawn:
        return item
    if item.status not in (Status.published, Status.expired):
        raise Conflict("未公开的信息无需撤下", errors={"status": [f"item is {item.status}, not published"]})
    now = clock.now()
    item.status, item.withdrawn_at = Status.withdrawn, now
    item.withdrawal_reason, item.withdrawal_explanation, item.withdrawal_document_no = reason, explanation, document_no
    item.removal_log_index, item.notice_salt = transparency.log_event(
        transparency.event("withdraw", item.id, agency.code, actor, withdrawal_notice(item), {"reason": reason})
    )
    # A new version waiting for approval would republish what was just taken down: it leaves the queue.
    db.session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.disclosure_id == item.id, ApprovalRequest.state == ApprovalState.pending)
        .values(state=ApprovalState.superseded)
    )
    record(actor, "disclosure.withdraw", "disclosure", item.id, ip=ip, reason=reason, document_no=document_no)
    db.session.commit()
    return item


def withdrawal_notice(item: Disclosure) -> dict[str, Any]:
    """What the withdrawal log entry commits to; with ``notice_salt`` anyone can check it."""
    return {
        "id": item.id,
        "reason": item.withdrawal_reason,
        "explanation": item.withdrawal_explanation,
        "document_no": item.withdrawal_document_no,
    }


def expire_due(batch: int = 500) -> int:
    """Move penalties whose disclosure period has ended out of public view; idempotent, for the scheduler."""
    expired = 0
    on = today()
    while True:
        items = db.session.scalars(
            select(Disclosure)
            .where(Disclosure.status == Status.published, Disclosure.expires_on < on)
            .order_by(Disclosure.expires_on)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not items:
            return expired
        now = clock.now()
        entries = transparency.append(
            [
                transparency.event(
                    "expire",
                    item.id,
                    item.agency.code,
                    "system:expiry",
                    detail={"expires_on": item.expires_on.isoformat()},
                )
                for item in items
            ]
        )
        for item, entry in zip(items, entries, strict=True):
            item.status, item.expired_at, item.removal_log_index = Status.expired, now, entry.index
        db.session.commit()
        expired += len(items)


def recompute_deadlines(years: Collection[int] = ()) -> int:
    """Recompute the deadlines counted without official calendar data (the data may be there now) and
    those whose count crosses one of ``years`` (a schedule loaded for them); the number changed."""
    calendars.sync()
    crossing = [
        and_(Disclosure.decision_date <= dt.date(year, 12, 31), Disclosure.publish_deadline >= dt.date(year, 1, 1))
        for year in years
    ]
    changed = 0
    for item in db.session.scalars(select(Disclosure).where(or_(Disclosure.deadline_provisional.is_(True), *crossing))):
        clock_ = statutory_clock(item)
        if clock_ and (clock_.deadline, clock_.provisional) != (item.publish_deadline, item.deadline_provisional):
            item.publish_deadline, item.deadline_provisional = clock_.deadline, clock_.provisional
            item.published_late = bool(item.published_at and china_date(item.published_at) > clock_.deadline)
            changed += 1
    db.session.commit()
    return changed
