from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash

from backend.agencies.models import Agency
from backend.agencies.services import get_agency
from backend.audit.services import record
from backend.errors import Conflict, Forbidden, Invalid, Unauthorized
from backend.extensions import clock, db

from . import passwords, throttle
from .models import AdminRole, AdminUser, AgencyClient

TOKEN_AUDIENCE = "publish"
ADMIN_AUDIENCE = "admin"
TOKEN_ISSUER = "sanxiang"


def _signing_key() -> bytes:
    # A key of its own, derived from SECRET_KEY, so a leak of one use does not forge another.
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"agency-token-v1", hashlib.sha256).digest()


def hash_secret(secret: str) -> str:
    # Client secrets are 256-bit random strings: a fast hash is enough and keeps token
    # issuance cheap. Human passwords get scrypt (see create_admin).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedClient:
    client: AgencyClient
    secret: str


def create_client(agency_code: str, *, actor: str, label: str | None = None) -> IssuedClient:
    agency = get_agency(agency_code)
    secret = secrets.token_urlsafe(32)
    client = AgencyClient(
        client_id="ac_" + secrets.token_hex(12),
        secret_hash=hash_secret(secret),
        agency=agency,
        label=label,
        created_at=clock.now(),
    )
    db.session.add(client)
    record(actor, "client.create", "agency_client", client.client_id, agency=agency.code)
    db.session.commit()
    return IssuedClient(client, secret)


def revoke_client(client_id: str, *, actor: str) -> None:
    client = db.session.scalar(select(AgencyClient).where(AgencyClient.client_id == client_id))
    if client is None:
        raise Invalid("客户端不存在", errors={"client_id": ["unknown client"]})
    client.revoked_at = clock.now()
    record(actor, "client.revoke", "agency_client", client_id)
    db.session.commit()


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


def begin_attempt(account: str, address: str | None) -> throttle.Attempt:
    config = current_app.config
    backoff = throttle.Backoff(config["TOKEN_FAILURES_ALLOWED"], config["TOKEN_FAILURE_WINDOW_SECONDS"])
    return throttle.begin(account, address, backoff)


def sign_token(claims: dict[str, Any]) -> IssuedToken:
    """A bearer token carrying ``claims`` (at least ``aud`` and ``sub``), issued now for TOKEN_TTL_SECONDS."""
    now = int(clock.now().timestamp())
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    full = {"iss": TOKEN_ISSUER, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex, **claims}
    return IssuedToken(jwt.encode(full, _signing_key(), algorithm="HS256"), ttl)


def bearer_claims(authorization: str, audience: str) -> dict[str, Any]:
    """The claims of the bearer token in ``authorization`` (the request's Authorization header)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("缺少 Bearer 令牌")
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=["HS256"],
            audience=audience,
            issuer=TOKEN_ISSUER,
            # Expiry is checked against the clock port below, like every other time rule.
            options={"require": ["exp", "iat", "sub"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError:
        raise Unauthorized("令牌无效", errors={"token": ["invalid"]}) from None
    if claims["exp"] <= clock.now().timestamp():
        raise Unauthorized("令牌已过期", errors={"token": ["expired"]})
    return claims


def secret_matches(client: Any, client_secret: str) -> bool:
    """Whether ``client`` (an agency's or an exchange client, or None) exists, is not revoked and has this
    secret, compared in constant time."""
    return (
        client is not None
        and client.revoked_at is None
        and hmac.compare_digest(client.secret_hash, hash_secret(client_secret))
    )


def issue_token(client_id: str, client_secret: str, address: str | None) -> IssuedToken:
    """Exchange client credentials for a short-lived JWT bound to the client's agency; failures slow down
    the address they come from (see throttle)."""
    attempt = begin_attempt(f"client:{client_id}", address)
    client = db.session.scalar(select(AgencyClient).where(AgencyClient.client_id == client_id))
    if not secret_matches(client, client_secret):
        attempt.failed()
        raise Unauthorized("客户端凭证无效")
    attempt.succeeded()
    return sign_token({"aud": TOKEN_AUDIENCE, "sub": client.client_id, "agency": client.agency.code})


def require_agency_token(authorization: str) -> AgencyClient:
    """The agency client an agency token (the Authorization header) speaks for; 401 for any other."""
    claims = bearer_claims(authorization, TOKEN_AUDIENCE)
    # Checked on every call so a revoked client loses access at once, not when its token expires.
    client = db.session.scalar(select(AgencyClient).where(AgencyClient.client_id == claims["sub"]))
    if client is None or client.revoked_at is not None or client.agency.code != claims.get("agency"):
        raise Unauthorized("客户端已停用", errors={"token": ["client revoked"]})
    return client


def authenticate_admin(username: str, password: str, address: str | None) -> AdminUser:
    """Check an admin user's password (failures slowed down like client secrets); audited either way."""
    attempt = begin_attempt(f"admin:{username}", address)
    user = db.session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None or user.disabled_at is not None or not check_password_hash(user.password_hash, password):
        attempt.failed()
        record(f"admin:{username}", "admin.login_failed", "admin_user", username, ip=address)
        db.session.commit()
        raise Unauthorized("用户名或密码错误")
    attempt.succeeded()
    record(f"admin:{username}", "admin.login", "admin_user", username, ip=address)
    db.session.commit()
    return user


def require_admin_token(authorization: str, roles: tuple[str, ...]) -> AdminUser:
    """The enabled admin user an admin token (the Authorization header) speaks for, if of one of ``roles``."""
    claims = bearer_claims(authorization, ADMIN_AUDIENCE)
    user = db.session.scalar(select(AdminUser).where(AdminUser.username == claims["sub"]))
    if user is None or user.disabled_at is not None:
        raise Unauthorized("账户已停用", errors={"token": ["user disabled"]})
    if user.role not in roles:
        raise Forbidden("无权执行此操作", errors={"role": [f"needs one of {', '.join(roles)}"]})
    return user


def whoami(agency: Agency, actor: str) -> dict[str, str]:
    return {"client_id": actor.removeprefix("client:"), "agency": agency.code, "agency_name": agency.name}


def create_admin(
    *,
    username: str,
    password: str,
    role: str,
    actor: str,
    agency_code: str | None = None,
    region_code: str | None = None,
    badge_no: str | None = None,
    temporary: bool = False,
) -> AdminUser:
    """A handler belongs to an agency, a supervisor to a region, a reviewer to the agency (or 司法局) that
    filed them and the badge it filed them under. ``password`` follows the policy (accounts.passwords) unless
    ``temporary`` (one the system administrator hands out, changed at the first sign-in)."""
    if role not in AdminRole.__members__:
        raise Invalid("角色无效", errors={"role": [f"must be one of {', '.join(AdminRole)}"]})
    if role == AdminRole.handler and not agency_code:
        raise Invalid("办理人员须属于一个执法主体", errors={"agency": ["required for a handler"]})
    if role == AdminRole.publisher and not agency_code:
        raise Invalid("信息发布员须属于一个执法主体", errors={"agency": ["required for a publisher"]})
    if role == AdminRole.reviewer and not (agency_code and badge_no):
        # The agency (or 司法局) that filed the reviewer, and the badge it filed them under.
        raise Invalid("法制审核人员须属于一个执法主体并填写证件号", errors={"badge": ["agency and badge required"]})
    if role != AdminRole.reviewer and badge_no:
        raise Invalid("只有法制审核人员登记证件号", errors={"badge": ["only for a reviewer"]})
    if role == AdminRole.supervisor and not region_code:
        raise Invalid("监督人员须属于一个行政区划", errors={"region": ["required for a supervisor"]})
    if not temporary:
        passwords.check(username, password, [])
    if db.session.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise Conflict("用户名已存在", errors={"username": ["already exists"]})
    agency = get_agency(agency_code) if agency_code else None
    if region_code is None and agency is not None:
        region_code = agency.region_code
    user = AdminUser(
        username=username,
        password_hash="",
        role=role,
        agency=agency,
        region_code=region_code,
        badge_no=badge_no,
        created_at=clock.now(),
    )
    passwords.set_password(user, password, temporary=temporary)
    db.session.add(user)
    record(
        actor, "admin.create", "admin_user", username, role=role, agency=agency_code, region=region_code, badge=badge_no
    )
    db.session.commit()
    return user
