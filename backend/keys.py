"""Signing key rings (badge tokens, transparency log checkpoints) and the JWKS that publishes them:
Ed25519, named by kid, newest signs, every key not retired verifies. Officers and transparency both
import this module (neither imports the other for it).

Keys come from ``BADGE_SIGNING_KEYS`` (a JSON object ``{kid: PEM}``, for production secrets) or
from PEM files ``<kid>.pem`` in ``BADGE_KEYS_DIR`` (in development the first one is generated
there). A kid is ``k`` + the UTC time the key was made, so the newest key sorts last.
Rotation: ``flask --app backend badges rotate-key`` adds a key; old badges keep verifying until
``flask --app backend badges retire-key KID`` removes theirs. The transparency ring is the same with
``TRANSPARENCY_*`` and ``flask transparency rotate-key``; its retired keys stay published, since every
checkpoint ever signed must keep verifying.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backend.errors import ServiceUnavailable
from backend.extensions.smorest import Schema

# How often a worker looks for keys added or retired by the CLI.
RELOAD_SECONDS = 5.0


@dataclass(frozen=True, eq=False)  # hashed by identity: a key object is the key it holds
class SigningKey:
    kid: str
    private: Ed25519PrivateKey | None
    public: Ed25519PublicKey

    def jwk(self) -> dict[str, str]:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "use": "sig", "alg": "EdDSA"}


def new_kid(now: dt.datetime | None = None) -> str:
    return "k" + (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class Purpose:
    """What a ring signs, and where its keys are configured: every message about the ring names them."""

    name: str  # "badge", "transparency"
    prefix: str  # of the ring's settings: {prefix}_SIGNING_KEYS, {prefix}_KEYS_DIR

    @property
    def variable(self) -> str:
        return f"{self.prefix}_SIGNING_KEYS"

    @property
    def rotate_command(self) -> str:
        return f"flask --app backend {'badges' if self.name == 'badge' else self.name} rotate-key"


BADGE = Purpose("badge", "BADGE")
TRANSPARENCY = Purpose("transparency", "TRANSPARENCY")


class NoSigningKey(ServiceUnavailable):
    """The ring has no key to sign with: what needs a signature (a badge card, a checkpoint) waits for one."""

    def __init__(self, purpose: Purpose) -> None:
        super().__init__(
            "签名密钥未配置，请稍后再试",
            errors={"signing_key": [f"no {purpose.name} signing key: set {purpose.variable}"]},
            retry_after=60,
        )


def _load_pem(purpose: Purpose, kid: str, pem: bytes) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{purpose.name} key {kid} in {purpose.variable} is not an Ed25519 key")
    return SigningKey(kid, private, private.public_key())


class KeyRing:
    def __init__(self, directory: str, from_env: str | None = None, purpose: Purpose = BADGE) -> None:
        self.directory = Path(directory)
        self.from_env = from_env
        self.purpose = purpose
        self._keys: dict[str, SigningKey] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _load(self) -> dict[str, SigningKey]:
        # A kid never names two keys, so a key already loaded is kept as the same object: caches
        # keyed by it (verified badge signatures) survive the periodic reload.
        if self.from_env:
            return {
                kid: self._keys.get(kid) or _load_pem(self.purpose, kid, pem.encode())
                for kid, pem in json.loads(self.from_env).items()
            }
        return {
            path.stem: self._keys.get(path.stem) or _load_pem(self.purpose, path.stem, path.read_bytes())
            for path in sorted(self.directory.glob("k*.pem"))
        }

    def keys(self) -> dict[str, SigningKey]:
        now = time.monotonic()
        if now - self._loaded_at > RELOAD_SECONDS:
            with self._lock:
                if now - self._loaded_at > RELOAD_SECONDS:
                    self._keys = self._load()
                    self._loaded_at = now
        return self._keys

    def signing_key(self) -> SigningKey:
        keys = self.keys()
        if not keys:
            raise NoSigningKey(self.purpose)
        return keys[max(keys)]

    def get(self, kid: str) -> SigningKey | None:
        return self.keys().get(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for _, key in sorted(self.keys().items())]}

    # -- the development key store -------------------------------------------------------
    def add_key(self) -> str:
        """Generate a key into the directory; it signs new badges from the next reload on."""
        if self.from_env:
            raise RuntimeError(f"keys come from {self.purpose.variable}; rotate them where that secret is kept")
        self.directory.mkdir(parents=True, exist_ok=True)
        kid = new_kid()
        while (self.directory / f"{kid}.pem").exists():
            time.sleep(1)
            kid = new_kid()
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._loaded_at = 0.0
        return kid

    def retire(self, kid: str) -> None:
        path = self.directory / f"{kid}.pem"
        if self.from_env or not path.exists():
            raise KeyError(kid)
        path.unlink()
        self._loaded_at = 0.0

    def ensure_key(self) -> None:
        """Development: make the first key once, even when several workers start together."""
        if self.from_env:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not any(self.directory.glob("k*.pem")):
                self.add_key()
        self._loaded_at = 0.0


class JwksSchema(Schema):
    keys = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "the public keys as JSON Web Keys (Ed25519, kty OKP), each with its kid"},
    )
