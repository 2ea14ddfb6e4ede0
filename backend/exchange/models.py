from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.complaints.models import Complaint
from backend.extensions.database import Model, UTCDateTime


class ClientKind(enum.StrEnum):
    platform = "platform"  # an upper platform: reads the changes feed
    hotline = "hotline"  # the 12345 hotline: posts work orders, hears of their progress


class ExchangeClient(Model):
    """A credential of another system for one region: an upper platform reads the changes feed, the 12345
    hotline posts work orders; each kind does only its own."""

    __tablename__ = "exchange_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16), default=ClientKind.platform)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class HotlineWorkOrder(Model):
    """A 12345 work order (工单) and the complaint it became: one per hotline client and 工单编号.

    ``body_digest`` is the canonical digest of the order as first received, so the same number sent again
    is told apart from a different order reusing it. The caller's name and phone live on the complaint, where
    handlers read them; this row keeps neither."""

    __tablename__ = "hotline_work_orders"
    __table_args__ = (UniqueConstraint("client_id", "order_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("exchange_clients.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    body_digest: Mapped[str] = mapped_column(String(64))
    # The 区域 of the order: its status changes are pushed to the hotline's subscription covering it.
    region_code: Mapped[str] = mapped_column(String(6))
    # Empty only between claiming the number and filing the complaint (the next identical call files it).
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), unique=True)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    client: Mapped[ExchangeClient] = relationship(lazy="joined", innerjoin=True)
    complaint: Mapped[Complaint | None] = relationship(lazy="joined")
