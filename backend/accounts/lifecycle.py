"""An admin account's life, in the system administrator's hands (三员分立): disable, enable, reset the password
(a temporary one, changed at the next sign-in); and each user's own change of password. Every step is audited,
and disabling an account or resetting its password ends its sessions at once."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from backend.audit.services import record
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import clock, db

from . import passwords, sessions
from .models import AdminUser


def accounts() -> list[AdminUser]:
    return list(db.session.scalars(select(AdminUser).order_by(AdminUser.role, AdminUser.username)))


def find(username: str) -> AdminUser:
    user = db.session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise NotFound("用户不存在", errors={"username": ["unknown user"]})
    return user


def _not_oneself(user: AdminUser, actor: str, what: str) -> None:
    # A system administrator locking themselves out would leave the accounts with no one to manage them.
    if actor == f"admin:{user.username}":
        raise Conflict(f"不能{what}自己的账户", errors={"username": [f"cannot {what} oneself"]})


def disable(username: str, *, actor: str, ip: str | None = None) -> AdminUser:
    user = find(username)
    _not_oneself(user, actor, "停用")
    if user.disabled_at is None:
        user.disabled_at = clock.now()
        ended = sessions.end_all(user, sessions.DISABLED)
        record(actor, "admin.disable", "admin_user", username, ip=ip, sessions_ended=ended)
        db.session.commit()
    return user


def enable(username: str, *, actor: str, ip: str | None = None) -> AdminUser:
    user = find(username)
    if user.disabled_at is not None:
        user.disabled_at = None
        record(actor, "admin.enable", "admin_user", username, ip=ip)
        db.session.commit()
    return user


def reset_password(username: str, *, actor: str, ip: str | None = None) -> str:
    """A temporary password for ``username``, to be shown once; their sessions end and they choose a new one at
    their next sign-in."""
    user = find(username)
    _not_oneself(user, actor, "重置")
    temporary = passwords.temporary_password(username)
    passwords.set_password(user, temporary, temporary=True)
    ended = sessions.end_all(user, "password_reset")
    record(actor, "admin.password_reset", "admin_user", username, ip=ip, sessions_ended=ended)
    db.session.commit()
    return temporary


def change_password(
    user: AdminUser, current: str, new: str, *, ip: str | None = None, keep_session: str | None = None
) -> None:
    """The user's own change: the current password, then a new one the policy allows; their other sessions end."""
    if not check_password_hash(user.password_hash, current):
        raise Invalid("当前密码不正确", errors={"current_password": ["wrong password"]})
    passwords.set_password(user, new)
    ended = sessions.end_all(user, "password_changed", keep=keep_session)
    record(f"admin:{user.username}", "admin.password_changed", "admin_user", user.username, ip=ip, sessions_ended=ended)
    db.session.commit()
