"""实时调阅 (seed 002: "建立健全记录信息调阅监督制度，做到可实时调阅"): a supervisor opens any case of their
region and the divisions below it, and every such read is audited so the agency can see who looked.

A case file is what the agency recorded and what followed from it: the records with the chain checked again,
the audio-video and 24-hour flags, the legal reviews and their opinions, the decision disclosures naming the
case (``Disclosure.case_no``) and the complaints about those disclosures. Complaints name a disclosure, an
officer or an agency, never a case: the ones about the case's decision are linked through that disclosure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from backend.accounts.models import AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from backend.audit.services import record
from backend.cases import reviews
from backend.cases.models import Case, CaseReview
from backend.cases.services import records_view
from backend.complaints.models import Complaint
from backend.disclosures.models import Disclosure
from backend.errors import NotFound
from backend.extensions import db
from backend.extensions.smorest import Page, paginate
from backend.timezone import CHINA

READ = "supervision.case_read"


@dataclass(frozen=True)
class CaseFile:
    case: Case
    chain: dict[str, Any]  # records_view: records, valid, problems, flags
    reviews: list[CaseReview]
    disclosures: list[Disclosure]
    complaints: list[Complaint]


def _in_scope(user: AdminUser) -> Select[tuple[Case]]:
    return select(Case).join(Case.agency).where(visible_agencies(user))


def find_case(user: AdminUser, agency_code: str, case_no: str) -> Case:
    """A case of the user's scope; 404 for any other (a case of another region is not even confirmed)."""
    case = db.session.scalar(_in_scope(user).where(Agency.code == agency_code, Case.case_no == case_no))
    if case is None:
        raise NotFound("未找到该案件", errors={"case_no": [f"no case {case_no!r} of {agency_code} in your scope"]})
    return case


def read_case(user: AdminUser, agency_code: str, case_no: str, *, via: str, ip: str | None) -> CaseFile:
    """The whole case file, the read audited (who, with their role and region then, what, when, from where)."""
    case = find_case(user, agency_code, case_no)
    disclosures = list(
        db.session.scalars(
            select(Disclosure)
            .where(Disclosure.agency_id == case.agency_id, Disclosure.case_no == case.case_no)
            .where(Disclosure.type == "decision")
            .order_by(Disclosure.created_at)
        )
    )
    complaints = list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.disclosure_id.in_([d.id for d in disclosures]))
            .order_by(Complaint.created_at)
        )
    )
    found = CaseFile(case, records_view(case), reviews.reviews(case), disclosures, complaints)
    record(
        f"admin:{user.username}",
        READ,
        "case",
        f"{agency_code}/{case_no}",
        ip=ip,
        via=via,
        role=str(user.role),
        region=user.region_code,
        reader_agency=user.agency.code if user.agency else None,
    )
    db.session.commit()
    return found


def list_cases(
    user: AdminUser,
    *,
    agency: str | None = None,
    case_no: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[Case]:
    """Cases of the user's scope, by agency code, case number (a prefix) and opening date, latest first."""
    query = _in_scope(user)
    if agency:
        query = query.where(Agency.code == agency)
    if case_no:
        query = query.where(Case.case_no.startswith(case_no, autoescape=True))
    if date_from:
        query = query.where(Case.opened_on >= date_from)
    if date_to:
        query = query.where(Case.opened_on <= date_to)
    return paginate(query.order_by(Case.opened_on.desc(), Case.id.desc()), page=page, page_size=page_size)


def reads_of_agency(
    agency: Agency,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[dict[str, Any]]:
    """Who read the agency's cases, latest first: the reader's username, role and region, when, which case."""
    query = select(AuditEntry).where(
        AuditEntry.action == READ, AuditEntry.target_id.startswith(f"{agency.code}/", autoescape=True)
    )
    if date_from:
        query = query.where(AuditEntry.at >= dt.datetime.combine(date_from, dt.time(), CHINA))
    if date_to:
        query = query.where(AuditEntry.at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA))
    found = paginate(query.order_by(AuditEntry.id.desc()), page=page, page_size=page_size)
    return found.map(lambda entry: _read_view(agency, entry))


def _read_view(agency: Agency, entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "case_no": entry.target_id.removeprefix(f"{agency.code}/"),
        "reader": entry.actor.removeprefix("admin:"),
        "role": entry.detail.get("role"),
        "region": entry.detail.get("region"),
        "reader_agency": entry.detail.get("reader_agency"),
        "via": entry.detail.get("via"),
    }
