"""Who is logged in: the user id in Flask's signed cookie session, with two clocks on it.

A cookie session cannot be revoked on the server, so its life is bounded in the session itself:
``login_at`` (PERMANENT_SESSION_LIFETIME, 8 hours, however active) and ``seen`` (ADMIN_IDLE_SECONDS,
30 minutes without a request). Both are read from the clock port, so tests can move time. The
user is reloaded on every request: a disabled account is out at its next click.

Between a right password and the second factor (accounts.totp) the session holds only ``pending`` (the
user id) for SECOND_FACTOR_SECONDS: enough to enter a code or enrol, nothing else.
"""

from __future__ import annotations

from flask import current_app, flash, session
from flask.sessions import SecureCookieSessionInterface

from backend.accounts.models import AdminUser
from backend.extensions import clock, db

from . import csrf

USER_ID, LOGIN_AT, SEEN = "uid", "login_at", "seen"
PENDING, PENDING_AT, PENDING_NEXT = "pending_uid", "pending_at", "pending_next"
# How long a right password waits for its second factor.
SECOND_FACTOR_SECONDS = 300


def _now() -> int:
    return int(clock.now().timestamp())


def log_in(user: AdminUser) -> None:
    """A fresh session (nothing from before the login survives) with a fresh CSRF token."""
    session.clear()
    session.permanent = True
    now = _now()
    session.update({USER_ID: user.id, LOGIN_AT: now, SEEN: now})
    csrf.rotate()


def end_session() -> None:
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
        end_session()
        flash("验证已超时，请重新登录", "error")
        return None
    user = db.session.get(AdminUser, user_id)
    if user is None or user.disabled_at is not None:
        end_session()
        return None
    return user, session.get(PENDING_NEXT)


def logged_in_user() -> AdminUser | None:
    """The session's user if still enabled and within both time limits; otherwise the session ends."""
    user_id = session.get(USER_ID)
    if user_id is None:
        return None
    config, now = current_app.config, _now()
    if (
        now - session.get(SEEN, 0) > config["ADMIN_IDLE_SECONDS"]
        or now - session.get(LOGIN_AT, 0) > current_app.permanent_session_lifetime.total_seconds()
    ):
        end_session()
        flash("登录已超时，请重新登录", "error")
        return None
    user = db.session.get(AdminUser, user_id)
    if user is None or user.disabled_at is not None:
        end_session()
        flash("账户已停用", "error")
        return None
    session[SEEN] = now
    return user


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, but a request without a cookie (every public, API and chat request:
    the cookie's path is /admin) gets its empty session without building a signer first. Flask builds one
    on every request, a fifth of what answering /healthz costs."""

    def open_session(self, app, request):
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)
