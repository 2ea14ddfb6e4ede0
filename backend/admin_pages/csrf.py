"""A per-session random token that every POST form carries as ``csrf_token``.

SameSite=Lax already keeps the session cookie off cross-site POSTs; the token also covers older
browsers and same-site attackers. The login form has one too (against login CSRF): its token lives
in the anonymous session that the login page starts.
"""

from __future__ import annotations

import hmac
import secrets

from flask import session

SESSION_KEY = "csrf"
FIELD = "csrf_token"


def token() -> str:
    """The session's token, made on first use."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def rotate() -> str:
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def valid(submitted: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
