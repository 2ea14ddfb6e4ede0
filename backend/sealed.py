"""Secrets we must read back (a TOTP seed, a webhook's signing secret), sealed at rest with Fernet
(AES-128-CBC and HMAC-SHA256, ``cryptography``) under a key derived from SECRET_KEY for one purpose, so a
database dump alone reveals none of them and one purpose's key opens nothing of another's. A new SECRET_KEY
makes what was sealed under the old one unreadable: the owners enrol or subscribe again."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from flask import current_app


def _fernet(purpose: bytes) -> Fernet:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), purpose, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, purpose: bytes) -> str:
    return _fernet(purpose).encrypt(secret.encode()).decode()


def unseal(sealed: str, purpose: bytes) -> str:
    return _fernet(purpose).decrypt(sealed.encode()).decode()
