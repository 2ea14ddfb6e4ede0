"""Loading, showing and using the holiday schedules operators load.

Every process counts deadlines on its own copy of the loaded schedules (backend.workdays). The copy
is checked against the database with one small query: always before a deadline is stored
(``sync()``), at most every few seconds before one is only shown (``sync(max_age=...)``), so a
schedule loaded through one process is used by every other before it stores a deadline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import select

from backend import workdays
from backend.audit.services import record
from backend.canonical import content_digest
from backend.errors import Invalid, NotFound
from backend.extensions import clock, db

from .models import HolidayCalendar
from .schemas import HolidayScheduleSchema

# How stale the copy may be when a deadline is only shown (a stored one is always checked first).
SHOWN_MAX_AGE = 5.0
_checked_at = float("-inf")


@dataclass(frozen=True)
class Loaded:
    calendar: HolidayCalendar
    changed: bool  # False when the same schedule was already loaded
    replaced: str | None  # the document number of the schedule it replaced, if any


def parse(text: str) -> dict[str, Any]:
    """The schedule in a file's text, validated; Invalid names every problem found."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise Invalid(
            "节假日安排文件不是有效的 JSON", errors={"file": [f"line {error.lineno} column {error.colno}: {error.msg}"]}
        ) from None
    if not isinstance(data, dict):
        raise Invalid("节假日安排文件无效", errors={"file": ["must be a JSON object"]})
    try:
        return HolidayScheduleSchema().load(data)
    except ma.ValidationError as error:
        raise Invalid("节假日安排文件无效", errors=error.normalized_messages()) from None


def load(schedule: Mapping[str, Any], *, actor: str) -> Loaded:
    """Store a parsed schedule for its year (replacing an earlier one), audited, and count on it."""
    stored = {
        "year": schedule["year"],
        "document_no": schedule["document_no"],
        "source": schedule["source"],
        "holidays": [
            {"name": h["name"], "from": h["first"].isoformat(), "to": h["last"].isoformat()}
            for h in schedule["holidays"]
        ],
        "makeup_workdays": sorted(day.isoformat() for day in schedule["makeup_workdays"]),
    }
    digest = content_digest(stored)
    calendar = db.session.get(HolidayCalendar, stored["year"])
    if calendar is not None and calendar.digest == digest:
        return Loaded(calendar, changed=False, replaced=None)
    replaced = calendar.document_no if calendar is not None else None
    if calendar is None:
        calendar = HolidayCalendar(year=stored["year"])
        db.session.add(calendar)
    calendar.document_no, calendar.source = stored["document_no"], stored["source"]
    calendar.holidays, calendar.makeup_workdays = stored["holidays"], stored["makeup_workdays"]
    calendar.digest, calendar.loaded_at = digest, clock.now()
    record(
        actor,
        "calendar.load",
        "holiday_calendar",
        calendar.year,
        document_no=calendar.document_no,
        source=calendar.source,
        digest=digest,
        replaced=replaced,
    )
    db.session.commit()
    sync()
    return Loaded(calendar, changed=True, replaced=replaced)


def get(year: int) -> HolidayCalendar:
    calendar = db.session.get(HolidayCalendar, year)
    if calendar is None:
        raise NotFound(f"未加载 {year} 年节假日安排", errors={"year": [f"no schedule loaded for {year}"]})
    return calendar


def loaded() -> list[HolidayCalendar]:
    return list(db.session.scalars(select(HolidayCalendar).order_by(HolidayCalendar.year)))


def year_schedule(calendar: HolidayCalendar) -> workdays.YearSchedule:
    days: dict[dt.date, str] = {}
    for holiday in calendar.holidays:
        day, last = dt.date.fromisoformat(holiday["from"]), dt.date.fromisoformat(holiday["to"])
        while day <= last:
            days[day] = holiday["name"]
            day += dt.timedelta(days=1)
    makeup = frozenset(dt.date.fromisoformat(day) for day in calendar.makeup_workdays)
    return workdays.YearSchedule(calendar.year, days, makeup)


def sync(max_age: float = 0.0) -> None:
    """Make this process count on the schedules the database holds now; with max_age, skip the check
    when the last one is more recent than that many seconds (for deadlines only shown, not stored)."""
    global _checked_at
    now = time.monotonic()
    if max_age and now - _checked_at < max_age:
        return
    versions = db.session.execute(select(HolidayCalendar.year, HolidayCalendar.digest).order_by(HolidayCalendar.year))
    version = _version(versions.all())
    if version != workdays.loaded_version():
        workdays.use_loaded_schedules(map(year_schedule, loaded()), version)
    _checked_at = now


def _version(rows: list[Any]) -> str:
    if not rows:
        return ""
    return hashlib.sha256(";".join(f"{year}:{digest}" for year, digest in rows).encode()).hexdigest()[:16]
