from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions.database import Model, UTCDateTime


class BadgeScene(Model):
    """The short code a mini-program code carries for a badge.

    wxacode.getUnlimited takes at most 32 characters of ``scene``, far fewer than a badge token, so
    the code stands for the badge (agency and badge number, as the token's claims do). It never
    expires: the verification it leads to is live anyway.
    """

    __tablename__ = "wechat_badge_scenes"
    __table_args__ = (UniqueConstraint("agency_code", "badge_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    badge_no: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
