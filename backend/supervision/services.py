from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select

from backend.accounts.actors import private_actors
from backend.accounts.models import AdminUser
from backend.accounts.scope import region_prefix, visible_agencies
from backend.agencies.models import Agency
from backend.audit import services as audit
from backend.cases.models import CASE_CATEGORIES, Case, CaseRecord, CaseReview
from backend.cases.policy import note_first_case, review_catalogue
from backend.complaints.models import Complaint
from backend.complaints.services import visible_complaints
from backend.disclosures.models import Disclosure
from backend.errors import NotFound
from backend.extensions import clock, db
from backend.extensions.smorest import Page, paginate
from backend.timezone import CHINA, today
from backend.transparency import services as transparency
from backend.transparency.models import LogEntry

from . import counts, decided_cases, evaluation, reviewers

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
) -> Page[dict[str, Any]]:
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
    found = paginate(base.order_by(LogEntry.index.desc()), page=page, page_size=page_size)
    # The log names actors by agency or role and a tag; a supervisor sees who that was.
    who = private_actors({entry.agency for entry, _ in found.items})

    def change_view(row: tuple[LogEntry, Disclosure]) -> dict[str, Any]:
        entry, item = row
        return {
            "log_index": entry.index,
            "event": entry.event,
            "at": entry.at,
            "actor": who.get(entry.actor, entry.actor),
            "agency": {"code": item.agency.code, "name": item.agency.name},
            "disclosure_id": item.id,
            "external_id": item.external_id,
            "title": item.title,
            "reason": entry.detail.get("reason") or ("expired" if entry.event == "expire" else None),
            "explanation": item.withdrawal_explanation if entry.event == "withdraw" else None,
            "document_no": item.withdrawal_document_no if entry.event == "withdraw" else None,
        }

    return found.map(change_view)


# -- settings a supervisor keeps for an agency ---------------------------------------------------
def set_reports_cases(
    user: AdminUser, code: str, reports_cases: bool | None, reason: str, *, ip: str | None = None
) -> Agency:
    """Set whether an agency reports cases (None: automatic, on from its first case); audited and logged.

    Only a platform admin or a supervisor of the agency's region gets here (the route asks for those roles);
    an agency outside the user's region is not found. Turning it on starts the count of its decisions
    published without a case, if it had not begun reporting cases already."""
    agency = db.session.scalar(select(Agency).where(Agency.code == code, visible_agencies(user)))
    if agency is None:
        raise NotFound("未找到该执法主体", errors={"code": [f"no agency {code!r} under your supervision"]})
    if agency.reports_cases is reports_cases:
        return agency
    actor = f"admin:{user.username}"
    audit.record(
        actor,
        "agency.reports_cases",
        "agency",
        code,
        ip=ip,
        before=agency.reports_cases,
        after=reports_cases,
        reason=reason,
    )
    transparency.log_event(
        transparency.event("setting", f"{code}/reports_cases", code, actor, detail={"reports_cases": reports_cases})
    )
    agency.reports_cases, agency.updated_at = reports_cases, clock.now()
    if reports_cases:
        note_first_case(agency, agency.updated_at)
    db.session.commit()
    return agency


# -- the supervision summary --------------------------------------------------------------------
def _period(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.combine(date_from, dt.time(), CHINA),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA),
    )


def on_time_rates(scope: Any, date_from: dt.date, date_to: dt.date, *, direct: bool = False) -> list[dict[str, Any]]:
    """公示率 per agency, from what actually happened: of the post-phase items decided in the period
    (withheld ones aside), how many were published by their deadline.

    Read from the counters the database keeps on every disclosure write (``counts``), not from a
    scan of every item; ``direct=True`` computes the same from the disclosures (the tests compare)."""
    rows = counts.direct_rows().subquery("counted") if direct else counts.counted_rows()
    result = []
    for code, name, due, on_time, late_n, overdue_n in db.session.execute(
        counts.rates_query(scope, date_from, date_to, today(), rows)
    ):
        # Sums of counts are NUMERIC on PostgreSQL: plain ints before any arithmetic.
        due, on_time, late_n, overdue_n = int(due), int(on_time), int(late_n), int(overdue_n)
        judged = on_time + late_n + overdue_n
        result.append(
            {
                "code": code,
                "name": name,
                "due": due,
                "on_time": on_time,
                "late": late_n,
                "pending_overdue": overdue_n,
                "on_time_rate": round(on_time / judged, 4) if judged else None,
            }
        )
    return result


def summary(
    user: AdminUser,
    *,
    date_from: dt.date,
    date_to: dt.date,
    region: str | None = None,
    agency: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    scope = [visible_agencies(user)]
    if region:
        scope.append(Agency.region_code.like(region_prefix(region) + "%"))
    if agency:
        scope.append(Agency.code == agency)
    scope_condition = and_(*scope)
    start, end = _period(date_from, date_to)
    on_time = on_time_rates(scope_condition, date_from, date_to)
    on_time_cases = decided_cases.case_rates(scope_condition, date_from, date_to, today())
    flagged, unreviewed = _case_findings(scope_condition, date_from, date_to, limit)
    withdrawals = db.session.execute(
        select(Disclosure.withdrawal_reason, func.count())
        .join(Agency, Agency.id == Disclosure.agency_id)
        .where(scope_condition, Disclosure.withdrawn_at >= start, Disclosure.withdrawn_at < end)
        .group_by(Disclosure.withdrawal_reason)
    ).all()
    return {
        "period": {"from": date_from, "to": date_to},
        "on_time": on_time,
        "on_time_cases": on_time_cases,
        "rates": {"items": decided_cases.overall(on_time), "cases": decided_cases.overall(on_time_cases)},
        "overdue_items": _overdue(scope_condition, date_from, date_to, limit),
        "cases_flagged": [
            {"agency": a, "case_no": c, "missing_av": m, "recording_gaps": g, "late_evidence": late_n}
            for a, c, m, g, late_n in flagged
        ],
        "major_without_review": [{"agency": a, "case_no": c, "matter": m} for a, c, m in unreviewed],
        "reviews_overdue": reviewers.overdue_reviews(scope_condition, limit),
        "decisions_without_case": _decisions_without_case(scope_condition, start, end),
        "made_major_after_publication": _made_major_after_publication(scope_condition, start, end, limit),
        "complaints": hot_spots(user, date_from=date_from, date_to=date_to),
        "withdrawals_by_reason": {reason: n for reason, n in withdrawals},
        "evaluations": evaluation.scored_in(scope_condition, start, end),
    }


def _overdue(
    scope_condition: ColumnElement[bool], date_from: dt.date, date_to: dt.date, limit: int
) -> list[dict[str, Any]]:
    """Decisions of the period published late or still pending past their deadline, and decided cases past
    theirs whose decision was never registered (``status`` "missing"), earliest deadline first."""
    on = today()
    items = db.session.execute(
        select(
            Agency.code,
            Disclosure.case_no,
            Disclosure.external_id,
            Disclosure.title,
            Disclosure.publish_deadline,
            Disclosure.status,
        )
        .join(Agency, Agency.id == Disclosure.agency_id)
        .where(
            scope_condition,
            or_(
                Disclosure.published_late.is_(True),
                and_(Disclosure.status == "pending", Disclosure.publish_deadline < on),
            ),
            Disclosure.status != "withheld",  # never public, so never judged late (as in 公示率)
            Disclosure.decision_date.between(date_from, date_to),
        )
        .order_by(Disclosure.publish_deadline)
        .limit(limit)
    ).all()
    registered = [
        {"agency": a, "case_no": c, "external_id": e, "title": t, "publish_deadline": d, "status": s}
        for a, c, e, t, d, s in items
    ]
    missing = decided_cases.missing_decisions(scope_condition, date_from, date_to, on, limit)
    return sorted(registered + missing, key=lambda row: row["publish_deadline"])[:limit]


def _case_findings(
    scope_condition: ColumnElement[bool], date_from: dt.date, date_to: dt.date, limit: int
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
    """Cases opened in the period that lack audio/video, have gaps in continuous recording or had late
    evidence, and major ones with a decision made without an approving review given before it (an approval
    after the fact clears nothing)."""
    case_scope = [scope_condition, Case.opened_on.between(date_from, date_to)]
    flagged = db.session.execute(
        select(Agency.code, Case.case_no, Case.missing_av, Case.recording_gaps, Case.late_evidence)
        .join(Case.agency)
        .where(*case_scope, or_(Case.missing_av > 0, Case.recording_gaps > 0, Case.late_evidence > 0))
        .order_by(Case.opened_on)
        .limit(limit)
    ).all()
    # Correlated on CaseRecord.case_id: a query two levels down does not correlate to the outer cases.
    approved_before = (
        select(CaseReview.id)
        .where(
            CaseReview.case_id == CaseRecord.case_id,
            CaseReview.outcome == "approve",
            CaseReview.decided_at <= CaseRecord.at,
        )
        .exists()
    )
    decided_unapproved = (
        select(CaseRecord.id)
        .where(CaseRecord.case_id == Case.id, CaseRecord.step == "decision", ~approved_before)
        .exists()
    )
    agencies_in_scope = db.session.scalars(select(Agency).where(scope_condition)).all()
    catalogue_rules = [
        and_(Case.agency_id == a.id, c.condition()) for a in agencies_in_scope if (c := review_catalogue(a))
    ]
    major = or_(Case.major.is_(True), Case.had_hearing.is_(True), *catalogue_rules)
    unreviewed = db.session.execute(
        select(Agency.code, Case.case_no, Case.matter)
        .join(Case.agency)
        .where(*case_scope, Case.decided.is_(True), major, decided_unapproved)
        .order_by(Case.opened_on)
        .limit(limit)
    ).all()
    return flagged, unreviewed


def _decisions_without_case(scope_condition: ColumnElement[bool], start: dt.datetime, end: dt.datetime) -> list:
    """Per agency that reports cases: its licensing, penalty and coercion decisions published in the period
    without a case, since it began reporting cases.

    One count per agency, each a range of ix_disclosures_decisions_without_case read from the index alone: a
    join grouped by agency took four times as long at a million disclosures (bench/cases.py)."""
    count = (
        select(func.count())
        .select_from(Disclosure)
        .where(
            Disclosure.agency_id == Agency.id,
            Disclosure.type == "decision",
            Disclosure.case_no.is_(None),
            Disclosure.category.in_(sorted(CASE_CATEGORIES)),
            Disclosure.published_at >= Agency.reports_cases_since,
            Disclosure.published_at >= start,
            Disclosure.published_at < end,
        )
        .correlate(Agency)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Agency.code, Agency.name, Agency.reports_cases_since, count).where(
            scope_condition,
            or_(Agency.reports_cases.is_(True), Agency.reports_cases.is_(None)),
            Agency.reports_cases_since.is_not(None),
        )
    ).all()
    counted = sorted((row for row in rows if row[3]), key=lambda row: (-row[3], row[0]))
    return [{"agency": a, "name": n, "reports_cases_since": since, "count": k} for a, n, since, k in counted]


def _made_major_after_publication(
    scope_condition: ColumnElement[bool], start: dt.datetime, end: dt.datetime, limit: int
) -> list:
    """Cases that became major in the period (flag, hearing or a catalogue published later) after one of their
    decisions had been published: that decision went out without the review a major case needs."""
    first_published = func.min(Disclosure.published_at)
    rows = db.session.execute(
        select(Agency.code, Case.case_no, Case.matter, Case.major_since, Case.major_by, first_published)
        .join(Case.agency)
        .join(Disclosure, and_(Disclosure.agency_id == Case.agency_id, Disclosure.case_no == Case.case_no))
        .where(
            scope_condition,
            Case.major_since >= start,
            Case.major_since < end,
            Disclosure.type == "decision",
            Disclosure.published_at < Case.major_since,
        )
        .group_by(Agency.code, Case.case_no, Case.matter, Case.major_since, Case.major_by)
        .order_by(Case.major_since, Case.case_no)
        .limit(limit)
    ).all()
    return [
        {"agency": a, "case_no": c, "matter": m, "major_since": since, "major_by": by, "first_published_at": first}
        for a, c, m, since, by, first in rows
    ]


def hot_spots(user: AdminUser, *, date_from: dt.date, date_to: dt.date, limit: int = 10) -> dict[str, list]:
    """Where complaints pile up in a period: officers, agencies, disclosure types (负面清单 input)."""
    start = dt.datetime.combine(date_from, dt.time(), CHINA)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA)
    scope = [visible_complaints(user), Complaint.created_at >= start, Complaint.created_at < end]
    count = func.count(Complaint.id).label("n")
    agencies = db.session.execute(
        select(Agency.code, Agency.name, count)
        .join(Complaint, Complaint.agency_id == Agency.id)
        .where(*scope)
        .group_by(Agency.code, Agency.name)
        .order_by(count.desc())
        .limit(limit)
    ).all()
    officers = db.session.execute(
        select(Complaint.badge_no, Agency.name, count)
        .join(Complaint.agency)
        .where(*scope, Complaint.badge_no.is_not(None))
        .group_by(Complaint.badge_no, Agency.name)
        .order_by(count.desc())
        .limit(limit)
    ).all()
    types = db.session.execute(
        select(Disclosure.type, count)
        .join(Complaint, Complaint.disclosure_id == Disclosure.id)
        .join(Agency, Agency.id == Complaint.agency_id)
        .where(*scope)
        .group_by(Disclosure.type)
        .order_by(count.desc())
        .limit(limit)
    ).all()
    return {
        "agencies": [{"code": c, "name": n, "count": k} for c, n, k in agencies],
        "officers": [{"badge_no": b, "agency": n, "count": k} for b, n, k in officers],
        "disclosure_types": [{"type": t, "count": k} for t, k in types],
    }
