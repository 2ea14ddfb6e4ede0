"""Admin page sessions kept on the server, so the security administrator can list and end them.

The signed cookie holds a random id; the table holds its sha256 (a copy of the table signs no one in) with the
user, when it started and was last used, from where and with what browser. Every request checks the row:
ended (logout, revoked, the account disabled or its password reset), idle for ADMIN_IDLE_SECONDS, or older than
ADMIN_SESSION_SECONDS, however active. Both limits are read from the clock port.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select

from backend.audit.services import record
from backend.errors import NotFound
from backend.extensions import clock, db

from .models import AdminSession, AdminUser

IDLE, EXPIRED, DISABLED = "idle", "expired", "disabled"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _limits() -> tuple[dt.timedelta, dt.timedelta]:
    config = current_app.config
    return dt.timedelta(seconds=config["ADMIN_IDLE_SECONDS"]), dt.timedelta(seconds=config["ADMIN_SESSION_SECONDS"])


def start(user: AdminUser, address: str | None, user_agent: str | None) -> str:
    """A new session for ``user``; the random id for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        AdminSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=address,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    db.session.commit()
    return token


def resume(token: str) -> tuple[AdminSession | None, str | None]:
    """The live session ``token`` names, its last use moved to now; or None and why it is over."""
    row = db.session.scalar(select(AdminSession).where(AdminSession.token_hash == _digest(token)))
    if row is None:
        return None, "unknown"
    if row.ended_at is not None:
        return None, row.end_reason
    now = clock.now()
    idle, longest = _limits()
    why = (
        IDLE
        if now - row.last_seen_at > idle
        else EXPIRED
        if now - row.created_at > longest
        else DISABLED
        if row.user.disabled_at is not None
        else None
    )
    if why:
        _end(row, why, now)
    else:
        row.last_seen_at = now
    db.session.commit()
    return (None, why) if why else (row, None)


def _end(row: AdminSession, why: str, now: dt.datetime) -> None:
    row.ended_at, row.end_reason = now, why


def end(token: str, why: str) -> None:
    """End the session ``token`` names (a logout); commits."""
    row = db.session.scalar(select(AdminSession).where(AdminSession.token_hash == _digest(token)))
    if row is not None and row.ended_at is None:
        _end(row, why, clock.now())
        db.session.commit()


def end_all(user: AdminUser, why: str, *, keep: str | None = None) -> int:
    """End every live session of ``user`` but ``keep`` (a token), in the caller's transaction; how many ended."""
    now, kept = clock.now(), _digest(keep) if keep else None
    rows = db.session.scalars(
        select(AdminSession).where(AdminSession.user_id == user.id, AdminSession.ended_at.is_(None))
    ).all()
    ended = [row for row in rows if row.token_hash != kept]
    for row in ended:
        _end(row, why, now)
    return len(ended)


def live() -> list[AdminSession]:
    """Every session not ended and within both limits, the most recently used first."""
    now = clock.now()
    idle, longest = _limits()
    rows = db.session.scalars(
        select(AdminSession)
        .where(
            AdminSession.ended_at.is_(None),
            AdminSession.last_seen_at >= now - idle,
            AdminSession.created_at >= now - longest,
        )
        .order_by(AdminSession.last_seen_at.desc(), AdminSession.id.desc())
    ).all()
    return [row for row in rows if row.user.disabled_at is None]


def revoke(session_id: int, *, actor: str, ip: str | None = None) -> AdminSession:
    """End one session (the security administrator's doing); audited."""
    row = db.session.get(AdminSession, session_id)
    if row is None or row.ended_at is not None:
        raise NotFound("会话不存在或已结束", errors={"session": ["unknown or ended"]})
    _end(row, "revoked", clock.now())
    record(actor, "admin.session_revoked", "admin_session", row.id, ip=ip, user=row.user.username)
    db.session.commit()
    return row


def revoke_all(username: str, *, actor: str, ip: str | None = None) -> int:
    """End every session of ``username``; audited with how many ended."""
    user = db.session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise NotFound("用户不存在", errors={"username": ["unknown user"]})
    count = end_all(user, "revoked")
    record(actor, "admin.sessions_revoked", "admin_user", username, ip=ip, count=count)
    db.session.commit()
    return count
