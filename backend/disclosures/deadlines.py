"""The statutory clock for post-phase items (事后公开).

Decisions are published within 7 working days of the decision date for licensing and penalty,
20 for every other category; annual statistics by 31 January of the next year, a 司法行政部门's roll-up of
its region's statistics by 15 January (seed 002: agencies report their data to it by 15 January).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend import workdays

WORKING_DAYS = {"licensing": 7, "penalty": 7}
DEFAULT_WORKING_DAYS = 20


@dataclass(frozen=True)
class Clock:
    deadline: dt.date
    provisional: bool
    explanation: str
    working_days: workdays.Deadline | None = None


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


def decision_clock(category: str | None, decided_on: dt.date) -> Clock:
    """The deadline of a decision of ``category`` made on ``decided_on`` (also a case's, from its decision record)."""
    return _counted_clock(decided_on, WORKING_DAYS.get(category or "", DEFAULT_WORKING_DAYS))


def regional_report_due(year: int) -> dt.date:
    """When a year's data is due at the 司法行政部门 from each agency, and its regional roll-up is due."""
    return dt.date(year + 1, 1, 15)


# Clocks already counted on official calendar data, keyed by the calendar's version (the years the
# package covers and the schedules operators loaded): a provisional one is never kept (it changes when
# its year's data arrives). A bulk shares few dates.
_COUNTED: dict[tuple[dt.date, int, tuple[int, int, str]], Clock] = {}
_COUNTED_MAX = 4096


def _counted_clock(start: dt.date, working_days: int) -> Clock:
    version = workdays.calendar_version()
    key = (start, working_days, version)
    clock = _COUNTED.get(key)
    if clock is None:
        counted = workdays.add_working_days(start, working_days)
        clock = Clock(counted.due, counted.provisional, counted.explain(), counted)
        if not counted.provisional:
            if next(iter(_COUNTED), key)[2] != version:
                _COUNTED.clear()  # counted on an earlier calendar: never asked for again
            if len(_COUNTED) < _COUNTED_MAX:
                _COUNTED[key] = clock
    return clock
