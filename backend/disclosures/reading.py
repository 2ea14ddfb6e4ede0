"""Reading: the agency's own items with their clock, and what citizens find and read."""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import load_only, selectinload

from backend.agencies.models import Agency
from backend.agencies.services import AgencyView, get_agency
from backend.calendars import services as calendars
from backend.errors import Gone, NotFound
from backend.extensions import db, search
from backend.extensions.smorest import Page, paginate
from backend.timezone import CHINA, today
from search_index.interfaces import SearchQuery
from search_index.mappings import DISCLOSURES

from .deadlines import statutory_clock
from .facets import FACETS, label_facets
from .models import Disclosure, Phase, Status
from .schemas import DeadlineStateSchema, public_url


def get_own(agency: Agency, external_id: str) -> Disclosure:
    item = db.session.scalar(
        select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
    )
    if item is None:
        raise NotFound("未找到该公示信息", errors={"external_id": [f"no item {external_id!r} of this agency"]})
    # Its view shows working days left, counted on the calendar this process has loaded.
    calendars.sync(max_age=calendars.SHOWN_MAX_AGE)
    return item


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
    own = (
        select(Disclosure)
        .options(selectinload(Disclosure.approvals))  # each item's view shows its latest held submission
        .where(*conditions)
        .order_by(Disclosure.publish_deadline.is_(None), Disclosure.publish_deadline, Disclosure.created_at.desc())
    )
    found = paginate(own, page=page, page_size=page_size)
    calendars.sync(max_age=calendars.SHOWN_MAX_AGE)
    return found


# The explanation shows the item's clock as its own view does.
_DEADLINE_STATE = tuple(DeadlineStateSchema().fields)


def explain_deadline(item: Disclosure) -> dict[str, Any]:
    calendars.sync(max_age=calendars.SHOWN_MAX_AGE)
    clock_ = statutory_clock(item)
    if clock_ is None:
        raise NotFound("该公示信息没有法定公开时限", errors={"publish_deadline": ["only post-phase items have one"]})
    counted = clock_.working_days
    return {
        **{name: getattr(item, name) for name in _DEADLINE_STATE},
        "start": counted.start if counted else None,
        "working_days": counted.working_days if counted else None,
        "skipped": [{"date": d.date.isoformat(), "reason": d.reason} for d in counted.skipped] if counted else [],
        "makeup_days": list(counted.makeup_days) if counted else [],
        "explanation": clock_.explanation,
    }


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


@dataclass(frozen=True)
class Found:
    """A search hit (read by SearchItemSchema): the item as the database has it now, and its text as matched."""

    item: Disclosure
    title_highlight: str | None
    snippet: str


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
        exact_up_to=current_app.config["SEARCH_EXACT_COUNT_LIMIT"],
    )
    result = search.query(DISCLOSURES, query)
    ids = [hit.id for hit in result.hits]
    rows = {d.id: d for d in db.session.scalars(_SEARCH_ROWS.where(Disclosure.id.in_(ids)))} if ids else {}
    items = []
    for hit in result.hits:
        item = rows.get(hit.id)
        if item is None or not item.is_public:  # changed since it was indexed; the outbox catches up
            continue
        items.append(
            Found(item, hit.highlights.get("title"), hit.highlights.get("content") or _lead(item.public["content"]))
        )
    facets = label_facets(result.facets)
    return Page(items, result.total, page, page_size, facets, result.total_exact, result.facets_exact)


def _lead(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return html.escape(text[:length]) + ("…" if len(text) > length else "")


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
            {"id": item.id, "title": item.public["title"], "type_label": item.type_label, "url": public_url(item)}
        )
    return dict(grouped)


def recent_post_phase(agency: Agency, limit: int = 10) -> list[Found]:
    """The agency's latest 事后公开 items (decisions, inspection results), newest decision first (the date the page
    shows), then last published, as search hits without a query; one whose disclosure period has ended is left out
    even before the expiry job takes it down."""
    rows = db.session.scalars(
        _SEARCH_ROWS.where(
            Disclosure.agency_id == agency.id,
            Disclosure.phase == Phase.post,
            Disclosure.status == Status.published,
            or_(Disclosure.expires_on.is_(None), Disclosure.expires_on >= today()),
        )
        .order_by(Disclosure.decision_date.desc().nulls_last(), Disclosure.published_at.desc(), Disclosure.id)
        .limit(limit)
    )
    return [Found(item, None, _lead(item.public["content"])) for item in rows]


def agency_page(code: str) -> AgencyView:
    """An agency with its 事前公开: current pre-phase items grouped by type."""
    agency = get_agency(code)
    return AgencyView(agency, disclosures=current_pre_phase(agency))
