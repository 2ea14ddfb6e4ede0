"""Who is logged in: a random session id in Flask's signed cookie, naming a row of admin_sessions
(accounts.sessions), checked on every request.

The row bounds the session's life on the server: ADMIN_SESSION_SECONDS (8 hours, however active) and
ADMIN_IDLE_SECONDS (30 minutes without a request), read from the clock port so tests can move time, and the
security administrator can end it. The user is reloaded on every request: a disabled account is out at its next
click.

Between a right password and the second factor (accounts.totp) the session holds only ``pending`` (the
user id) for SECOND_FACTOR_SECONDS: enough to enter a code or enrol, nothing else.
"""

from __future__ import annotations

from flask import flash, request, session
from flask.sessions import SecureCookieSessionInterface

from backend.accounts import sessions
from backend.accounts.models import AdminUser
from backend.extensions import clock, db

from . import csrf

SESSION_ID = "sid"
PENDING, PENDING_AT, PENDING_NEXT = "pending_uid", "pending_at", "pending_next"
# How long a right password waits for its second factor.
SECOND_FACTOR_SECONDS = 300
# What the login page says when a session is found over, by why.
ENDED = {
    sessions.IDLE: "登录已超时，请重新登录",
    sessions.EXPIRED: "登录已超时，请重新登录",
    sessions.DISABLED: "账户已停用",
    "revoked": "会话已被安全管理员终止，请重新登录",
    "password_reset": "密码已被系统管理员重置，请使用临时密码登录",
    "password_changed": "密码已修改，请重新登录",
}


def _now() -> int:
    return int(clock.now().timestamp())


def log_in(user: AdminUser) -> None:
    """A fresh session (nothing from before the login survives) with a fresh CSRF token."""
    session.clear()
    session.permanent = True
    session[SESSION_ID] = sessions.start(user, request.remote_addr, request.user_agent.string)
    csrf.rotate()


def session_id() -> str | None:
    return session.get(SESSION_ID)


def end_session() -> None:
    token = session.get(SESSION_ID)
    if token:
        sessions.end(token, "logout")
    session.clear()


def await_second_factor(user: AdminUser, wanted: str | None) -> None:
    """The password was right: a fresh session that holds only who is to give a code, and where they were going."""
    session.clear()
    session.update({PENDING: user.id, PENDING_AT: _now(), PENDING_NEXT: wanted})
    csrf.rotate()


def awaiting_second_factor() -> tuple[AdminUser, str | None] | None:
    """The enabled user whose password was right within SECOND_FACTOR_SECONDS, and their destination."""
    user_id = session.get(PENDING)
    if user_id is None:
        return None
    if _now() - session.get(PENDING_AT, 0) > SECOND_FACTOR_SECONDS:
        session.clear()
        flash("验证已超时，请重新登录", "error")
        return None
    user = db.session.get(AdminUser, user_id)
    if user is None or user.disabled_at is not None:
        session.clear()
        return None
    return user, session.get(PENDING_NEXT)


def logged_in_user() -> AdminUser | None:
    """The session's user if the session is live and the account enabled; otherwise the cookie is cleared."""
    token = session.get(SESSION_ID)
    if token is None:
        return None
    row, why = sessions.resume(token)
    if row is None:
        session.clear()
        if why in ENDED:
            flash(ENDED[why], "error")
        return None
    return row.user


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, but a request without a cookie (every public, API and chat request:
    the cookie's path is /admin) gets its empty session without building a signer first. Flask builds one
    on every request, a fifth of what answering /healthz costs."""

    def open_session(self, app, request):
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)
