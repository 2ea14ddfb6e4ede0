"""The annual enforcement statistics (统计年报), computed from what is stored, never self-reported.

Published for each agency as an ``annual_statistics`` disclosure by 31 January (a scheduled job);
also downloadable as CSV and XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlalchemy import and_, func, select

from backend.agencies.models import Agency
from backend.cases.models import Case, CaseReview
from backend.complaints.models import Complaint
from backend.disclosures.models import LABELS, Disclosure
from backend.disclosures.publishing import upsert
from backend.extensions import db
from backend.timezone import CHINA, today

from .services import on_time_rates

ACTOR = "system:annual-report"


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1, tzinfo=CHINA), dt.datetime(year + 1, 1, 1, tzinfo=CHINA)


def _decisions_by_category(agency: Agency, year: int) -> dict[str, dict[str, Any]]:
    """The agency's decisions of the year per category: label, total and count per outcome."""
    decisions = db.session.execute(
        select(Disclosure.category, Disclosure.outcome, func.count())
        .where(
            Disclosure.agency_id == agency.id,
            Disclosure.type == "decision",
            Disclosure.decision_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
        )
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


def report(agency: Agency, year: int) -> dict[str, Any]:
    start, end = _year_bounds(year)
    by_category = _decisions_by_category(agency, year)
    (rate,) = on_time_rates(Agency.id == agency.id, dt.date(year, 1, 1), dt.date(year, 12, 31)) or [None]
    # Grouped by the raw column: PostgreSQL will not match two coalesce(..., $n) expressions.
    reviews = {
        outcome or "pending": count
        for outcome, count in db.session.execute(
            select(CaseReview.outcome, func.count())
            .join(Case, Case.id == CaseReview.case_id)
            .where(Case.agency_id == agency.id, CaseReview.submitted_at >= start, CaseReview.submitted_at < end)
            .group_by(CaseReview.outcome)
        )
    }
    complaint_rows = db.session.execute(
        select(Complaint.status, func.count(), func.avg(Complaint.rating))
        .where(Complaint.agency_id == agency.id, Complaint.created_at >= start, Complaint.created_at < end)
        .group_by(Complaint.status)
    ).all()
    ratings = db.session.scalar(
        select(func.avg(Complaint.rating)).where(
            and_(Complaint.agency_id == agency.id, Complaint.created_at >= start, Complaint.created_at < end)
        )
    )
    withdrawals = dict(
        db.session.execute(
            select(Disclosure.withdrawal_reason, func.count())
            .where(Disclosure.agency_id == agency.id, Disclosure.withdrawn_at >= start, Disclosure.withdrawn_at < end)
            .group_by(Disclosure.withdrawal_reason)
        ).all()
    )
    return {
        "agency": {"code": agency.code, "name": agency.name},
        "year": year,
        "decisions": {"total": sum(e["total"] for e in by_category.values()), "by_category": by_category},
        "on_time": {k: rate[k] for k in ("due", "on_time", "late", "pending_overdue", "on_time_rate")}
        if rate
        else {"due": 0, "on_time": 0, "late": 0, "pending_overdue": 0, "on_time_rate": None},
        "reviews": {"submitted": sum(reviews.values()), **reviews},
        "complaints": {
            "received": sum(n for _, n, _ in complaint_rows),
            "by_status": {s: n for s, n, _ in complaint_rows},
            "average_rating": round(float(ratings), 2) if ratings is not None else None,
        },
        "withdrawals": withdrawals,
    }


def rows(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report flattened to (section, item, value), the shape of the CSV and the spreadsheet."""
    out: list[tuple[str, str, Any]] = [
        ("执法主体", data["agency"]["name"], data["agency"]["code"]),
        ("年度", "", data["year"]),
        ("执法决定", "合计", data["decisions"]["total"]),
    ]
    for category in data["decisions"]["by_category"].values():
        out.append(("执法决定", category["label"], category["total"]))
        out += [("执法决定", f"{category['label']}/{outcome}", n) for outcome, n in category["outcomes"].items()]
    labels = {
        "due": "应公示",
        "on_time": "按时公示",
        "late": "逾期公示",
        "pending_overdue": "逾期未公示",
        "on_time_rate": "公示率",
    }
    out += [("公示时限", labels[k], v) for k, v in data["on_time"].items()]
    out += [("法制审核", k, v) for k, v in data["reviews"].items()]
    out += [("投诉举报", "受理", data["complaints"]["received"])]
    out += [("投诉举报", k, v) for k, v in data["complaints"]["by_status"].items()]
    out += [("投诉举报", "平均评分", data["complaints"]["average_rating"])]
    out += [("撤下", k, v) for k, v in data["withdrawals"].items()]
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
    """In January, publish last year's statistics for every agency that has not yet (by 31 January)."""
    on = on or today()
    if on.month != 1:
        return 0
    year = on.year - 1
    published = 0
    for agency in db.session.scalars(select(Agency).order_by(Agency.id)).all():
        external_id = f"annual-statistics-{year}"
        if db.session.scalar(
            select(Disclosure.id).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
        ):
            continue
        data = report(agency, year)
        counts = {
            f"{section}/{item}": value
            for section, item, value in rows(data)
            if isinstance(value, int) and not isinstance(value, bool)
        }
        body = {
            "phase": "post",
            "type": "annual_statistics",
            "title": f"{agency.name}{year}年度行政执法数据统计",
            "content": "\n".join(f"{section} {item}：{value}" for section, item, value in rows(data)),
            "details": {"year": year, "counts": counts},
            "publish": True,
            "minor": False,
            "confidential": False,
        }
        upsert(agency, external_id, body, ACTOR)
        published += 1
    return published
