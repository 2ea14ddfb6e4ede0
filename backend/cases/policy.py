"""When a case is major, and when a decision of it may be published: the rule both the cases and the
disclosures domains apply (it reads the agency's published review catalogue)."""

from __future__ import annotations

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.disclosures.models import PHASE_OF_TYPE, Disclosure, Status
from backend.errors import Conflict, Invalid
from backend.extensions import db

from .models import Case, CaseReview, ReviewOutcome


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


def check_publishable(agency: Agency, case_no: str) -> None:
    """A decision of a major case is published only after its latest review approved it (§3)."""
    case = db.session.scalar(select(Case).where(Case.agency_id == agency.id, Case.case_no == case_no))
    if case is None:
        raise Invalid("关联的案件不存在", errors={"case_no": [f"no case {case_no!r} of this agency"]})
    if not is_major(case):
        return
    latest = latest_review(case)
    if latest is None or latest.outcome != ReviewOutcome.approve:
        state = (
            "has not been submitted for review"
            if latest is None
            else (
                "is awaiting the reviewer's opinion"
                if latest.outcome is None
                else f"was not approved ({latest.outcome})"
            )
        )
        raise Conflict(
            "重大执法决定未经法制审核或审核未通过，不得作出和公开",
            errors={"case_no": [f"major case {case_no}: its legal review {state}"]},
        )
