from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions.database import Model, UTCDateTime


class HolidayCalendar(Model):
    """One year's schedule as the State Council published it; loading the year again replaces it."""

    __tablename__ = "holiday_calendars"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document_no: Mapped[str] = mapped_column(String(64))  # 国办发明电〔2025〕7号
    source: Mapped[str | None] = mapped_column(String(500))  # where the notice was published
    # [{"name": "春节", "from": "2026-02-15", "to": "2026-02-23"}, ...] in the notice's order
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    makeup_workdays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates of weekend days worked (调休上班)
    digest: Mapped[str] = mapped_column(String(64))  # of the schedule's content, for the calendar's version
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
