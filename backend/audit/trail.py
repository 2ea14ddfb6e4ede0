"""The audit trail as the auditor (审计管理员) reads it: filtered, paged, exported; its digest per Beijing day, which
the transparency log anchors (backend/transparency/audit_digest.py); and the only way rows ever leave it, a purge
of days older than the retention period that the log has already anchored.

A day's digest is the sha256 of its entries (ordered by id), one canonical JSON line each: every column, times in
UTC. Recomputed later, it proves no entry of that day was altered, added or removed since it was anchored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select

from backend.errors import Invalid
from backend.extensions import clock, db
from backend.extensions.smorest import Page, paginate
from backend.timezone import CHINA, today
from backend.transparency.models import LogEntry

from .models import AuditEntry
from .services import record

# The transparency log's event for a day's digest; its item_id is the day (YYYY-MM-DD, Beijing).
DIGEST_EVENT = "audit_digest"
PURGE = "audit.purge"
CSV_COLUMNS = ["id", "at", "actor", "action", "target_type", "target_id", "ip", "detail"]


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    date_from: dt.date | None = None  # Beijing days, both included
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA)


def _filtered(filters: Filters) -> Select:
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.action:
        # "admin." finds every admin action; a full name finds that one.
        query = query.where(AuditEntry.action.startswith(filters.action, autoescape=True))
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEntry.target_id == filters.target_id)
    if filters.date_from:
        query = query.where(AuditEntry.at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.at < _day_start(filters.date_to + dt.timedelta(days=1)))
    return query


def page(filters: Filters, number: int, size: int) -> Page[AuditEntry]:
    """Newest first: one page of the entries matching ``filters``, and how many match."""
    return paginate(_filtered(filters).order_by(AuditEntry.id.desc()), page=number, page_size=size)


def export(filters: Filters, limit: int) -> list[AuditEntry]:
    """Oldest first, at most ``limit`` (the export names the last id, so a longer one continues from there)."""
    return list(db.session.scalars(_filtered(filters).order_by(AuditEntry.id).limit(limit)))


def to_csv(entries: Iterable[AuditEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        at = entry.at.astimezone(CHINA).isoformat(timespec="seconds")
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        writer.writerow([entry.id, at, entry.actor, entry.action, entry.target_type, entry.target_id, entry.ip, detail])
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8 (as the other CSV exports).
    return ("\ufeff" + buffer.getvalue()).encode()


# -- a day's digest ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DayDigest:
    day: dt.date
    count: int
    first_id: int | None
    last_id: int | None
    sha256: str


def canonical_line(entry: AuditEntry) -> bytes:
    fields = {
        "id": entry.id,
        "at": entry.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
        "ip": entry.ip,
    }
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def digest(day: dt.date) -> DayDigest:
    """The digest of one Beijing day's entries as they are in the database now."""
    hasher, count, first, last = hashlib.sha256(), 0, None, None
    query = (
        select(AuditEntry)
        .where(AuditEntry.at >= _day_start(day), AuditEntry.at < _day_start(day + dt.timedelta(days=1)))
        .order_by(AuditEntry.id)
        .execution_options(yield_per=1000)
    )
    for entry in db.session.scalars(query):
        hasher.update(canonical_line(entry))
        count, first, last = count + 1, first or entry.id, entry.id
    return DayDigest(day, count, first, last, hasher.hexdigest())


def anchored_days() -> dict[dt.date, LogEntry]:
    entries = db.session.scalars(select(LogEntry).where(LogEntry.event == DIGEST_EVENT))
    return {dt.date.fromisoformat(entry.item_id): entry for entry in entries}


def first_day() -> dt.date | None:
    first = db.session.scalar(select(func.min(AuditEntry.at)))
    return first.astimezone(CHINA).date() if first else None


def purged_before() -> dt.date | None:
    """The latest purge's boundary: the days before it were removed on purpose."""
    latest = db.session.scalar(select(func.max(AuditEntry.target_id)).where(AuditEntry.action == PURGE))
    return dt.date.fromisoformat(latest) if latest else None


# -- retention --------------------------------------------------------------------------------
def purge(before: dt.date, retention_days: int, *, actor: str) -> int:
    """Delete the entries of the Beijing days before ``before``: only days older than ``retention_days`` and
    already anchored in the transparency log (their digest keeps proving what they held). The purge itself is
    audited. Returns how many entries left."""
    oldest_allowed = today() - dt.timedelta(days=retention_days)
    if before > oldest_allowed:
        raise Invalid(
            f"审计记录至少保存 {retention_days} 日",
            errors={"before": [f"must be on or before {oldest_allowed.isoformat()} (AUDIT_RETENTION_DAYS)"]},
        )
    start = first_day()
    if start is None or start >= before:
        return 0
    anchored = anchored_days()
    missing = [start + dt.timedelta(days=n) for n in range((before - start).days)]
    missing = [day for day in missing if day not in anchored]
    if missing:
        raise Invalid(
            "审计记录尚未锚定到透明日志，不能清理",
            errors={"before": [f"day {missing[0].isoformat()} has no digest in the transparency log yet"]},
        )
    removed = db.session.execute(delete(AuditEntry).where(AuditEntry.at < _day_start(before))).rowcount
    record(actor, PURGE, "audit_trail", before.isoformat(), removed=removed, at=clock.now().isoformat())
    db.session.commit()
    return removed
