"""The statutory clock of a decision (seed 002: 事后公开): its disclosure is due 7 working days after the
decision for licensing and penalty, 20 for every other category, counted on the official calendar.

Shared by the disclosures (an item's deadline from its decision date) and the cases (the deadline a decided
case's disclosure is expected by, from its decision record), so it sits below both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backend import workdays

WORKING_DAYS = {"licensing": 7, "penalty": 7}
DEFAULT_WORKING_DAYS = 20


@dataclass(frozen=True)
class Clock:
    deadline: dt.date
    provisional: bool
    explanation: str
    working_days: workdays.Deadline | None = None


def decision_clock(category: str | None, decided_on: dt.date) -> Clock:
    """The deadline of a decision of ``category`` made on ``decided_on``."""
    return _counted_clock(decided_on, WORKING_DAYS.get(category or "", DEFAULT_WORKING_DAYS))


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
