from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backend.agencies.models import Agency
from backend.divisions import region_ancestors
from backend.extensions.database import Model, UTCDateTime
from backend.search.indexing import Searchable
from search_index.mappings import OFFICERS


class CredentialStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"  # 暂扣: changed post, under investigation, disciplined
    revoked = "revoked"  # 注销: left, retired, dismissed


# 执法证号: what a badge number may be made of.
BADGE_NO = re.compile(r"[0-9A-Za-z-]{4,32}")
CREDENTIAL_LABELS = {"active": "有效", "suspended": "暂扣", "revoked": "注销"}


class OfficerPhoto(Model):
    """Photos are stored once per content (addressed by sha256)."""

    __tablename__ = "officer_photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Officer(Searchable, Model):
    __tablename__ = "officers"
    __search__ = OFFICERS
    __table_args__ = (UniqueConstraint("agency_id", "badge_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # Indexed on its own too: complaints and the WeChat chat look officers up by badge number alone.
    badge_no: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(50))
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    exam_date: Mapped[dt.date | None] = mapped_column(Date)
    photo_sha256: Mapped[str | None] = mapped_column(ForeignKey("officer_photos.sha256"))
    status: Mapped[str] = mapped_column(String(16), default=CredentialStatus.active)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Set by every change; indexed for the workers that poll for changes (changes.py).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def search_id(self) -> str:
        return f"{self.agency.code}/{self.badge_no}"

    def search_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "badge_no": self.badge_no,
            "domains": " ".join(self.domains),
            "agency_name": self.agency.name,
            "agency": self.agency.code,
            "status": self.status,
            "domain": list(self.domains),
            "region": sorted(
                {code for region in self.regions or [self.agency.region_code] for code in region_ancestors(region)}
            ),
        }

    @classmethod
    def load_for_search(cls, session: Session, ids: list[str]) -> dict[str, Officer]:
        pairs = [tuple(doc_id.split("/", 1)) for doc_id in ids]
        badges = {badge for _, badge in pairs}
        rows = session.scalars(select(cls).join(cls.agency).where(cls.badge_no.in_(badges)))
        wanted = set(ids)
        return {o.search_id: o for o in rows if o.search_id in wanted}

    @classmethod
    def select_for_search(cls) -> Select[tuple[Officer]]:
        return select(cls).order_by(cls.id)


class OfficerStatusChange(Model):
    """A credential's status from ``at`` on: what the status was when a case record was made is read here
    (written by set_status; an officer with no row before a moment was active then, as credentials start)."""

    __tablename__ = "officer_status_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))


class BadgeScan(Model):
    """One verification, for supervision. Nothing here identifies the citizen who scanned."""

    __tablename__ = "badge_scans"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    token_kind: Mapped[str] = mapped_column(String(16))
    agency_code: Mapped[str | None] = mapped_column(String(40), index=True)
    badge_no: Mapped[str | None] = mapped_column(String(32))
