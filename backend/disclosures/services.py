"""Publishing, the agency's own view, and public reading of disclosures.

An agency touches only its own items: every lookup is by (agency, external_id), so another
agency's item is simply not found (404, which does not reveal that it exists).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from backend.agencies.models import Agency
from backend.audit.services import record
from backend.calendars import services as calendars
from backend.canonical import canonical_json, digest_of
from backend.errors import Conflict, Gone, Invalid, NotFound
from backend.extensions import clock, db, search
from backend.extensions.database import insert_rows
from backend.timezone import CHINA, china_date, today
from backend.transparency import services as transparency
from search_index.indexing import enqueue
from search_index.interfaces import SearchQuery
from search_index.mappings import DISCLOSURES

from .deadlines import statutory_clock, working_days_left
from .models import LABELS, Disclosure, DisclosureVersion, Phase, Status
from .privacy import apply_privacy
from .schemas import BulkItemSchema

PUBLIC_TEXT_FIELDS = ("title", "content", "legal_basis")
# What a Draft holds: every column but the version (1 for a new item).
DISCLOSURE_COLUMNS = tuple(column.key for column in Disclosure.__table__.columns if column.key != "version")


# -- writing ---------------------------------------------------------------------------
class Draft:
    """A new item of a bulk call, before it is inserted: plain attributes, none of the ORM's
    per-attribute bookkeeping. It goes through the same gate, clock and log as a Disclosure; then all
    of a call's new items, their versions and their outbox rows are inserted in one COPY each on
    PostgreSQL, one executemany each elsewhere (see _insert_drafts)."""

    is_public = Disclosure.is_public
    version = None

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(dict.fromkeys(DISCLOSURE_COLUMNS), **values)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DISCLOSURE_COLUMNS} | {"version": 1}


@dataclass
class Upserted:
    item: Disclosure | Draft
    outcome: str  # created, updated or unchanged
    # What the transparency log must record about this change, if anything.
    event: transparency.Event | None = None
    # The DisclosureVersion this change adds (a Draft's is inserted with it).
    version: dict[str, Any] | None = None

    @property
    def status_code(self) -> int:
        return 201 if self.outcome == "created" else 200


def _check_external_id(external_id: str) -> None:
    if not 1 <= len(external_id) <= 128:
        raise Invalid("外部编号长度须为 1-128", errors={"external_id": ["1-128 characters"]})


def upsert(agency: Agency, external_id: str, data: dict[str, Any], actor: str) -> Upserted:
    """Create or update the agency's item ``external_id``; a repeat of the same content changes nothing.

    Two identical requests racing to create the same item meet at the unique constraint: the
    loser retries and finds the winner's item unchanged.
    """
    _check_external_id(external_id)
    calendars.sync()
    for attempt in (1, 2):
        existing = db.session.scalar(
            select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
        )
        result = _apply(agency, external_id, data, existing, actor)
        if result.outcome == "unchanged":
            return result
        _log([result])
        try:
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def bulk_upsert(agency: Agency, raw_items: list[Any], actor: str) -> list[dict[str, Any]]:
    """Upsert up to MAX_BULK_ITEMS items in one transaction; each item gets its own result."""
    results: list[dict[str, Any]] = [{} for _ in raw_items]
    calendars.sync()
    valid: dict[str, tuple[int, dict[str, Any]]] = {}
    schema = BulkItemSchema()
    for index, raw in enumerate(raw_items):
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        try:
            data = schema.load(raw)
        except ma.ValidationError as error:
            results[index] = _invalid(index, external_id, error.normalized_messages())
            continue
        if data["external_id"] in valid:
            results[index] = _invalid(index, external_id, {"external_id": ["repeated in this request"]})
            continue
        valid[data.pop("external_id")] = (index, data)
    existing = (
        {
            d.external_id: d
            for d in db.session.scalars(
                select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id.in_(list(valid)))
            )
        }
        if valid
        else {}
    )
    done, refused = [], {}
    for ext, (index, data) in valid.items():
        try:
            done.append((index, _apply(agency, ext, data, existing.get(ext), actor, draft=True)))
        except Conflict as conflict:
            refused[index] = {
                "index": index,
                "external_id": ext,
                "status": 409,
                "result": "conflict",
                "errors": conflict.errors,
            }
    _log([result for _, result in done])
    try:
        _insert_drafts([result for _, result in done if isinstance(result.item, Draft)])
        db.session.commit()
    except IntegrityError:
        # Another request created some of these items meanwhile: redo one by one.
        db.session.rollback()
        done = [
            (index, upsert(agency, ext, data, actor)) for ext, (index, data) in valid.items() if index not in refused
        ]
    results_by_index = dict(refused)
    for index, result in done:
        results_by_index[index] = {
            "index": index,
            "external_id": result.item.external_id,
            "status": result.status_code,
            "id": result.item.id,
            "result": result.outcome,
        }
    for index, result in results_by_index.items():
        results[index] = result
    return results


def _invalid(index: int, external_id: Any, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": index,
        "external_id": external_id if isinstance(external_id, str) else None,
        "status": 422,
        "result": "invalid",
        "errors": errors,
    }


def _apply(
    agency: Agency, external_id: str, data: dict[str, Any], item: Disclosure | None, actor: str, *, draft: bool = False
) -> Upserted:
    """Apply one validated submission to a new or existing item, in the session, without committing.

    With ``draft`` a new item is a Draft, left for the caller to insert with _insert_drafts."""
    submitted, digest = digest_of(data)
    if item is not None and item.content_hash == digest:
        return Upserted(item, "unchanged")
    if item is not None and item.status in (Status.withdrawn, Status.expired):
        raise Conflict(
            "已撤下或已到期的公示信息不能再修改；重新作出的决定请以新的编号发布",
            errors={"external_id": [f"item is {item.status}; publish a re-made decision under a new external_id"]},
        )
    if data.get("case_no") and data["publish"]:
        from backend.cases.services import check_publishable

        check_publishable(agency, data["case_no"])
    now = clock.now()
    created = item is None
    was_public = item is not None and item.is_public
    before = committed_content(item) if was_public else None
    if created:
        new = Draft if draft else Disclosure
        item = new(id=uuid.uuid4().hex, agency=agency, agency_id=agency.id, external_id=external_id, created_at=now)
        if not draft:
            db.session.add(item)
    fields = {k: v for k, v in data.items() if k not in ("publish", "region")}
    for name in (
        "content",
        "legal_basis",
        "effective_from",
        "effective_until",
        "category",
        "document_no",
        "decision_date",
        "case_no",
        "outcome",
        "subject_type",
        "subject_name",
        "subject_id",
    ):
        fields.setdefault(name, None)
    fields["content"] = fields["content"] or ""
    fields["attachments"] = data.get("attachments") or []
    fields["details"] = data.get("details") or {}
    for name, value in fields.items():
        setattr(item, name, value)
    item.region_code = data.get("region") or agency.region_code
    item.content_hash = digest
    item.updated_at = now
    _gate(item)
    _schedule(item, publish=data["publish"], now=now)
    event = _transition(item, was_public, before, actor, now)
    version = {
        "number": (item.version or 0) + 1,
        "submitted": json.loads(submitted),
        "public": item.public,
        "content_hash": digest,
        "actor": actor,
        "created_at": now,
    }
    if not isinstance(item, Draft):
        db.session.add(DisclosureVersion(disclosure=item, **version))
    return Upserted(item, "created" if created else "updated", event, version)


def _insert_drafts(results: list[Upserted]) -> None:
    """Insert new items, their first versions and their outbox rows in the current transaction."""
    if not results:
        return
    connection = db.session.connection()
    insert_rows(connection, Disclosure.__table__, [result.item.row() for result in results])
    insert_rows(
        connection,
        DisclosureVersion.__table__,
        [{"disclosure_id": result.item.id, **result.version} for result in results],
    )
    enqueue(db.session, DISCLOSURES, [(result.item.id, 1) for result in results])


def committed_content(item: Disclosure) -> dict[str, Any]:
    """What the log commits to: exactly what citizens are shown of the item."""
    return {
        "id": item.id,
        "agency": item.agency.code,
        "phase": item.phase,
        "type": item.type,
        "category": item.category,
        "document_no": item.document_no,
        "decision_date": item.decision_date.isoformat() if item.decision_date else None,
        "region": item.region_code,
        "public": item.public,
    }


def _transition(
    item: Disclosure, was_public: bool, before: dict[str, Any] | None, actor: str, now: dt.datetime
) -> transparency.Event | None:
    """The log event a change makes: first publication, a correction of public content, or a withholding."""
    if item.is_public:
        if not was_public:
            kind = "publish"
        elif canonical_json(before or {}) != canonical_json(committed_content(item)):
            kind = "correct"
            item.corrected_at = now
        else:
            return None
        event = transparency.event(kind, item.id, item.agency.code, actor, committed_content(item))
        item.commitment_salt = event.salt
        return event
    if was_public:
        return transparency.event("withhold", item.id, item.agency.code, actor)
    return None


def _log(results: list[Upserted]) -> None:
    """Append the results' events to the log in the current transaction; each item keeps its index."""
    pending = [result for result in results if result.event is not None]
    entries = transparency.append([result.event for result in pending])
    for result, entry in zip(pending, entries, strict=True):
        if result.event.event == "withhold":
            result.item.removal_log_index = entry.index
        else:
            result.item.log_index = entry.index


def _gate(item: Disclosure) -> None:
    """The privacy gate: compute the only text that may ever be shown."""
    texts: dict[str, str | None] = {name: getattr(item, name) for name in PUBLIC_TEXT_FIELDS}
    texts.update(_flatten("details", item.details))
    texts.update({f"attachments/{i}/name": a.get("name") for i, a in enumerate(item.attachments)})
    gated = apply_privacy(texts, subject_type=item.subject_type, subject_name=item.subject_name)
    public: dict[str, Any] = {name: gated.public[name] for name in PUBLIC_TEXT_FIELDS}
    public["details"] = _unflatten("details", item.details, gated.public)
    public["attachments"] = [
        {**a, "name": gated.public[f"attachments/{i}/name"]} for i, a in enumerate(item.attachments)
    ]
    public["subject_name"] = gated.public_subject_name
    if item.subject_type == "organization":
        public["subject_id"] = item.subject_id
    item.public = public
    item.privacy_report = gated.report


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in _flatten(f"{prefix}/{key}", sub).items()}
    if isinstance(value, list):
        return {k: v for i, sub in enumerate(value) for k, v in _flatten(f"{prefix}/{i}", sub).items()}
    return {prefix: value} if isinstance(value, str) else {}


def _unflatten(prefix: str, value: Any, masked: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _unflatten(f"{prefix}/{key}", sub, masked) for key, sub in value.items()}
    if isinstance(value, list):
        return [_unflatten(f"{prefix}/{i}", sub, masked) for i, sub in enumerate(value)]
    return masked.get(prefix, value) if isinstance(value, str) else value


def _schedule(item: Disclosure, *, publish: bool, now: dt.datetime) -> None:
    """Status and statutory clock. Minors' cases and confidential items are never public."""
    clock_ = statutory_clock(item)
    item.publish_deadline = clock_.deadline if clock_ else None
    item.deadline_provisional = bool(clock_ and clock_.provisional)
    if item.minor or item.confidential:
        item.status = Status.withheld
    elif publish:
        item.status = Status.published
        item.published_at = item.published_at or now
    else:
        item.status = Status.pending if item.published_at is None else Status.published
    item.published_late = bool(
        item.published_at and item.publish_deadline and china_date(item.published_at) > item.publish_deadline
    )
    item.expires_on = _expiry(item)


def _expiry(item: Disclosure) -> dt.date | None:
    """The end of a decision's disclosure period, by category and subject type (DISCLOSURE_PERIODS)."""
    periods = current_app.config["DISCLOSURE_PERIODS"].get(item.category or "", {})
    days = periods.get(item.subject_type or "organization")
    start = item.decision_date or (china_date(item.published_at) if item.published_at else None)
    return start + dt.timedelta(days=days) if days and start else None


def withdraw(
    agency: Agency, external_id: str, *, reason: str, explanation: str, document_no: str | None, actor: str
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
        "withdraw", item.id, agency.code, actor, withdrawal_notice(item), {"reason": reason}
    )
    record(actor, "disclosure.withdraw", "disclosure", item.id, reason=reason, document_no=document_no)
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


# -- the agency's own view ---------------------------------------------------------------
def get_own(agency: Agency, external_id: str) -> Disclosure:
    item = db.session.scalar(
        select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
    )
    if item is None:
        raise NotFound("未找到该公示信息", errors={"external_id": [f"no item {external_id!r} of this agency"]})
    return item


def deadline_state(item: Disclosure, on: dt.date | None = None) -> dict[str, Any]:
    calendars.sync(max_age=calendars.SHOWN_MAX_AGE)
    on = on or today()
    overdue = item.published_late or (
        item.status == Status.pending and item.publish_deadline is not None and on > item.publish_deadline
    )
    return {
        "publish_deadline": item.publish_deadline,
        "deadline_provisional": item.deadline_provisional,
        "overdue": overdue,
        "working_days_left": working_days_left(item.publish_deadline, on) if item.status == Status.pending else None,
    }


def own_view(item: Disclosure) -> dict[str, Any]:
    """The item as its agency sees it (attributes plus the clock, read by DisclosureSchema)."""
    view = {column: getattr(item, column) for column in DISCLOSURE_VIEW_FIELDS}
    view.update(deadline_state(item))
    view["public_url"] = public_url(item) if item.is_public else None
    return view


DISCLOSURE_VIEW_FIELDS = (
    "id", "external_id", "status", "phase", "type", "category", "title", "content", "legal_basis", "region_code",
    "effective_from", "effective_until", "attachments", "details", "document_no", "decision_date", "subject_type",
    "subject_name", "subject_id", "minor", "confidential", "public", "privacy_report", "published_at", "version",
    "corrected_at", "expires_on", "withdrawn_at", "withdrawal_reason", "withdrawal_explanation", "log_index",
    "removal_log_index", "case_no", "outcome",
)  # fmt: skip


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def list_own(
    agency: Agency,
    *,
    page: int,
    page_size: int,
    status: str | None = None,
    overdue: bool | None = None,
    phase: str | None = None,
    type: str | None = None,
) -> Page:
    conditions = [Disclosure.agency_id == agency.id]
    if status:
        conditions.append(Disclosure.status == status)
    if phase:
        conditions.append(Disclosure.phase == phase)
    if type:
        conditions.append(Disclosure.type == type)
    if overdue is not None:
        late = or_(
            Disclosure.published_late.is_(True),
            and_(Disclosure.status == Status.pending, Disclosure.publish_deadline < today()),
        )
        conditions.append(late if overdue else ~late)
    total = db.session.scalar(select(func.count()).select_from(Disclosure).where(*conditions))
    rows = db.session.scalars(
        select(Disclosure)
        .where(*conditions)
        .order_by(Disclosure.publish_deadline.is_(None), Disclosure.publish_deadline, Disclosure.created_at.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page([own_view(row) for row in rows], total, page, page_size)


def explain_deadline(item: Disclosure) -> dict[str, Any]:
    calendars.sync(max_age=calendars.SHOWN_MAX_AGE)
    clock_ = statutory_clock(item)
    if clock_ is None:
        raise NotFound("该公示信息没有法定公开时限", errors={"publish_deadline": ["only post-phase items have one"]})
    counted = clock_.working_days
    return {
        **deadline_state(item),
        "start": counted.start if counted else None,
        "working_days": counted.working_days if counted else None,
        "skipped": [{"date": d.date.isoformat(), "reason": d.reason} for d in counted.skipped] if counted else [],
        "makeup_days": list(counted.makeup_days) if counted else [],
        "explanation": clock_.explanation,
    }


# -- public ----------------------------------------------------------------------------
def public_url(item: Disclosure) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/d/{item.id}"


def get_public(disclosure_id: str) -> Disclosure:
    """A published item; a withdrawn or expired one answers 410 with its notice."""
    item = db.session.get(Disclosure, disclosure_id) if len(disclosure_id) <= 32 else None
    if item is not None and item.status in (Status.withdrawn, Status.expired):
        raise Gone(
            "该公示信息已撤下" if item.status == Status.withdrawn else "该公示信息已过公示期",
            extra=removal_notice(item),
        )
    if item is None or not item.is_public:
        raise NotFound("未找到该公示信息", errors={"id": [f"no public item {disclosure_id!r}"]})
    return item


def removal_notice(item: Disclosure) -> dict[str, Any]:
    if item.status == Status.withdrawn:
        return {
            "id": item.id,
            "withdrawn_at": item.withdrawn_at.astimezone(CHINA).isoformat(),
            "reason": item.withdrawal_reason,
            "reason_label": WITHDRAWAL_LABELS[item.withdrawal_reason],
            "explanation": item.withdrawal_explanation,
            "document_no": item.withdrawal_document_no,
            "log_index": item.removal_log_index,
            "published_log_index": item.log_index,
            "notice_salt": item.notice_salt,
        }
    return {
        "id": item.id,
        "expired_at": item.expired_at.astimezone(CHINA).isoformat(),
        "reason": "expired",
        "reason_label": "公示期满",
        "log_index": item.removal_log_index,
        "published_log_index": item.log_index,
    }


WITHDRAWAL_LABELS = {
    "revoked": "被依法撤销",
    "confirmed_illegal": "被确认违法",
    "remade": "被要求重新作出",
    "credit_repair": "信用修复",
    "other": "其他原因",
}


def public_view(item: Disclosure) -> dict[str, Any]:
    public = item.public
    return {
        "id": item.id,
        "agency": {"code": item.agency.code, "name": item.agency.name},
        "phase": item.phase,
        "type": item.type,
        "type_label": LABELS[item.type],
        "category": item.category,
        "title": public["title"],
        "content": public["content"],
        "legal_basis": public["legal_basis"],
        "document_no": item.document_no,
        "decision_date": item.decision_date,
        "outcome": item.outcome,
        "subject_type": item.subject_type,
        "subject_name": public.get("subject_name"),
        "region": item.region_code,
        "effective_from": item.effective_from,
        "effective_until": item.effective_until,
        "attachments": public["attachments"],
        "details": public["details"],
        "published_at": item.published_at,
        "published_on": china_date(item.published_at),
        "corrected_at": item.corrected_at,
        "log_index": item.log_index,
        "commitment_salt": item.commitment_salt,
        "url": public_url(item),
    }


FACETS = ("phase", "category", "agency", "region")
# What a search result shows, and no more: the stored original, reports and attachments stay unread.
_SEARCH_ROWS = select(Disclosure).options(
    load_only(
        Disclosure.id,
        Disclosure.phase,
        Disclosure.type,
        Disclosure.category,
        Disclosure.public,
        Disclosure.status,
        Disclosure.decision_date,
        Disclosure.published_at,
    )
)


def search_public(
    *,
    q: str = "",
    page: int = 1,
    page_size: int = 20,
    sort: str = "relevance",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    with_facets: bool = True,
    **filters: str,
) -> Page:
    """Search returns ids in rank order; the rows come from the database in that order.

    ``with_facets=False`` skips the facet counts, which cost as much again as the search (phones and
    chat replies show none)."""
    query = SearchQuery(
        text=q,
        filters={name: [value] for name, value in filters.items() if value},
        date_from=date_from,
        date_to=date_to,
        facets=FACETS if with_facets else (),
        sort=sort,  # type: ignore[arg-type]
        page=page,
        page_size=page_size,
    )
    result = search.query(DISCLOSURES, query)
    ids = [hit.id for hit in result.hits]
    rows = {d.id: d for d in db.session.scalars(_SEARCH_ROWS.where(Disclosure.id.in_(ids)))} if ids else {}
    items = []
    for hit in result.hits:
        item = rows.get(hit.id)
        if item is None or not item.is_public:  # changed since it was indexed; the outbox catches up
            continue
        public = item.public
        items.append(
            {
                "id": item.id,
                "title": public["title"],
                "title_highlight": hit.highlights.get("title"),
                "snippet": hit.highlights.get("content") or _lead(public["content"]),
                "agency": {"code": item.agency.code, "name": item.agency.name},
                "phase": item.phase,
                "type": item.type,
                "type_label": LABELS[item.type],
                "category": item.category,
                "date": item.public_date,
            }
        )
    return Page(items, result.total, page, page_size, _label_facets(result.facets))


def _lead(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return html.escape(text[:length]) + ("…" if len(text) > length else "")


def _label_facets(facets: dict[str, dict[str, int]]) -> dict[str, list[dict[str, Any]]]:
    if not facets:
        return {}
    codes = list(facets.get("agency", {}))
    rows = db.session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes)))
    agency_names = {code: name for code, name in rows}
    labelled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, counts in facets.items():
        for value, count in counts.items():
            label = agency_names.get(value, value) if name == "agency" else LABELS.get(value, value)
            labelled[name].append({"value": value, "label": label, "count": count})
    return dict(labelled)


def current_pre_phase(agency: Agency) -> dict[str, list[dict[str, Any]]]:
    """The agency's 事前公开 page: its current pre-phase items, grouped by type."""
    on = today()
    rows = db.session.scalars(
        select(Disclosure)
        .where(
            Disclosure.agency_id == agency.id,
            Disclosure.phase == Phase.pre,
            Disclosure.status == Status.published,
            or_(Disclosure.effective_from.is_(None), Disclosure.effective_from <= on),
            or_(Disclosure.effective_until.is_(None), Disclosure.effective_until >= on),
        )
        .order_by(Disclosure.type, Disclosure.title)
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in rows:
        grouped[item.type].append(
            {"id": item.id, "title": item.public["title"], "type_label": LABELS[item.type], "url": public_url(item)}
        )
    return dict(grouped)
