from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.agencies.models import Agency
from backend.extensions.database import Model, UTCDateTime


class AgencyClient(Model):
    """A credential for one agency's case system: ``client_id`` plus a secret kept only as a hash."""

    __tablename__ = "agency_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined")


class AdminRole(enum.StrEnum):
    handler = "handler"  # works complaints of one agency
    supervisor = "supervisor"  # oversees a region (司法行政部门)
    admin = "admin"  # runs the platform
    reviewer = "reviewer"  # 法制审核人员: gives legal-review opinions for one agency, or lent by a 司法局
    observer = "observer"  # 监督员 (seed 004): reads and scores the evaluation cases assigned to them, nothing else
    publisher = "publisher"  # 信息发布员: publishes one agency's disclosures through the web form (no case system)
    auditor = "auditor"  # 审计管理员: reads and exports the audit trail, nothing else
    security = "security"  # 安全管理员: admin sessions, second factors, the security settings in force


class AdminUser(Model):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[AdminRole] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    # A reviewer's badge: with the agency, it names the filed (备案) reviewer the person answers as.
    badge_no: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The second factor (accounts.totp): the seed sealed (backend.sealed), set when enrolment starts and
    # confirmed by a first good code; the last time step a code was accepted for (none is accepted twice);
    # sha256 of each unused recovery code.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)
    # The password's life (accounts.passwords): when it was set (expiry counts from here), whether it is a
    # temporary one given by a reset (changed at the next sign-in), and the hashes of the last ones chosen.
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    password_history: Mapped[list[str] | None] = mapped_column(JSON)

    agency: Mapped[Agency | None] = relationship(lazy="joined")


class AdminSession(Model):
    """A signed-in admin page session (accounts.sessions): the cookie carries a random id, the table its hash,
    so every session can be listed and ended on the server."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    # logout, idle, expired, revoked, disabled, password_reset, password_changed
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[AdminUser] = relationship(lazy="joined")
