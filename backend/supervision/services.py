from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from backend.accounts.models import AdminUser
from backend.agencies.models import Agency
from backend.disclosures.models import Disclosure
from backend.extensions import db
from backend.timezone import CHINA
from backend.transparency.models import LogEntry

from .scope import visible_agencies

CHANGE_EVENTS = ("correct", "withdraw", "expire", "withhold")


def disclosure_changes(
    user: AdminUser,
    *,
    event: str | None = None,
    agency: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Every correction, withdrawal, expiry and withholding in the user's scope: who, when, why."""
    conditions = [LogEntry.event.in_([event] if event else CHANGE_EVENTS), visible_agencies(user)]
    if agency:
        conditions.append(Agency.code == agency)
    if date_from:
        conditions.append(LogEntry.at >= dt.datetime.combine(date_from, dt.time(), CHINA))
    if date_to:
        conditions.append(LogEntry.at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA))
    base = (
        select(LogEntry, Disclosure)
        .join(Disclosure, Disclosure.id == LogEntry.item_id)
        .join(Agency, Agency.id == Disclosure.agency_id)
        .where(*conditions)
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(base.order_by(LogEntry.index.desc()).limit(page_size).offset((page - 1) * page_size))
    items = [
        {
            "log_index": entry.index,
            "event": entry.event,
            "at": entry.at,
            "actor": entry.actor,
            "agency": {"code": item.agency.code, "name": item.agency.name},
            "disclosure_id": item.id,
            "external_id": item.external_id,
            "title": item.title,
            "reason": entry.detail.get("reason") or ("expired" if entry.event == "expire" else None),
            "explanation": item.withdrawal_explanation if entry.event == "withdraw" else None,
            "document_no": item.withdrawal_document_no if entry.event == "withdraw" else None,
        }
        for entry, item in rows
    ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}
