"""When a case is major, and when a decision of it may be recorded or published: the rule both the cases
and the disclosures domains apply (it reads the agency's published review catalogue).

The gate has no side door (seed 000 §三/四: "未经法制审核或审核未通过的，不得作出决定"): an agency that
reports cases publishes its licensing, penalty and coercion decisions only under a case, and a major
case's decision, recorded or published, needs its latest review approved before it was made."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.disclosures.models import PHASE_OF_TYPE, Category, Disclosure, Status
from backend.errors import Conflict, Invalid
from backend.extensions import db
from backend.timezone import china_date

from .models import Case, CaseReview, ReviewOutcome

# Decisions whose making the three systems govern: they must name the case they close.
CASE_CATEGORIES = frozenset({Category.licensing, Category.penalty, Category.coercion})


def review_catalogue(agency: Agency) -> set[str]:
    """Matters the agency's published 审核目录清单 says need review."""
    items = db.session.scalars(
        select(Disclosure).where(
            Disclosure.agency_id == agency.id,
            # The type is only ever pre-phase; naming the phase lets the (agency, phase, type) index answer.
            Disclosure.phase == PHASE_OF_TYPE["review_catalogue"],
            Disclosure.type == "review_catalogue",
            Disclosure.status == Status.published,
        )
    )
    return {matter for item in items for matter in item.details.get("matters", [])}


def is_major(case: Case) -> bool:
    """Major: flagged by the agency, in its review catalogue, or decided after a hearing."""
    return bool(case.major or case.had_hearing or case.matter in review_catalogue(case.agency))


def latest_review(case: Case) -> CaseReview | None:
    return db.session.scalar(
        select(CaseReview).where(CaseReview.case_id == case.id).order_by(CaseReview.number.desc()).limit(1)
    )


def reports_cases(agency: Agency) -> bool:
    """An agency reports cases once it has registered one: from then on its decisions name their case."""
    return db.session.scalar(select(Case.id).where(Case.agency_id == agency.id).limit(1)) is not None


def check_disclosure(agency: Agency, data: dict[str, Any]) -> None:
    """Before an item is published: a decision of a case-reporting agency names its case (422), and a
    major case's decision has passed review (409)."""
    if not data["publish"]:
        return
    if data.get("case_no"):
        check_publishable(agency, data["case_no"], decided_on=data.get("decision_date"))
    elif data["type"] == "decision" and data.get("category") in CASE_CATEGORIES and reports_cases(agency):
        raise Invalid(
            "本机关已报送执法案件，许可、处罚、强制决定须关联案件编号后公开",
            errors={"case_no": ["required: this agency reports cases, so its decisions name their case"]},
        )


def check_decision_record(case: Case, at: dt.datetime, *, had_hearing: bool) -> None:
    """A ``decision`` record of a major case needs an approving latest review given before ``at`` (409).

    ``had_hearing``: whether the case has had a hearing so far, counting records earlier in the same call."""
    if not (had_hearing or is_major(case)):
        return
    approved = _approved_review(case, case.case_no)
    if approved.decided_at is not None and at < approved.decided_at:
        raise Conflict(
            "重大执法决定须在法制审核通过之后作出",
            errors={"time": [f"decision at {at.isoformat()} precedes the review's approval ({approved.number})"]},
        )


def check_publishable(agency: Agency, case_no: str, *, decided_on: dt.date | None = None) -> None:
    """A decision of a major case is published only after its latest review approved it, and not
    dated before that approval (§3)."""
    case = db.session.scalar(select(Case).where(Case.agency_id == agency.id, Case.case_no == case_no))
    if case is None:
        raise Invalid("关联的案件不存在", errors={"case_no": [f"no case {case_no!r} of this agency"]})
    if not is_major(case):
        return
    approved = _approved_review(case, case_no)
    if decided_on and approved.decided_at and decided_on < china_date(approved.decided_at):
        raise Conflict(
            "重大执法决定须在法制审核通过之后作出",
            errors={"decision_date": [f"precedes the approval of review {approved.number} of major case {case_no}"]},
        )


def _approved_review(case: Case, case_no: str) -> CaseReview:
    """The case's latest review if it approved; otherwise 409 saying which review is missing."""
    latest = latest_review(case)
    if latest is None or latest.outcome != ReviewOutcome.approve:
        raise Conflict(
            "重大执法决定未经法制审核或审核未通过，不得作出和公开",
            errors={"case_no": [f"major case {case_no}: its legal review {_why_not_approved(latest)}"]},
        )
    return latest


def _why_not_approved(latest: CaseReview | None) -> str:
    if latest is None:
        return "has not been submitted for review"
    if latest.withdrawn_at is not None:
        return "was withdrawn by the agency; submit it again"
    if latest.outcome is None:
        return "is awaiting the reviewer's opinion"
    return f"was not approved ({latest.outcome})"
