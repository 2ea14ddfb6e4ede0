"""Badge tokens: a compact JWS (with kid) over badge number, agency code and issue time, signed in the
SIGNATURE_SUITE: ``EdDSA`` (Ed25519) by default, ``SM2SM3`` (backend/sm2.py) with the 国密 suite.

Claims are one letter each so the QR stays small: ``b`` badge number, ``a`` agency code,
``t`` issued at (Unix seconds), and for a dynamic badge ``e``, its expiry. Nothing in a token
is private: whoever holds it learns only what the badge card already prints.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from flask import current_app

from backend.extensions import clock
from backend.keys import KeyRing, SigningKey


class TokenRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BadgeToken:
    token: str
    url: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class BadgeClaims:
    badge_no: str
    agency_code: str
    issued_at: int
    expires_at: int | None

    @property
    def kind(self) -> str:
        return "dynamic" if self.expires_at is not None else "static"


def key_ring() -> KeyRing:
    return current_app.extensions["badge_keys"]


def verify_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/v/{token}"


def issue(agency_code: str, badge_no: str, *, lifetime: dt.timedelta | None = None) -> BadgeToken:
    now = clock.now()
    claims: dict[str, Any] = {"b": badge_no, "a": agency_code, "t": int(now.timestamp())}
    expires_at = None
    if lifetime is not None:
        expires_at = now + lifetime
        claims["e"] = int(expires_at.timestamp())
    key = key_ring().signing_key()
    token = jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": None})
    return BadgeToken(token, verify_url(token), now, expires_at)


# Verified tokens remembered per worker: a city's badges (each entry is a token and its claims, under
# 0.5 KB), so a scan of any of them costs no signature check once that badge has been scanned.
MEMO_ENTRIES = 16_384


def decode(token: str) -> BadgeClaims:
    """Check the signature and shape; raise TokenRejected with a reason code otherwise."""
    if not token or len(token) > 1024 or token.count(".") != 2:
        raise TokenRejected("malformed")
    alg, kid = _header(token)
    ring = key_ring()
    if alg != ring.suite.alg:  # only the configured suite's: never "none", an HMAC, or the other suite
        raise TokenRejected("unsupported_alg")
    key = ring.get(kid)
    if key is None:
        # Checked on every call, before the cache below: retiring a key takes effect at once.
        raise TokenRejected("unknown_key")
    return _checked_claims(token, key)


@lru_cache(maxsize=MEMO_ENTRIES)
def _header(token: str) -> tuple[Any, str]:
    """The protected header's algorithm and key id, from the first segment alone (PyJWT decodes all three
    and checks the header again below); remembered like the signature (a rejected token is not)."""
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):  # bad base64, bad UTF-8, bad JSON
        raise TokenRejected("malformed") from None
    if not isinstance(header, dict):
        raise TokenRejected("malformed")
    return header.get("alg"), str(header.get("kid", ""))


@lru_cache(maxsize=MEMO_ENTRIES)
def _checked_claims(token: str, key: SigningKey) -> BadgeClaims:
    """The signature check and the claims' shape, remembered: a printed badge is scanned again and again,
    its token never changes, and the signature check (Ed25519 or SM2) is most of what a scan costs. Keyed by the
    key too."""
    try:
        claims = jwt.decode(token, key.public, algorithms=[key.alg], options={"verify_exp": False})
    except jwt.InvalidSignatureError:
        raise TokenRejected("bad_signature") from None
    except jwt.InvalidTokenError:
        raise TokenRejected("malformed") from None
    badge, agency, issued, expires = claims.get("b"), claims.get("a"), claims.get("t"), claims.get("e")
    if not (isinstance(badge, str) and isinstance(agency, str) and _is_int(issued)):
        raise TokenRejected("malformed")
    if "e" in claims and not _is_int(expires):
        raise TokenRejected("malformed")
    return BadgeClaims(badge, agency, issued, expires)


def _is_int(value: Any) -> bool:
    # bool is an int in Python; the reference verifier (JavaScript) rejects it, and so do we.
    return isinstance(value, int) and not isinstance(value, bool)
