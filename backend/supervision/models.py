"""Counters and indexes the supervision figures read, so they do not scan every disclosure.

公示率 counts post-phase items by agency, decision date, deadline and state. A database trigger
(created by migration 0009) adds a row to ``disclosure_count_deltas`` for every insert,
update or delete of a disclosure that changes one of those: +1 for the new state, -1 for the old one.
Writers only ever insert deltas, so they never wait for each other on a counter row; the scheduler
folds the deltas into ``disclosure_counts`` (``counts.compact``), and a reader sums both tables in
one statement, which sees a consistent snapshot whether or not a fold happened in between.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.agencies.models import Agency
from backend.cases.models import CASE_CATEGORIES
from backend.disclosures.models import Disclosure
from backend.extensions.database import Model, UTCDateTime


class DisclosureCount(Model):
    """How many post-phase items (with a deadline and a decision date) are in each state."""

    __tablename__ = "disclosure_counts"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    decision_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    publish_deadline: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    published_late: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    # published_at is set: the item went public (it may have been withdrawn or expired since).
    published: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DisclosureCountDelta(Model):
    """A change to DisclosureCount not yet folded in (written by the trigger only). No foreign key:
    a delta must never make a disclosure write fail or wait."""

    __tablename__ = "disclosure_count_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer)
    decision_date: Mapped[dt.date] = mapped_column(Date)
    publish_deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    published_late: Mapped[bool] = mapped_column(Boolean)
    published: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)


# The summary's lists: overdue items (few, in deadline order) and withdrawals in a period.
OVERDUE = "published_late IS true OR status = 'pending'"
Index(
    "ix_disclosures_overdue",
    Disclosure.publish_deadline,
    postgresql_where=text(OVERDUE),
    sqlite_where=text(OVERDUE),
)
Index(
    "ix_disclosures_withdrawn_at",
    Disclosure.withdrawn_at,
    postgresql_where=text("withdrawn_at IS NOT NULL"),
    sqlite_where=text("withdrawn_at IS NOT NULL"),
)
# Decisions published without their case by agencies that report cases: counted per agency from the day each
# began reporting, a range of this small index rather than a scan of every decision.
WITHOUT_CASE = "type = 'decision' AND case_no IS NULL AND category IN ({})".format(
    ", ".join(f"'{category}'" for category in sorted(CASE_CATEGORIES))
)
Index(
    "ix_disclosures_decisions_without_case",
    Disclosure.agency_id,
    Disclosure.published_at,
    postgresql_where=text(WITHOUT_CASE),
    sqlite_where=text(WITHOUT_CASE),
)
# A case's decisions: to list cases made major after one of them was published, and for 公示率 over
# decided cases (each case's decision disclosure by agency and case number).
Index(
    "ix_disclosures_agency_case_no",
    Disclosure.agency_id,
    Disclosure.case_no,
    postgresql_where=text("case_no IS NOT NULL"),
    sqlite_where=text("case_no IS NOT NULL"),
)


class NegativeListEntry(Model):
    """A matter's stay on the 负面清单: when it went on, the figures that put it there, when it left and its
    figures then. Entries are never deleted: the list's history is the record of what supervision saw."""

    __tablename__ = "negative_list_entries"
    __table_args__ = (
        # One open entry per matter, whoever recomputes the list.
        Index(
            "uq_negative_list_entries_open",
            "agency_id",
            "matter_key",
            unique=True,
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The matter's 事项编码 where its cases or decisions give one, else its name (see negative_list.matter_of).
    matter_key: Mapped[str] = mapped_column(String(200))
    matter_name: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # The window's figures and which thresholds they reached ("crossed").
    entered_figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    left_figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
