"""The second factor of admin sign-in (等保 level 3 asks for two): TOTP codes (RFC 6238, through pyotp) from an
authenticator app, or one of ten single-use recovery codes.

Enrolment makes a seed (kept sealed, backend.sealed) and is confirmed by a first good code; only then does the
account need a code to sign in, and it gets its recovery codes, shown once and kept as hashes. A code is good
for its 30-second step and the one on either side (phones drift), and never twice: the last step used is kept,
so a code seen over a shoulder or in a proxy log is spent. Wrong codes are slowed down like wrong passwords
(accounts.throttle). With ADMIN_TOTP_REQUIRED (on when APP_ENV=production) every admin account needs a second
factor: one without gets only as far as enrolling.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select

from backend import sealed
from backend.audit.services import record
from backend.errors import Forbidden, Invalid, Unauthorized
from backend.extensions import clock, db

from . import passwords
from .models import AdminUser
from .services import ADMIN_AUDIENCE, IssuedToken, authenticate_admin, begin_attempt, sign_token

ISSUER = "行政执法三项制度平台"
PURPOSE = b"admin-totp-v1"
RECOVERY_CODES = 10
# Steps either side of now a code may come from: a phone's clock a little off still signs in.
DRIFT_STEPS = 1


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app that cannot scan
    uri: str  # otpauth://totp/…, the QR's content


def required() -> bool:
    return bool(current_app.config["ADMIN_TOTP_REQUIRED"])


def enrolled(user: AdminUser) -> bool:
    return user.totp_confirmed_at is not None


def needs_code(user: AdminUser) -> bool:
    """Whether signing in as ``user`` takes a second factor now (enrolled), or first an enrolment (required)."""
    return enrolled(user) or required()


def admin_token(username: str, password: str, address: str | None, otp: str | None) -> IssuedToken:
    """A bearer token for the admin API: the password, and the current code when the account has a second
    factor (or ADMIN_TOTP_REQUIRED), as at the admin page's sign-in."""
    user = authenticate_admin(username, password, address)
    if needs_code(user):
        verify(user, otp, address)
    if passwords.must_change(user):
        # A temporary or expired password opens the password page only, not the API.
        raise Forbidden("请先在管理端修改密码", errors={"password": ["must be changed in the admin page first"]})
    return sign_token({"aud": ADMIN_AUDIENCE, "sub": user.username, "role": user.role})


def start_enrolment(user: AdminUser) -> Enrolment:
    """The seed an authenticator app is to be given: the pending one if enrolment already started (a reload
    shows the same QR), otherwise a new one. An enrolled account starts over only through ``reset``."""
    if enrolled(user):
        raise Invalid("已启用两步验证", errors={"otp": ["already enrolled; an administrator can reset it"]})
    secret = _seed(user)
    if not secret:  # none yet, or sealed under a SECRET_KEY since replaced: a new one
        secret = pyotp.random_base32()
        user.totp_secret = sealed.seal(secret, PURPOSE)
        db.session.commit()
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER))


def confirm_enrolment(user: AdminUser, code: str, address: str | None) -> list[str]:
    """Confirm with the app's first code; the recovery codes, to be shown this once."""
    if enrolled(user) or user.totp_secret is None:
        raise Invalid("请先开始启用两步验证", errors={"otp": ["no enrolment in progress"]})
    attempt = begin_attempt(f"otp:{user.username}", address)
    step = _matching_step(_seed(user), code)
    if step is None:
        attempt.failed()
        raise Invalid("验证码不正确，请核对手机时间后重试", errors={"otp": ["wrong code"]})
    attempt.succeeded()
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    user.totp_confirmed_at = clock.now()
    user.totp_last_step = step
    user.totp_recovery = [_digest(code) for code in codes]
    record(f"admin:{user.username}", "admin.otp_enrolled", "admin_user", user.username, ip=address)
    db.session.commit()
    return codes


def verify(user: AdminUser, code: str | None, address: str | None) -> None:
    """Accept a current code, or spend a recovery code; anything else is refused (401 naming ``otp``)."""
    if not enrolled(user):
        raise Unauthorized(
            "请先在管理端启用两步验证", errors={"otp": ["enrol a second factor in the admin page first"]}
        )
    attempt = begin_attempt(f"otp:{user.username}", address)
    code = (code or "").strip()
    step = _matching_step(_seed(user), code)
    if step is not None and step > (user.totp_last_step or -1):
        user.totp_last_step = step
        how = "totp"
    elif _digest(code) in (user.totp_recovery or []):
        user.totp_recovery = [kept for kept in user.totp_recovery or [] if kept != _digest(code)]
        how = "recovery_code"
    else:
        attempt.failed()
        record(f"admin:{user.username}", "admin.otp_failed", "admin_user", user.username, ip=address)
        db.session.commit()
        raise Unauthorized("验证码不正确或已使用", errors={"otp": ["wrong or already used code"]})
    attempt.succeeded()
    left = len(user.totp_recovery or [])
    record(f"admin:{user.username}", "admin.otp", "admin_user", user.username, ip=address, by=how, recovery_left=left)
    db.session.commit()


def reset(username: str, *, actor: str, ip: str | None = None) -> None:
    """Take an account's second factor away (a lost phone): it enrols again at its next sign-in."""
    user = db.session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise Invalid("用户不存在", errors={"username": ["unknown user"]})
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = user.totp_recovery = None
    record(actor, "admin.otp_reset", "admin_user", username, ip=ip)
    db.session.commit()


def _seed(user: AdminUser) -> str:
    """The account's seed, or "" when it has none or it was sealed under a SECRET_KEY since replaced: then no
    code matches (a recovery code, a hash, still signs in) rather than the sign-in failing."""
    if user.totp_secret is None:
        return ""
    try:
        return sealed.unseal(user.totp_secret, PURPOSE)
    except InvalidToken:
        return ""


def _matching_step(secret: str, code: str) -> int | None:
    """The time step ``code`` belongs to, within the allowed drift, compared in constant time."""
    if not (secret and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_code() -> str:
    raw = secrets.token_hex(8)
    return "-".join(raw[n : n + 4] for n in range(0, 16, 4))


def _digest(code: str) -> str:
    # Recovery codes are 64 random bits each, tried online under the login throttle: a plain hash suffices.
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()
