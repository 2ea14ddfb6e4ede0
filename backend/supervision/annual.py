"""The annual enforcement statistics (统计年报), computed from what is stored, never self-reported.

Published for each agency as an ``annual_statistics`` disclosure by 31 January (a scheduled job);
also downloadable as CSV and XLSX. Each 司法行政部门 (``Agency.supervises``) also gets its region's
totals, every agency in its division and below, with which of them have published their own report
(seed 002: agencies report the year's data to the 司法行政部门 by 15 January, the 司法行政部门 sums them
up): the roll-up is published as an ``annual_statistics`` item of its own, ``details.region`` naming
the division, due 15 January.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Numeric, cast, func, or_, select

from backend.accounts.scope import region_prefix
from backend.agencies.models import Agency
from backend.cases.models import Case, CaseReview
from backend.complaints.models import Complaint
from backend.disclosures.deadlines import regional_report_due
from backend.disclosures.models import LABELS, Disclosure
from backend.disclosures.publishing import upsert
from backend.errors import NotFound
from backend.extensions import db
from backend.timezone import CHINA, china_date, today

from . import evaluation
from .services import on_time_rates

ACTOR = "system:annual-report"
ON_TIME_KEYS = ("due", "on_time", "late", "pending_overdue")


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1, tzinfo=CHINA), dt.datetime(year + 1, 1, 1, tzinfo=CHINA)


def _decided_in(year: int, agency_ids: Sequence[int], type_: str) -> Any:
    return (
        Disclosure.agency_id.in_(agency_ids),
        Disclosure.type == type_,
        Disclosure.decision_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
    )


def _decisions_by_category(agency_ids: Sequence[int], year: int) -> dict[str, dict[str, Any]]:
    """The decisions of the year per category: label, total and count per outcome."""
    decisions = db.session.execute(
        select(Disclosure.category, Disclosure.outcome, func.count())
        .where(*_decided_in(year, agency_ids, "decision"))
        .group_by(Disclosure.category, Disclosure.outcome)
        .order_by(Disclosure.category)
    ).all()
    by_category: dict[str, dict[str, Any]] = {}
    for category, outcome, count in decisions:
        entry = by_category.setdefault(category, {"label": LABELS.get(category, category), "total": 0, "outcomes": {}})
        entry["total"] += count
        key = outcome or "未注明"
        entry["outcomes"][key] = entry["outcomes"].get(key, 0) + count
    return by_category


def _inspections(agency_ids: Sequence[int], year: int) -> dict[str, Any]:
    """抽查检查结果 of the year: how many, and how many per outcome."""
    outcomes = db.session.execute(
        select(Disclosure.outcome, func.count())
        .where(*_decided_in(year, agency_ids, "inspection_result"))
        .group_by(Disclosure.outcome)
    ).all()
    by_outcome: dict[str, int] = {}
    for outcome, count in outcomes:
        by_outcome[outcome or "未注明"] = by_outcome.get(outcome or "未注明", 0) + count
    return {"total": sum(by_outcome.values()), "outcomes": by_outcome}


def _amounts(agency_ids: Sequence[int], year: int) -> dict[str, Any]:
    """罚没金额: the fines and confiscations the year's decisions carry in their details (yuan, exact).

    Summed by the database in fen (each amount has at most two decimals), so a province's year of decisions
    is one aggregate, not every row's details read into Python."""
    fine, confiscation = (Disclosure.details[key].as_string() for key in ("fine_amount", "confiscation_amount"))

    def fen(amount: Any) -> Any:
        return func.coalesce(func.sum(func.round(cast(amount, Numeric(18, 2)) * 100)), 0)

    total_fine, total_confiscation, carrying = db.session.execute(
        select(
            fen(fine),
            fen(confiscation),
            func.count().filter(or_(fine.is_not(None), confiscation.is_not(None))),
        ).where(*_decided_in(year, agency_ids, "decision"))
    ).one()
    return {"fine": _yuan(total_fine), "confiscation": _yuan(total_confiscation), "decisions": carrying}


def _yuan(fen: Any) -> str:
    return f"{Decimal(int(Decimal(str(fen)))) / 100:.2f}"


def _on_time(agency_ids: Sequence[int], year: int) -> dict[str, Any]:
    """公示率 over the agencies together: their counts added, the rate of the sums."""
    rates = on_time_rates(Agency.id.in_(agency_ids), dt.date(year, 1, 1), dt.date(year, 12, 31))
    sums = {key: sum(rate[key] for rate in rates) for key in ON_TIME_KEYS}
    judged = sums["on_time"] + sums["late"] + sums["pending_overdue"]
    return {**sums, "on_time_rate": round(sums["on_time"] / judged, 4) if judged else None}


def _figures(agency_ids: Sequence[int], year: int) -> dict[str, Any]:
    """Every figure of the year over the given agencies."""
    start, end = _year_bounds(year)
    by_category = _decisions_by_category(agency_ids, year)
    # Grouped by the raw column: PostgreSQL will not match two coalesce(..., $n) expressions.
    reviews = {
        outcome or "pending": count
        for outcome, count in db.session.execute(
            select(CaseReview.outcome, func.count())
            .join(Case, Case.id == CaseReview.case_id)
            .where(Case.agency_id.in_(agency_ids), CaseReview.submitted_at >= start, CaseReview.submitted_at < end)
            .group_by(CaseReview.outcome)
        )
    }
    complained = (Complaint.agency_id.in_(agency_ids), Complaint.created_at >= start, Complaint.created_at < end)
    complaint_rows = db.session.execute(
        select(Complaint.status, func.count()).where(*complained).group_by(Complaint.status)
    ).all()
    ratings = db.session.scalar(select(func.avg(Complaint.rating)).where(*complained))
    withdrawals = dict(
        db.session.execute(
            select(Disclosure.withdrawal_reason, func.count())
            .where(
                Disclosure.agency_id.in_(agency_ids), Disclosure.withdrawn_at >= start, Disclosure.withdrawn_at < end
            )
            .group_by(Disclosure.withdrawal_reason)
        ).all()
    )
    return {
        "decisions": {"total": sum(e["total"] for e in by_category.values()), "by_category": by_category},
        "inspections": _inspections(agency_ids, year),
        "amounts": _amounts(agency_ids, year),
        "on_time": _on_time(agency_ids, year),
        "reviews": {"submitted": sum(reviews.values()), **reviews},
        "complaints": {
            "received": sum(n for _, n in complaint_rows),
            "by_status": dict(complaint_rows),
            "average_rating": round(float(ratings), 2) if ratings is not None else None,
        },
        "withdrawals": withdrawals,
        "evaluations": evaluation.annual_figures(agency_ids, start, end),
    }


def report(agency: Agency, year: int) -> dict[str, Any]:
    """One agency's figures of the year."""
    return {"agency": {"code": agency.code, "name": agency.name}, "year": year, **_figures([agency.id], year)}


def _region_agencies(supervisor: Agency) -> list[Agency]:
    """The agencies a 司法行政部门's roll-up covers: every one in its division and below, itself included."""
    return list(
        db.session.scalars(
            select(Agency)
            .where(Agency.region_code.like(region_prefix(supervisor.region_code) + "%"))
            .order_by(Agency.region_code, Agency.code)
        )
    )


def _submissions(agencies: Sequence[Agency], year: int) -> dict[int, dt.datetime]:
    """When each agency first published its own annual_statistics item of the year (not a roll-up)."""
    found: dict[int, dt.datetime] = {}
    for agency_id, details, published_at in db.session.execute(
        select(Disclosure.agency_id, Disclosure.details, Disclosure.published_at).where(
            Disclosure.agency_id.in_([a.id for a in agencies]),
            Disclosure.type == "annual_statistics",
            Disclosure.published_at.is_not(None),
        )
    ):
        if details.get("year") == year and not details.get("region"):
            found[agency_id] = min(published_at, found.get(agency_id, published_at))
    return found


def regional_report(supervisor: Agency, year: int) -> dict[str, Any]:
    """A 司法行政部门's region totals, and each agency's report: submitted (published, when) or late."""
    if not supervisor.supervises:
        raise NotFound(
            "该执法主体不是司法行政部门，没有本行政区域汇总", errors={"code": [f"{supervisor.code} does not supervise"]}
        )
    agencies = _region_agencies(supervisor)
    due = regional_report_due(year)
    submitted = _submissions(agencies, year)
    listing = []
    for agency in agencies:
        at = submitted.get(agency.id)
        late = china_date(at) > due if at else today() > due
        listing.append(
            {
                "code": agency.code,
                "name": agency.name,
                "region": agency.region_code,
                "submitted": at is not None,
                "submitted_at": at,
                "late": late,
            }
        )
    return {
        "agency": {"code": supervisor.code, "name": supervisor.name},
        "year": year,
        **_figures([a.id for a in agencies], year),
        "region": supervisor.region_code,
        "report_due": due,
        "agencies": listing,
        "submissions": {"agencies": len(listing), "submitted": len(submitted), "late": sum(a["late"] for a in listing)},
    }


_ON_TIME_LABELS = {
    "due": "应公示",
    "on_time": "按时公示",
    "late": "逾期公示",
    "pending_overdue": "逾期未公示",
    "on_time_rate": "公示率",
}


def rows(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report flattened to (section, item, value), the shape of the CSV and the spreadsheet."""
    out: list[tuple[str, str, Any]] = [("执法主体", data["agency"]["name"], data["agency"]["code"])]
    if "region" in data:
        out.append(("行政区划", "本行政区域汇总", data["region"]))
    out += [("年度", "", data["year"]), ("执法决定", "合计", data["decisions"]["total"])]
    for category in data["decisions"]["by_category"].values():
        out.append(("执法决定", category["label"], category["total"]))
        out += [("执法决定", f"{category['label']}/{outcome}", n) for outcome, n in category["outcomes"].items()]
    out.append(("抽查检查", "合计", data["inspections"]["total"]))
    out += [("抽查检查", outcome, n) for outcome, n in data["inspections"]["outcomes"].items()]
    amounts = data["amounts"]
    out += [
        ("罚没金额", "罚款（元）", Decimal(amounts["fine"])),
        ("罚没金额", "没收（元）", Decimal(amounts["confiscation"])),
        ("罚没金额", "载明金额的决定", amounts["decisions"]),
    ]
    out += [("公示时限", _ON_TIME_LABELS[k], v) for k, v in data["on_time"].items()]
    out += [("法制审核", k, v) for k, v in data["reviews"].items()]
    out += [("投诉举报", "受理", data["complaints"]["received"])]
    out += [("投诉举报", k, v) for k, v in data["complaints"]["by_status"].items()]
    out += [("投诉举报", "平均评分", data["complaints"]["average_rating"])]
    out += [("撤下", k, v) for k, v in data["withdrawals"].items()]
    evaluated = data["evaluations"]
    out += [("案卷评查", "评查案件", evaluated["cases_evaluated"]), ("案卷评查", "平均得分", evaluated["mean_score"])]
    out += [("案卷评查", f"扣分/{label}", lost) for label, lost in evaluated["deductions"].items()]
    return out + _submission_rows(data)


def _submission_rows(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    if "agencies" not in data:
        return []
    out: list[tuple[str, str, Any]] = [("报送情况", "报送截止", data["report_due"].isoformat())]
    for agency in data["agencies"]:
        state = f"已报送 {china_date(agency['submitted_at']).isoformat()}" if agency["submitted"] else "未报送"
        out.append(("报送情况", f"{agency['name']}（{agency['code']}）", state + ("，逾期" if agency["late"] else "")))
    return out


def to_csv(data: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "value"])
    writer.writerows(rows(data))
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{data['year']}年度统计"
    sheet.append(["类别", "项目", "数值"])
    for row in rows(data):
        sheet.append(list(row))
    for column, width in zip("ABC", (14, 36, 16), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def publish_due(on: dt.date | None = None) -> int:
    """In January, publish last year's statistics for every agency that has not yet (due 31 January), then
    each 司法行政部门's regional roll-up (due 15 January), so that it finds every agency's report submitted."""
    on = on or today()
    if on.month != 1:
        return 0
    year = on.year - 1
    agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
    published = 0
    for agency in agencies:
        published += _publish(agency, f"annual-statistics-{year}", partial(report, agency, year))
    for agency in agencies:
        if agency.supervises:
            published += _publish(agency, f"regional-statistics-{year}", partial(regional_report, agency, year))
    return published


def _publish(agency: Agency, external_id: str, compute: Callable[[], dict[str, Any]]) -> int:
    """Publish the report compute() makes as the agency's item external_id, unless it exists: 1 if published."""
    if db.session.scalar(
        select(Disclosure.id).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
    ):
        return 0
    data = compute()
    counts = {
        f"{section}/{item}": value
        for section, item, value in rows(data)
        if isinstance(value, int) and not isinstance(value, bool)
    }
    details: dict[str, Any] = {"year": data["year"], "counts": counts}
    title = f"{agency.name}{data['year']}年度行政执法数据统计"
    if "region" in data:
        details["region"] = data["region"]
        title = f"{agency.name}{data['year']}年度本行政区域行政执法数据汇总"
    body = {
        "phase": "post",
        "type": "annual_statistics",
        "title": title,
        "content": "\n".join(f"{section} {item}：{value}" for section, item, value in rows(data)),
        "details": details,
        "publish": True,
        "minor": False,
        "confidential": False,
    }
    upsert(agency, external_id, body, ACTOR)
    return 1
