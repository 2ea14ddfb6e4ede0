"""法制审核: the agency submits, a filed reviewer who signed in gives the opinion, and both answer for it.

Seed 002 §三: "法制审核机构对重大执法决定的法制审核意见负责" — so an opinion is given only by a person who
signed in as a reviewer (an admin user of role ``reviewer``) and whose agency filed them with its 司法局
(备案, ``LegalReviewer``), never by a badge string an agency's case system sends. A 司法局's reviewers may
review for the agencies of its region (seed 002: 法制审核人才调用). A reviewer who worked the case is refused.

Submission, opinion and withdrawal are each audited and appended to the transparency log, the entry
committing to the sha256 of what was submitted or decided (``submission_content`` and friends), so an
opinion changed afterwards no longer matches its entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, or_, select, update

from backend.accounts.models import AdminRole, AdminUser
from backend.accounts.scope import region_prefix, visible_agencies
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.canonical import content_digest
from backend.disclosures.models import PHASE_OF_TYPE, Disclosure, Status
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import clock, db
from backend.timezone import china_date, today
from backend.transparency import services as transparency
from backend.workdays import add_working_days

from .models import CHECKLIST, Case, CaseRecord, CaseReview, LegalReviewer, ReviewOutcome
from .policy import latest_review
from .services import get_own

# 送审材料 asked of every submission when the agency's 审核目录清单 names none (common practice across the
# provinces' rules: the draft decision, the investigation's final report, the evidence and the legal basis).
DEFAULT_MATERIALS = ("拟作出的执法决定书", "案件调查终结报告", "证据材料", "法律依据")
OUTCOME_LABELS = {
    ReviewOutcome.approve: "同意",
    ReviewOutcome.reject: "不同意",
    ReviewOutcome.revise: "修改后再报",
}


# -- the registry (备案) --------------------------------------------------------------------------
def register_reviewer(agency: Agency, badge_no: str, data: dict[str, Any], actor: str) -> LegalReviewer:
    """File (or update, or retire with active=false) one of the agency's legal reviewers."""
    reviewer = db.session.scalar(
        select(LegalReviewer).where(LegalReviewer.agency_id == agency.id, LegalReviewer.badge_no == badge_no)
    )
    now = clock.now()
    if reviewer is None:
        reviewer = LegalReviewer(agency=agency, badge_no=badge_no, registered_at=now)
        db.session.add(reviewer)
    reviewer.name, reviewer.active = data["name"], data["active"]
    reviewer.qualification, reviewer.qualified_on = data["qualification"], data["qualified_on"]
    reviewer.updated_at = now
    record(actor, "reviewer.file", "legal_reviewer", f"{agency.code}/{badge_no}", active=data["active"])
    db.session.commit()
    return reviewer


def reviewer_for(user: AdminUser) -> LegalReviewer:
    """The filed, active reviewer a signed-in user answers as; 403 for anyone else."""
    if user.role != AdminRole.reviewer:
        raise Forbidden("仅法制审核人员可出具审核意见", errors={"role": ["needs reviewer"]})
    reviewer = db.session.scalar(
        select(LegalReviewer).where(
            LegalReviewer.agency_id == user.agency_id,
            LegalReviewer.badge_no == user.badge_no,
            LegalReviewer.active.is_(True),
        )
    )
    if reviewer is None:
        raise Forbidden(
            "该审核人员未向司法行政部门备案或已停止审核工作",
            errors={"reviewer": [f"badge {user.badge_no} is not a filed, active reviewer of its agency"]},
        )
    return reviewer


def _reviewable_agencies(reviewer: LegalReviewer) -> Any:
    """Its own agency; for a 司法局's reviewer, every agency of the 司法局's region too."""
    own = Agency.id == reviewer.agency_id
    if not reviewer.agency.supervises:
        return own
    return or_(own, Agency.region_code.like(region_prefix(reviewer.agency.region_code) + "%"))


# -- the agency's side -----------------------------------------------------------------------------
def required_materials(agency: Agency) -> tuple[str, ...]:
    """The materials the agency's published 审核目录清单 asks for (``details.materials``), else the default."""
    asked = db.session.scalars(
        select(Disclosure.details).where(
            Disclosure.agency_id == agency.id,
            Disclosure.phase == PHASE_OF_TYPE["review_catalogue"],
            Disclosure.type == "review_catalogue",
            Disclosure.status == Status.published,
        )
    ).all()
    named = [name for details in asked for name in (details or {}).get("materials", [])]
    return tuple(dict.fromkeys(named)) or DEFAULT_MATERIALS


def submit(agency: Agency, case_no: str, body: dict[str, Any], actor: str, ip: str | None) -> CaseReview:
    """Submit the case for review with a statement per checklist item and the required materials. The case
    row is locked, so two submissions at once are numbered one after the other (the second waits and is
    refused while the first is pending)."""
    case = get_own(agency, case_no)
    db.session.refresh(case, with_for_update=True)
    latest = latest_review(case)
    if latest is not None and latest.outcome is None and latest.withdrawn_at is None:
        raise Conflict("上一次提交的审核尚未出具意见", errors={"review": [f"review {latest.number} is pending"]})
    checklist, materials = body["checklist"], body["materials"]
    missing = [key for key in CHECKLIST if not checklist.get(key)]
    if missing:
        raise Invalid("审核材料须逐项说明", errors={"checklist": {key: ["required"] for key in missing}})
    _check_materials(agency, materials)
    now = clock.now()
    review = CaseReview(
        case_id=case.id,
        number=(latest.number if latest else 0) + 1,
        submitted_at=now,
        submitted_by=actor,
        checklist=checklist,
        materials=materials,
        due_on=add_working_days(china_date(now), current_app.config["REVIEW_DAYS"]).due,
    )
    db.session.add(review)
    content = submission_content(case, review)
    review.submit_log_index = _log("review_submit", case, review, actor, content)
    record(actor, "review.submit", "case_review", _item_id(case, review), sha256=content_digest(content), ip=ip)
    db.session.commit()
    return review


def _check_materials(agency: Agency, materials: list[dict[str, Any]]) -> None:
    names = [m["name"] for m in materials]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise Invalid("送审材料名称重复", errors={"materials": [f"listed twice: {', '.join(duplicated)}"]})
    absent = [name for name in required_materials(agency) if name not in names]
    if absent:
        raise Invalid(
            "送审材料不全：" + "、".join(absent),
            errors={"materials": [f"missing: {name}" for name in absent]},
        )


def withdraw(agency: Agency, case_no: str, number: int, reason: str, actor: str, ip: str | None) -> CaseReview:
    """Take back a submission still awaiting its opinion (the case is then submitted again)."""
    case = get_own(agency, case_no)
    review = _review_of(case, number)
    if review.withdrawn_at is not None or review.outcome is not None:
        raise Conflict(
            "只能撤回尚未出具意见的审核",
            errors={"number": [f"review {number} is {review.state}"]},
        )
    _settle(review, withdrawn_at=clock.now(), withdrawn_reason=reason)
    content = withdrawal_content(case, review)
    review.withdraw_log_index = _log("review_withdraw", case, review, actor, content)
    record(actor, "review.withdraw", "case_review", _item_id(case, review), sha256=content_digest(content), ip=ip)
    db.session.commit()
    return review


def reviews(case: Case) -> list[CaseReview]:
    return list(db.session.scalars(select(CaseReview).where(CaseReview.case_id == case.id).order_by(CaseReview.number)))


def pending_of_agency(agency: Agency) -> list[CaseReview]:
    """The agency's submissions awaiting an opinion, the overdue ones first."""
    query = _pending().where(Case.agency_id == agency.id)
    return list(db.session.scalars(query))


def is_overdue(review: CaseReview, on: dt.date | None = None) -> bool:
    """Still awaiting its opinion after its due date (Beijing)."""
    pending = review.outcome is None and review.withdrawn_at is None
    return pending and review.due_on is not None and review.due_on < (on or today())


# -- the reviewer's side ---------------------------------------------------------------------------
def queue(user: AdminUser) -> list[CaseReview]:
    """Submissions the signed-in reviewer may give an opinion on, the most urgent first."""
    reviewer = reviewer_for(user)
    return list(db.session.scalars(_pending().where(_reviewable_agencies(reviewer))))


def for_reviewer(user: AdminUser, agency_code: str, case_no: str, number: int) -> CaseReview:
    """One submission the reviewer may see (404 otherwise: another region's cases are not confirmed)."""
    review = _one_review(agency_code, case_no, number, _reviewable_agencies(reviewer_for(user)))
    if review is None:
        raise NotFound("未找到该次审核", errors={"number": [f"no review {number} of {agency_code}/{case_no} for you"]})
    return review


def case_records(case: Case) -> list[CaseRecord]:
    return list(db.session.scalars(select(CaseRecord).where(CaseRecord.case_id == case.id).order_by(CaseRecord.seq)))


def give_opinion(user: AdminUser, review: CaseReview, body: dict[str, Any], ip: str | None) -> CaseReview:
    """The signed-in reviewer's written opinion, a reason per checklist item; never on a case they worked."""
    reviewer = reviewer_for(user)
    case = review.case
    if review.withdrawn_at is not None:
        raise Conflict("该次审核已被承办机构撤回", errors={"number": ["withdrawn by the agency"]})
    if review.outcome is not None:
        raise Conflict("该次审核已出具意见", errors={"number": ["already decided; submit again for a new opinion"]})
    if reviewer.badge_no in officers_on(case):
        raise Conflict("审核人员不得审核本人承办的案件", errors={"reviewer": ["is an officer on this case"]})
    reasons = body["reasons"]
    missing = [key for key in CHECKLIST if not reasons.get(key)]
    if missing:
        raise Invalid("审核意见须逐项说明理由", errors={"reasons": {key: ["required"] for key in missing}})
    actor = f"admin:{user.username}"
    _settle(
        review,
        outcome=ReviewOutcome(body["outcome"]),
        reasons=reasons,
        comment=body.get("comment"),
        reviewer_id=reviewer.id,
        reviewer_badge=reviewer.badge_no,
        reviewer_actor=actor,
        decided_at=clock.now(),
    )
    content = opinion_content(case, review)
    review.opinion_log_index = _log("review_opinion", case, review, actor, content)
    record(actor, "review.opinion", "case_review", _item_id(case, review), sha256=content_digest(content), ip=ip)
    db.session.commit()
    return review


def _settle(review: CaseReview, **values: Any) -> None:
    """Move a pending submission to its final state, once: of two reviewers answering at the same moment, or
    a reviewer and the agency withdrawing, the second is refused (409) instead of overwriting the first. The
    checks above read the row; this conditional update is what decides, on either database."""
    settled = db.session.execute(
        update(CaseReview)
        .where(CaseReview.id == review.id, CaseReview.outcome.is_(None), CaseReview.withdrawn_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if settled.rowcount != 1:
        db.session.rollback()
        raise Conflict("该次审核刚被他人处理，请刷新后查看", errors={"number": ["decided or withdrawn meanwhile"]})
    db.session.refresh(review)


def officers_on(case: Case) -> set[str]:
    """Every badge named on the case or on any of its records."""
    on_records = db.session.scalars(select(CaseRecord.officers).where(CaseRecord.case_id == case.id))
    return set(case.officers) | {badge for officers in on_records for badge in officers}


# -- what the log commits to -----------------------------------------------------------------------
def submission_content(case: Case, review: CaseReview) -> dict[str, Any]:
    return {
        **_identity(case, review),
        "submitted_at": _utc(review.submitted_at),
        "checklist": review.checklist,
        "materials": review.materials,
        "due_on": review.due_on.isoformat() if review.due_on else None,
    }


def opinion_content(case: Case, review: CaseReview) -> dict[str, Any]:
    return {
        **_identity(case, review),
        "outcome": review.outcome,
        "reasons": review.reasons,
        "comment": review.comment,
        "reviewer_badge": review.reviewer_badge,
        "reviewer_name": review.reviewer.name if review.reviewer else None,
        "decided_at": _utc(review.decided_at),
    }


def withdrawal_content(case: Case, review: CaseReview) -> dict[str, Any]:
    return {**_identity(case, review), "withdrawn_at": _utc(review.withdrawn_at), "reason": review.withdrawn_reason}


def _identity(case: Case, review: CaseReview) -> dict[str, Any]:
    return {"agency": case.agency.code, "case_no": case.case_no, "number": review.number}


def _utc(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def _log(kind: str, case: Case, review: CaseReview, actor: str, content: dict[str, Any]) -> int:
    made = transparency.event(kind, _item_id(case, review), case.agency.code, actor, committed=content_digest(content))
    with db.session.no_autoflush:
        return transparency.log_event(made).index


def _item_id(case: Case, review: CaseReview) -> str:
    return f"{case.agency.code}/{case.case_no}/review/{review.number}"


# -- shared ---------------------------------------------------------------------------------------
def _review_of(case: Case, number: int) -> CaseReview:
    review = db.session.scalar(select(CaseReview).where(CaseReview.case_id == case.id, CaseReview.number == number))
    if review is None:
        raise NotFound("未找到该次审核", errors={"number": [f"no review {number} for this case"]})
    return review


def _one_review(agency_code: str, case_no: str, number: int, scope: Any) -> CaseReview | None:
    """Submission ``number`` of a case, if its agency is within ``scope`` (a condition on Agency)."""
    return db.session.scalar(
        select(CaseReview)
        .join(Case, Case.id == CaseReview.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Agency.code == agency_code, Case.case_no == case_no, CaseReview.number == number, scope)
    )


def _pending() -> Select[tuple[CaseReview]]:
    return (
        select(CaseReview)
        .join(Case, Case.id == CaseReview.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(and_(CaseReview.outcome.is_(None), CaseReview.withdrawn_at.is_(None)))
        .order_by(CaseReview.due_on, CaseReview.submitted_at)
    )


# -- reading a decided opinion (the 法制审核意见书) ----------------------------------------------------
def decided_for_reader(user: AdminUser, agency_code: str, case_no: str, number: int) -> CaseReview:
    """A decided review the user may read: a reviewer the ones they may review, anyone else the reviews
    of the agencies in their scope (a handler their agency's, a supervisor their region's); 404 otherwise."""
    if user.role == AdminRole.reviewer:
        review = for_reviewer(user, agency_code, case_no, number)
    else:
        review = _one_review(agency_code, case_no, number, visible_agencies(user))
    if review is None or review.outcome is None:
        raise NotFound("未找到该次审核意见", errors={"number": [f"no opinion {number} of {agency_code}/{case_no}"]})
    return review
