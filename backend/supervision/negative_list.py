"""负面清单 (seed 004: "将投诉多、纠错多、问题多的执法事项作为重点监督对象纳入其中"): enforcement matters ranked by
what went wrong with their acts over a rolling window, kept as dated entries, published by a 司法局.

A matter is (agency, 执法事项). An act names its matter through its case (``Disclosure.case_no`` → ``Case``:
the 事项编码 ``matter_code``, else the matter's name), else through its own details (``matter_code``, then
``matter``); an act that names none is its own matter, under its title as published (the privacy gate's).
Codes win over names so that one matter named two ways is counted once when a code is given; an agency that
gives neither is only seen act by act. Only acts count (decisions and inspection results): the figures
measure enforcement, not list upkeep.

Figures of a matter over the window: complaints naming one of its acts (a complaint naming only an officer
says nothing of the matter), corrections of its public acts (transparency-log ``correct`` events),
withdrawals by reason, overdue acts (decided in the window, published late or still unpublished past their
deadline, as in 公示率) and 案卷评查 points deducted. Each is one grouped query: nothing is read row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.exc import IntegrityError

from backend.accounts.models import AdminUser
from backend.accounts.scope import region_prefix, visible_agencies
from backend.agencies.models import Agency
from backend.audit import services as audit
from backend.cases.models import Case
from backend.complaints.models import Complaint
from backend.disclosures.models import NEGATIVE_LIST_FIGURES, Disclosure, Status, WithdrawalReason
from backend.disclosures.publishing import upsert
from backend.disclosures.schemas import DisclosurePutSchema
from backend.errors import Invalid, NotFound
from backend.extensions import clock, db
from backend.extensions.smorest import Page, paginate
from backend.timezone import CHINA, china_date, today
from backend.transparency.models import LogEntry

from .evaluation_models import SHEET_POINTS, EvaluationCase
from .models import NegativeListEntry

ACT_TYPES = ("decision", "inspection_result")
# Withdrawals that say the act was wrong (纠错); credit repair and the rest count in the figures only.
CORRECTIVE_REASONS = (WithdrawalReason.revoked, WithdrawalReason.confirmed_illegal, WithdrawalReason.remade)
FIGURES = NEGATIVE_LIST_FIGURES
EXTERNAL_ID = "negative-list"

Key = tuple[int, str]  # (agency id, matter key)


@dataclass(frozen=True)
class Thresholds:
    """What puts a matter on the list: any one figure over the window reaching its threshold."""

    days: int
    complaints: int
    corrections: int
    withdrawals: int
    overdue: int
    deductions: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        return cls(
            days=config["NEGATIVE_LIST_DAYS"],
            complaints=config["NEGATIVE_LIST_COMPLAINTS"],
            corrections=config["NEGATIVE_LIST_CORRECTIONS"],
            withdrawals=config["NEGATIVE_LIST_WITHDRAWALS"],
            overdue=config["NEGATIVE_LIST_OVERDUE"],
            deductions=config["NEGATIVE_LIST_DEDUCTIONS"],
        )

    def crossed(self, figures: Mapping[str, Any]) -> list[str]:
        """The figures that reach their threshold, in FIGURES order."""
        corrective = sum(n for reason, n in figures["withdrawals"].items() if reason in CORRECTIVE_REASONS)
        values = {**figures, "withdrawals": corrective}
        return [name for name in FIGURES if values[name] >= getattr(self, name)]


# -- the figures --------------------------------------------------------------------------------
def matter_of() -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The matter key and name of an act, as SQL over Disclosure outer-joined to its Case (module docstring)."""
    # A decision's details are free: an empty value names nothing, and a long one is cut to the entry's column.
    code = func.nullif(Disclosure.details["matter_code"].as_string(), "")
    name = func.nullif(Disclosure.details["matter"].as_string(), "")
    # The title as the privacy gate let it out: a party's name in it never reaches the published list.
    title = func.coalesce(Disclosure.public["title"].as_string(), Disclosure.id)
    return (
        func.substr(func.coalesce(Case.matter_code, code, Case.matter, name, title), 1, 200),
        func.substr(func.coalesce(Case.matter, name, title), 1, 200),
    )


def _acts(scope: ColumnElement[bool], *columns: Any) -> Select[Any]:
    """Acts in scope with their matter: select (agency id, matter key, matter name, *columns)."""
    key, name = matter_of()
    return (
        select(Disclosure.agency_id, key.label("key"), func.max(name), *columns)
        .join(Agency, Agency.id == Disclosure.agency_id)
        .outerjoin(Case, and_(Case.agency_id == Disclosure.agency_id, Case.case_no == Disclosure.case_no))
        .where(scope, Disclosure.type.in_(ACT_TYPES))
        .group_by(Disclosure.agency_id, key)
    )


def evaluation_deductions(scope: ColumnElement[bool], start: dt.datetime, end: dt.datetime) -> dict[Key, float]:
    """Points deducted in 案卷评查 scores given in [start, end), per (agency id, matter key): each scored case
    loses SHEET_POINTS minus its total. Its matter is its case's, keyed as an act's is through its case
    (``matter_of``: the 事项编码, else the matter)."""
    key = func.substr(func.coalesce(Case.matter_code, Case.matter), 1, 200)
    rows = db.session.execute(
        select(Case.agency_id, key, func.sum(SHEET_POINTS - EvaluationCase.total))
        .join(Case, Case.id == EvaluationCase.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(scope, EvaluationCase.scored_at >= start, EvaluationCase.scored_at < end)
        .group_by(Case.agency_id, key)
    )
    return {(agency_id, matter): float(points) for agency_id, matter, points in rows if points}


def figures(scope: ColumnElement[bool], date_from: dt.date, date_to: dt.date) -> dict[Key, dict[str, Any]]:
    """Each matter's figures over [date_from, date_to] (Beijing dates), for matters with any; with its name."""
    start = dt.datetime.combine(date_from, dt.time(), CHINA)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA)
    count = func.count()
    queries = {
        "complaints": _acts(scope, count)
        .join(Complaint, Complaint.disclosure_id == Disclosure.id)
        .where(Complaint.created_at >= start, Complaint.created_at < end),
        "corrections": _acts(scope, count)
        .join(LogEntry, LogEntry.item_id == Disclosure.id)
        .where(LogEntry.event == "correct", LogEntry.at >= start, LogEntry.at < end),
        "overdue": _acts(scope, count).where(
            Disclosure.decision_date.between(date_from, date_to),
            Disclosure.status != Status.withheld,  # never public, so never late (as in 公示率)
            or_(
                Disclosure.published_late.is_(True),
                and_(Disclosure.status == Status.pending, Disclosure.publish_deadline < today()),
            ),
        ),
    }
    found: dict[Key, dict[str, Any]] = {}

    def of(agency_id: int, key: str, name: str) -> dict[str, Any]:
        empty = {"matter": name, "complaints": 0, "corrections": 0, "withdrawals": {}, "overdue": 0, "deductions": 0}
        return found.setdefault((agency_id, key), empty)

    for figure, query in queries.items():
        for agency_id, key, name, n in db.session.execute(query):
            of(agency_id, key, name)[figure] = int(n)
    withdrawn = (
        _acts(scope, Disclosure.withdrawal_reason, count)
        .where(Disclosure.withdrawn_at >= start, Disclosure.withdrawn_at < end)
        .group_by(Disclosure.withdrawal_reason)
    )
    for agency_id, key, name, reason, n in db.session.execute(withdrawn):
        of(agency_id, key, name)["withdrawals"][reason or "other"] = int(n)
    for (agency_id, key), points in evaluation_deductions(scope, start, end).items():
        of(agency_id, key, key)["deductions"] = points
    return found


# -- keeping the list ---------------------------------------------------------------------------
def refresh(thresholds: Thresholds, on: dt.date | None = None) -> dict[str, int]:
    """Recompute the window ending ``on`` (today) and open or close entries; running it again changes nothing.

    One open entry per matter (a unique index): a run racing another (the CLI beside the job) that loses at
    the index starts again from what the winner committed."""
    for attempt in (1, 2):
        changed = _apply_window(thresholds, on or today())
        try:
            db.session.commit()
            return changed
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply_window(thresholds: Thresholds, on: dt.date) -> dict[str, int]:
    """Open an entry for each matter reaching a threshold that has none; close those no longer reaching any."""
    date_from = on - dt.timedelta(days=thresholds.days - 1)
    window = {"from": date_from.isoformat(), "to": on.isoformat()}
    current = figures(true(), date_from, on)
    listed = {(e.agency_id, e.matter_key): e for e in db.session.scalars(_open_entries())}
    now, opened, closed = clock.now(), 0, 0
    for key, entry in listed.items():
        found = current.get(key)
        if found is None or not thresholds.crossed(found):
            entry.left_at, entry.left_figures = now, _recorded(found or _nothing(entry), thresholds, window)
            closed += 1
    for key, found in current.items():
        if key not in listed and thresholds.crossed(found):
            db.session.add(
                NegativeListEntry(
                    agency_id=key[0],
                    matter_key=key[1],
                    matter_name=found["matter"],
                    entered_at=now,
                    entered_figures=_recorded(found, thresholds, window),
                )
            )
            opened += 1
    return {"opened": opened, "closed": closed}


def _open_entries() -> Select[tuple[NegativeListEntry]]:
    return select(NegativeListEntry).where(NegativeListEntry.left_at.is_(None))


def _nothing(entry: NegativeListEntry) -> dict[str, Any]:
    return {"matter": entry.matter_name, "withdrawals": {}}


def _recorded(found: Mapping[str, Any], thresholds: Thresholds, window: dict[str, str]) -> dict[str, Any]:
    """The figures as an entry keeps them: the window, each figure, and which thresholds they reached."""
    kept = {name: found.get(name, {} if name == "withdrawals" else 0) for name in FIGURES}
    return {"period": window, **kept, "crossed": thresholds.crossed(kept)}


# -- reading and publishing ---------------------------------------------------------------------
def _scoped(user: AdminUser, region: str | None, agency: str | None) -> list[ColumnElement[bool]]:
    conditions = [visible_agencies(user)]
    if region:
        conditions.append(Agency.region_code.like(region_prefix(region) + "%"))
    if agency:
        conditions.append(Agency.code == agency)
    return conditions


def entries(
    user: AdminUser,
    *,
    region: str | None = None,
    agency: str | None = None,
    current: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[NegativeListEntry]:
    """The list in the user's scope, latest entries first; ``current``: only those still on it (or only gone)."""
    query = select(NegativeListEntry).join(NegativeListEntry.agency).where(*_scoped(user, region, agency))
    if current is not None:
        query = query.where(NegativeListEntry.left_at.is_(None) if current else NegativeListEntry.left_at.is_not(None))
    order = (NegativeListEntry.entered_at.desc(), NegativeListEntry.id.desc())
    return paginate(query.order_by(*order), page=page, page_size=page_size)


def ranking(
    user: AdminUser,
    thresholds: Thresholds,
    *,
    date_from: dt.date,
    date_to: dt.date,
    region: str | None = None,
    agency: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Matters in the user's scope ranked over any period: most thresholds reached first, then by complaints,
    corrections, corrective withdrawals, overdue acts and deductions. What the kept list is made of, on demand."""
    found = figures(and_(*_scoped(user, region, agency)), date_from, date_to)

    def weight(item: tuple[Key, dict[str, Any]]) -> tuple[Any, ...]:
        (_, key), f = item
        corrective = sum(n for reason, n in f["withdrawals"].items() if reason in CORRECTIVE_REASONS)
        crossed = len(thresholds.crossed(f))
        return (-crossed, -f["complaints"], -f["corrections"], -corrective, -f["overdue"], -f["deductions"], key)

    top = sorted(found.items(), key=weight)[:limit]
    names = dict(db.session.execute(select(Agency.id, Agency).where(Agency.id.in_({a for (a, _), _ in top}))).all())
    return [
        {"agency": names[agency_id], "matter_key": key, **f, "crossed": thresholds.crossed(f)}
        for (agency_id, key), f in top
    ]


def publishers(user: AdminUser) -> list[Agency]:
    """The 司法行政部门 in the user's scope: those whose region's list the user may publish."""
    query = select(Agency).where(visible_agencies(user), Agency.supervises.is_(True)).order_by(Agency.code)
    return list(db.session.scalars(query))


def publish(user: AdminUser, code: str, *, ip: str | None = None) -> Disclosure:
    """Publish the current list of the 司法局 ``code``'s region as its ``negative_list`` item (republishing
    corrects it, earlier versions kept); audited. A 司法局 outside the user's scope is not found."""
    agency = db.session.scalar(select(Agency).where(Agency.code == code, visible_agencies(user)))
    if agency is None or not agency.supervises:
        raise NotFound("未找到该司法行政部门", errors={"agency": [f"no 司法行政部门 {code!r} under your supervision"]})
    rows = db.session.scalars(
        select(NegativeListEntry)
        .join(NegativeListEntry.agency)
        .where(Agency.region_code.like(region_prefix(agency.region_code) + "%"), NegativeListEntry.left_at.is_(None))
        .order_by(Agency.code, NegativeListEntry.matter_name)
    ).all()
    try:
        body = DisclosurePutSchema().load(_body(agency, rows))
    except ma.ValidationError as error:  # e.g. more entries than one item holds
        raise Invalid("负面清单无法作为一条公示信息发布", errors=error.normalized_messages()) from error
    actor = f"admin:{user.username}"
    audit.record(actor, "negative_list.publish", "agency", code, ip=ip, entries=len(rows))
    return upsert(agency, EXTERNAL_ID, body, actor).item


def _body(agency: Agency, rows: list[NegativeListEntry]) -> dict[str, Any]:
    listed = [
        {
            "agency": row.agency.code,
            "agency_name": row.agency.name,
            "matter": row.matter_name,
            "figures": {name: row.entered_figures.get(name, 0) for name in FIGURES},
            "crossed": row.entered_figures.get("crossed", []),
            "entered_on": china_date(row.entered_at).isoformat(),
        }
        for row in rows
    ]
    lines = [f"{e['agency_name']} · {e['matter']}（{e['entered_on']} 列入）" for e in listed]
    return {
        "phase": "pre",
        "type": "negative_list",
        "title": f"{agency.name}行政执法负面清单",
        "content": "\n".join(lines) or "本行政区域目前没有列入负面清单的执法事项。",
        "details": {"as_of": today().isoformat(), "entries": listed},
        "publish": True,
    }
