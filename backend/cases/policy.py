"""When a case is major, and when a decision of it may be recorded or published: the rule both the cases
and the disclosures domains apply (it reads the agency's published review catalogue).

The gate has no side door (seed 000 §三/四: "未经法制审核或审核未通过的，不得作出决定"): an agency that
reports cases publishes its licensing, penalty and coercion decisions only under a case, and a major
case's decision, recorded or published, needs its latest review approved before it was made."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from backend.agencies.models import Agency
from backend.disclosures.models import PHASE_OF_TYPE, Disclosure, Status
from backend.errors import Conflict, Invalid
from backend.extensions import db
from backend.timezone import china_date

from .models import CASE_CATEGORIES, Case, CaseReview, ReviewOutcome


@dataclass(frozen=True)
class Catalogue:
    """The matters of an agency's 审核目录清单, matched on the matter code (事项编码), not the title.

    An entry ``{code, name}`` covers the cases of that ``matter_code`` whatever their title, and no case of
    another code. A case without a ``matter_code`` is matched on its title against every entry's name, and an
    old name-only entry (a plain string, before catalogues carried codes) covers every case of that title:
    where a code is missing on either side the title is all there is to go on, and leaving the code out must
    not take a case out of review."""

    codes: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # of name-only entries: they cover any case of the title
    coded_names: frozenset[str] = frozenset()  # of coded entries: they cover uncoded cases of the title

    @classmethod
    def of(cls, entries: Iterable[str | dict[str, str]]) -> Catalogue:
        coded = [entry for entry in entries if isinstance(entry, dict)]
        return cls(
            frozenset(entry["code"] for entry in coded),
            frozenset(entry for entry in entries if isinstance(entry, str)),
            frozenset(entry["name"] for entry in coded),
        )

    def __bool__(self) -> bool:
        return bool(self.codes or self.names)

    def covers(self, matter_code: str | None, matter: str) -> bool:
        if matter in self.names:
            return True
        return matter_code in self.codes if matter_code else matter in self.coded_names

    def condition(self) -> ColumnElement[bool]:
        """The same rule as ``covers``, on Case rows."""
        if not self:
            return false()
        return or_(
            Case.matter.in_(self.names),
            Case.matter_code.in_(self.codes),
            and_(Case.matter_code.is_(None), Case.matter.in_(self.coded_names)),
        )


def review_catalogue(agency: Agency) -> Catalogue:
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
    return Catalogue.of([entry for item in items for entry in item.details.get("matters", [])])


def is_major(case: Case) -> bool:
    """Major: flagged by the agency, decided after a hearing, or its matter in the agency's review catalogue."""
    return bool(case.major or case.had_hearing or review_catalogue(case.agency).covers(case.matter_code, case.matter))


def note_major(case: Case, now: dt.datetime) -> None:
    """Keep when (and by what) the platform learnt that ``case`` is major, the first time it is."""
    if case.major_since is not None:
        return
    by = "flag" if case.major else "hearing" if case.had_hearing else None
    if by is None and review_catalogue(case.agency).covers(case.matter_code, case.matter):
        by = "catalogue"
    if by is not None:
        case.major_since, case.major_by = now, by


def note_catalogue(agency: Agency, entries: Iterable[str | dict[str, str]], now: dt.datetime) -> None:
    """A review catalogue just published makes the agency's cases it covers major from ``now`` (in the
    current transaction)."""
    catalogue = Catalogue.of(entries)
    if catalogue:
        db.session.execute(
            update(Case)
            .where(Case.agency_id == agency.id, Case.major_since.is_(None), catalogue.condition())
            .values(major_since=now, major_by="catalogue")
            .execution_options(synchronize_session="fetch")
        )


def latest_review(case: Case) -> CaseReview | None:
    return db.session.scalar(
        select(CaseReview).where(CaseReview.case_id == case.id).order_by(CaseReview.number.desc()).limit(1)
    )


def note_first_case(agency: Agency, now: dt.datetime) -> None:
    """The agency began reporting cases: set once, when its first case is registered or the setting turned on.

    A plain UPDATE, so registering a case never meets the agency row's version check (its own edits)."""
    if agency.reports_cases_since is None:
        db.session.execute(
            update(Agency)
            .where(Agency.id == agency.id, Agency.reports_cases_since.is_(None))
            .values(reports_cases_since=now)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(agency, "reports_cases_since", now)


def check_disclosure(agency: Agency, data: dict[str, Any]) -> None:
    """Before an item is published: a decision of a case-reporting agency names its case (422), and a
    major case's decision has passed review (409)."""
    if not data["publish"]:
        return
    if data.get("case_no"):
        check_publishable(agency, data["case_no"], decided_on=data.get("decision_date"))
    elif data["type"] == "decision" and data.get("category") in CASE_CATEGORIES and agency.reports_cases_now:
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
