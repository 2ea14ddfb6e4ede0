"""公示率 checked against cases: every case with a decision record owes a published decision disclosure.

The expectation comes from the case, not from what the agency registered: a case's first decision record
sets its decision date and the statutory deadline counted from it (``cases.services.set_decision_deadline``),
and the decision disclosure naming the case (``Disclosure.case_no``) must be published by the end of that day.
A case whose decision never reached the platform lowers this rate once its deadline has passed, and is listed
among the overdue items. Only columns are read (cases by ``decided_on``, disclosures by agency and case
number), never the records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from backend.agencies.models import Agency
from backend.cases.models import Case
from backend.disclosures.models import Disclosure
from backend.extensions import db


def _decision_of_case() -> ColumnElement[bool]:
    """A decision disclosure naming the case (a correlated condition on Case)."""
    return and_(
        Disclosure.agency_id == Case.agency_id, Disclosure.case_no == Case.case_no, Disclosure.type == "decision"
    )


def case_rates(scope: ColumnElement[bool], date_from: dt.date, date_to: dt.date, on: dt.date) -> list[dict[str, Any]]:
    """Per agency, of its cases decided in the period: how many had their decision published by the deadline,
    late, or not at all past it (``pending_overdue``). A case whose decision disclosure is withheld (a minor's,
    a confidential one) is left out, ``decided`` included, as withheld items are from the rate over items."""
    withheld = Disclosure.status == "withheld"
    per_case = (
        select(
            Case.agency_id,
            Case.publish_by,
            Case.publish_deadline,
            func.min(case((~withheld, Disclosure.published_at))).label("published_at"),
            func.max(case((withheld, 1), else_=0)).label("withheld"),
        )
        .join(Agency, Agency.id == Case.agency_id)
        .outerjoin(Disclosure, _decision_of_case())
        .where(scope, Case.decided_on.between(date_from, date_to))
        .group_by(Case.id, Case.agency_id, Case.publish_by, Case.publish_deadline)
        .subquery("per_case")
    )
    c = per_case.c
    # Summed per agency id first, then named: joined to the agencies before summing, the planner misjudged the
    # per-case rows and compared each agency with every case.
    per_agency = (
        select(
            c.agency_id,
            func.count().label("decided"),
            func.sum(case((c.published_at < c.publish_by, 1), else_=0)).label("on_time"),
            func.sum(case((c.published_at >= c.publish_by, 1), else_=0)).label("late"),
            func.sum(case((and_(c.published_at.is_(None), c.publish_deadline < on), 1), else_=0)).label("overdue"),
        )
        .where(c.withheld == literal(0))
        .group_by(c.agency_id)
        .subquery("per_agency")
    )
    a = per_agency.c
    rows = db.session.execute(
        select(Agency.code, Agency.name, a.decided, a.on_time, a.late, a.overdue)
        .join(per_agency, a.agency_id == Agency.id)
        .order_by(Agency.code)
    )
    return [_rate_row(*row) for row in rows]


def _rate_row(code: str, name: str, decided: Any, on_time: Any, late: Any, overdue: Any) -> dict[str, Any]:
    # Sums are NUMERIC on PostgreSQL: plain ints before any arithmetic.
    decided, on_time, late, overdue = int(decided), int(on_time), int(late), int(overdue)
    judged = on_time + late + overdue
    return {
        "code": code,
        "name": name,
        "decided": decided,
        "on_time": on_time,
        "late": late,
        "pending_overdue": overdue,
        "on_time_rate": round(on_time / judged, 4) if judged else None,
    }


def missing_decisions(
    scope: ColumnElement[bool], date_from: dt.date, date_to: dt.date, on: dt.date, limit: int
) -> list[dict[str, Any]]:
    """Cases decided in the period, past their deadline, with no decision disclosure registered at all (one
    registered but unpublished is listed as that item), earliest deadline first."""
    registered = select(Disclosure.id).where(_decision_of_case()).exists()
    rows = db.session.execute(
        select(Agency.code, Case.case_no, Case.matter, Case.publish_deadline)
        .join(Case.agency)
        .where(scope, Case.decided_on.between(date_from, date_to), Case.publish_deadline < on, ~registered)
        .order_by(Case.publish_deadline, Case.id)
        .limit(limit)
    )
    return [
        {
            "agency": agency,
            "case_no": case_no,
            "external_id": None,
            "title": matter,
            "publish_deadline": deadline,
            "status": "missing",
        }
        for agency, case_no, matter, deadline in rows
    ]


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rate over every agency's rows (on_time_rates' or case_rates')."""
    on_time = sum(r["on_time"] for r in rows)
    judged = on_time + sum(r["late"] + r["pending_overdue"] for r in rows)
    return {"on_time": on_time, "judged": judged, "on_time_rate": round(on_time / judged, 4) if judged else None}
