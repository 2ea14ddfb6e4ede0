"""China's time, whatever the server's zone.

Statutory dates are dates in China ("today" is Beijing time), and every date or time a person reads
(pages, chat replies, API fields meant for display) is Beijing's: ``beijing()`` here, the ``beijing``
Jinja filter on pages. Instants in the API are ISO 8601 with Beijing's +08:00 offset
(``BeijingDateTime``); only what is signed or hashed in the UTC form it was committed in
(the transparency log, case records) stays UTC.
"""

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

import marshmallow as ma

from backend.extensions import clock

CHINA = ZoneInfo("Asia/Shanghai")

_FORMATS = {"date": "%Y-%m-%d", "minute": "%Y-%m-%d %H:%M", "second": "%Y-%m-%d %H:%M:%S"}


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def today() -> dt.date:
    return china_date(clock.now())


def beijing(moment: dt.datetime | str | None, precision: Literal["date", "minute", "second"] = "minute") -> str:
    """An instant as a person in China reads it: ``2026-12-06 07:01`` in Beijing time, "" for none.

    An ISO 8601 string (as a 410 notice carries it) is read with its own offset."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.astimezone(CHINA).strftime(_FORMATS[precision])


def chinese_date(day: dt.date) -> str:
    """A date as a citizen reads it on a notice: ``2025年10月23日`` (``{{ day | chinese_date }}`` on pages)."""
    return f"{day.year}年{day.month}月{day.day}日"


class BeijingDateTime(ma.fields.DateTime):
    """An instant in the API: ISO 8601 with the +08:00 offset, so its date and hour are Beijing's."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(value.astimezone(CHINA) if value is not None else None, attr, obj, **kwargs)
