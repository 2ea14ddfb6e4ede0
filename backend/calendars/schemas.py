"""The file an operator loads: one year's schedule, as the State Council's notice gives it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from backend.extensions.smorest import Schema

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HolidaySchema(Schema):
    """One holiday of the notice: a name and the days off it gives (放假调休), weekends inside included."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    first = ma.fields.Date(required=True, data_key="from")
    last = ma.fields.Date(required=True, data_key="to")

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["first"] > data["last"]:
            raise ma.ValidationError(f"ends ({data['last']}) before it begins ({data['first']})", "to")

    @ma.validates("name")
    def _named(self, value: str, **kwargs: Any) -> None:
        if not value.strip():
            raise ma.ValidationError("a holiday needs its name (元旦, 春节, ...)")


class HolidayScheduleSchema(Schema):
    """Every day of the year is classified once: a holiday, a make-up working day, or (neither) an
    ordinary day, working Monday to Friday and resting at the weekend."""

    year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=2000, max=2100))
    document_no = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    source = ma.fields.Url(load_default=None, validate=ma.validate.Length(max=500))
    holidays = ma.fields.List(ma.fields.Nested(HolidaySchema), required=True, validate=ma.validate.Length(min=1))
    makeup_workdays = ma.fields.List(ma.fields.Date(), load_default=list)

    @ma.validates_schema
    def _each_day_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        year = data["year"]
        errors: dict[str, list[str]] = {}
        named: dict[dt.date, str] = {}
        for holiday in data["holidays"]:
            day = holiday["first"]
            while day <= holiday["last"]:
                if day.year != year:
                    errors.setdefault("holidays", []).append(f"{day} ({holiday['name']}) is not in {year}")
                elif day in named:
                    errors.setdefault("holidays", []).append(
                        f"{day} is listed twice: in {named[day]} and in {holiday['name']}"
                    )
                named[day] = holiday["name"]
                day += dt.timedelta(days=1)
        seen: set[dt.date] = set()
        for day in data["makeup_workdays"]:
            problems = errors.setdefault("makeup_workdays", [])
            if day.year != year:
                problems.append(f"{day} is not in {year}")
            if day in seen:
                problems.append(f"{day} is listed twice")
            if day in named:
                problems.append(f"{day} is both a holiday ({named[day]}) and a make-up working day")
            if day.weekday() < 5:
                problems.append(f"{day} is a {_WEEKDAYS[day.weekday()]}: make-up working days fall on weekends")
            seen.add(day)
        errors = {field: problems for field, problems in errors.items() if problems}
        if errors:
            raise ma.ValidationError(errors)
