"""The statutory clock for post-phase items (事后公开).

Decisions and inspection results: ``backend.deadlines`` (7 working days for licensing and penalty, 20 for the
others); annual statistics by 31 January of the next year, a 司法行政部门's roll-up of its region's statistics by
15 January (seed 002: agencies report their data to it by 15 January).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.deadlines import Clock, decision_clock


def statutory_clock(item: Any) -> Clock | None:
    """The deadline of an item (anything with type, category, decision_date, details), or None."""
    if item.type == "annual_statistics":
        year = int(item.details["year"])
        if item.details.get("region"):
            due = regional_report_due(year)
            return Clock(due, False, f"{year} 年度本行政区域统计数据须于 {due.year}年1月15日前汇总公开。")
        due = dt.date(year + 1, 1, 31)
        return Clock(due, False, f"{year} 年度统计数据须于 {due.year}年1月31日前公开。")
    if item.type in ("decision", "inspection_result") and item.decision_date:
        return decision_clock(item.category, item.decision_date)
    return None


def regional_report_due(year: int) -> dt.date:
    """When a year's data is due at the 司法行政部门 from each agency, and its regional roll-up is due."""
    return dt.date(year + 1, 1, 15)
