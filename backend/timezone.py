"""Statutory dates are dates in China: "today" is Beijing time, whatever the server's zone."""

import datetime as dt
from zoneinfo import ZoneInfo

from backend.extensions import clock

CHINA = ZoneInfo("Asia/Shanghai")


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def today() -> dt.date:
    return china_date(clock.now())
