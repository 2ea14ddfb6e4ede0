from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.complaints.models import Complaint
from backend.extensions.database import Model, UTCDateTime
from backend.transparency.models import BIG


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


class PushState(enum.StrEnum):
    active = "active"
    # A delivery failed for the whole retry window: nothing more is sent until an admin resumes it.
    parked = "parked"


class PushSubscription(Model):
    """Where an exchange client wants its region's events pushed, signed with a secret only it and we hold.

    ``log_cursor`` is how far the delivery job has turned the transparency log into deliveries for it;
    ``next_sequence`` numbers its deliveries in the order their transactions commit (taking one locks the row)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("exchange_clients.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Fernet token of the signing secret (push.seal): we must sign with it, so it cannot be a hash.
    secret_sealed: Mapped[str] = mapped_column(String(400))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    log_cursor: Mapped[int] = mapped_column(BIG, default=0)
    next_sequence: Mapped[int] = mapped_column(BIG, default=1)
    state: Mapped[str] = mapped_column(String(10), default=PushState.active)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    parked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[ExchangeClient] = relationship()
    # The delivery that failed for the whole retry window (what a resume sends first); at most one, as
    # nothing after it is sent while it waits.
    parked_delivery: Mapped[PushDelivery | None] = relationship(
        primaryjoin="and_(PushDelivery.subscription_id == PushSubscription.id, PushDelivery.parked_at.is_not(None),"
        " PushDelivery.delivered_at.is_(None))",
        viewonly=True,
        uselist=False,
    )


class PushDelivery(Model):
    """The outbox: one event owed to one subscription, sent in ``sequence`` order, retried under the same
    ``event_id`` until a 2xx answer (receivers dedupe by it) or the retry window ends (parked)."""

    __tablename__ = "push_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("push_subscriptions.id"))
    sequence: Mapped[int] = mapped_column(BIG)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    parked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))

    subscription: Mapped[PushSubscription] = relationship()
