"""What supervisors see of legal review: the registry of filed reviewers (备案), the 5% staffing rule per
agency, and submissions still awaiting an opinion after their time limit.

Seed 002 §三.1: "原则上各级行政执法机关的法制审核人员不得少于本单位执法人员总数的5%", and reviewers'
particulars are filed with the 司法行政部门 at the same level. Counted: filed reviewers still active, over
officers whose credential is active and valid today (Beijing).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from backend.accounts.models import AdminRole, AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.cases.models import Case, CaseReview, LegalReviewer
from backend.extensions import db
from backend.officers.models import CredentialStatus, Officer
from backend.timezone import today

MIN_REVIEWER_SHARE = Fraction(5, 100)


def registry(user: AdminUser, *, ip: str | None = None) -> dict[str, Any]:
    """Every filed reviewer in the user's scope, and each agency's reviewers against its officers.

    A supervisor's read of who reviews is itself audited (supervisor reads are privileged)."""
    scope = visible_agencies(user)
    reviewers = db.session.scalars(
        select(LegalReviewer).join(LegalReviewer.agency).where(scope).order_by(Agency.code, LegalReviewer.badge_no)
    ).all()
    with_account = set(
        db.session.execute(
            select(AdminUser.agency_id, AdminUser.badge_no).where(
                AdminUser.role == AdminRole.reviewer, AdminUser.disabled_at.is_(None)
            )
        ).all()
    )
    staffing = _staffing(scope)
    record(f"admin:{user.username}", "supervision.read", "reviewer_registry", user.region_code or "all", ip=ip)
    db.session.commit()
    return {
        "reviewers": [
            {
                "agency": r.agency.code,
                "agency_name": r.agency.name,
                "badge_no": r.badge_no,
                "name": r.name,
                "qualification": r.qualification,
                "qualified_on": r.qualified_on,
                "registered_at": r.registered_at,
                "active": r.active,
                "signs_in": (r.agency_id, r.badge_no) in with_account,
            }
            for r in reviewers
        ],
        "staffing": staffing,
        "below_minimum": [row["agency"] for row in staffing if row["below_minimum"]],
        "minimum_share": float(MIN_REVIEWER_SHARE),
    }


def _staffing(scope: ColumnElement[bool]) -> list[dict[str, Any]]:
    """Per agency with officers or reviewers: active reviewers, active officers, their ratio, below 5% or not."""
    day = today()
    officers = dict(
        db.session.execute(
            select(Officer.agency_id, func.count())
            .where(
                Officer.status == CredentialStatus.active,
                or_(Officer.valid_from.is_(None), Officer.valid_from <= day),
                or_(Officer.valid_until.is_(None), Officer.valid_until >= day),
            )
            .group_by(Officer.agency_id)
        ).all()
    )
    reviewers = dict(
        db.session.execute(
            select(LegalReviewer.agency_id, func.count())
            .where(LegalReviewer.active.is_(True))
            .group_by(LegalReviewer.agency_id)
        ).all()
    )
    agencies = db.session.execute(select(Agency.id, Agency.code, Agency.name).where(scope).order_by(Agency.code))
    rows = []
    for agency_id, code, name in agencies:
        n_officers, n_reviewers = officers.get(agency_id, 0), reviewers.get(agency_id, 0)
        if not (n_officers or n_reviewers):
            continue
        share = Fraction(n_reviewers, n_officers) if n_officers else None
        rows.append(
            {
                "agency": code,
                "agency_name": name,
                "officers": n_officers,
                "reviewers": n_reviewers,
                "ratio": round(float(share), 4) if share is not None else None,
                "below_minimum": share is not None and share < MIN_REVIEWER_SHARE,
            }
        )
    return rows


def overdue_reviews(scope: ColumnElement[bool], limit: int) -> list[dict[str, Any]]:
    """Submissions still awaiting an opinion after their due date, the longest overdue first."""
    rows = db.session.execute(
        select(Agency.code, Case.case_no, CaseReview.number, CaseReview.submitted_at, CaseReview.due_on)
        .join(Case, Case.id == CaseReview.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(
            scope,
            and_(CaseReview.outcome.is_(None), CaseReview.withdrawn_at.is_(None), CaseReview.due_on < today()),
        )
        .order_by(CaseReview.due_on)
        .limit(limit)
    ).all()
    return [{"agency": a, "case_no": c, "number": n, "submitted_at": at, "due_on": due} for a, c, n, at, due in rows]
