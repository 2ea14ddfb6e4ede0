"""The admin password policy (等保 level 3): PASSWORD_MIN_LENGTH characters, at least three of four character
classes, not the username, none of the last HISTORY chosen, changed every PASSWORD_MAX_AGE_DAYS (0: never).

A password a reset hands out is temporary: random (and within the policy), shown once, and to be replaced at the
next sign-in (``must_change``); it is not kept in the history.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from backend.errors import Invalid
from backend.extensions import clock

from .models import AdminUser

HISTORY = 5
CLASSES_NEEDED = 3
# A username shorter than this is not looked for in the password (a one-letter name would refuse nearly all).
USERNAME_CHECKED_FROM = 3


def _classes(password: str) -> int:
    """How many of lower case, upper case, digit and anything else ``password`` uses."""
    kinds = {
        "lower" if "a" <= c <= "z" else "upper" if "A" <= c <= "Z" else "digit" if c.isdigit() else "other"
        for c in password
    }
    return len(kinds)


def _refuse(message: str, reason: str) -> Invalid:
    return Invalid(message, errors={"password": [reason]})


def check(username: str, password: str, used: list[str]) -> None:
    """Refuse (422 naming ``password``) a password the policy does not allow; ``used``: hashes it may not match."""
    least = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < least:
        raise _refuse(f"密码至少 {least} 个字符", f"at least {least} characters")
    if _classes(password) < CLASSES_NEEDED:
        raise _refuse("密码须包含大写字母、小写字母、数字和符号中的至少三类", "at least 3 of 4 character classes")
    if len(username) >= USERNAME_CHECKED_FROM and username.lower() in password.lower():
        raise _refuse("密码不能包含用户名", "contains the username")
    if any(check_password_hash(kept, password) for kept in used):
        raise _refuse(f"不能使用最近 {HISTORY} 次用过的密码", f"one of the last {HISTORY} passwords")


def set_password(user: AdminUser, password: str, *, temporary: bool = False) -> None:
    """Give ``user`` a new password, checked against the policy and the history unless ``temporary``."""
    history = list(user.password_history or [])
    if not temporary:
        check(user.username, password, [*history, *([user.password_hash] if user.password_hash else [])])
    hashed = generate_password_hash(password)
    user.password_hash = hashed
    user.password_changed_at = clock.now()
    user.must_change_password = temporary
    if not temporary:
        user.password_history = [hashed, *history][:HISTORY]


def temporary_password(username: str) -> str:
    """A random password that meets the policy too (at least 16 URL-safe characters: read out or pasted intact)."""
    length = max(16, current_app.config["PASSWORD_MIN_LENGTH"])
    while True:
        candidate = secrets.token_urlsafe(length)[:length]
        try:
            check(username, candidate, [])
        except Invalid:
            continue  # rarely: too few character classes, or the username by chance
        return candidate


def expired(user: AdminUser) -> bool:
    days = current_app.config["PASSWORD_MAX_AGE_DAYS"]
    changed = user.password_changed_at or user.created_at
    return bool(days) and clock.now() - changed > dt.timedelta(days=days)


def must_change(user: AdminUser) -> bool:
    """Whether ``user`` has to choose a new password before anything else: a temporary one, or an expired one."""
    return user.must_change_password or expired(user)
