"""Signing key rings (badge tokens, scan receipts, transparency log checkpoints) and the JWKS that publishes
them: keys of one suite (SIGNATURE_SUITE: Ed25519 by default, or SM2 with SM3, backend/sm2.py), named by kid,
newest signs, every key not retired verifies. Officers and transparency both import this module (neither imports
the other for it).

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
from typing import Any, Protocol

import marshmallow as ma
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backend.errors import ServiceUnavailable
from backend.extensions.smorest import Schema

# How often a worker looks for keys added or retired by the CLI.
RELOAD_SECONDS = 5.0


class Suite(Protocol):
    """A signature algorithm a key ring holds keys of: what SIGNATURE_SUITE names."""

    name: str  # the SIGNATURE_SUITE value
    label: str  # in messages
    alg: str  # the JWS "alg" of badge tokens

    def generate_pem(self) -> bytes: ...

    def load_pem(self, pem: bytes) -> tuple[Any, Any] | None:
        """(private, public) of a PKCS#8 PEM private key of this suite; None for a key of another algorithm."""

    def sign(self, private: Any, message: bytes) -> bytes: ...

    def verify(self, public: Any, signature: bytes, message: bytes) -> bool: ...

    def jwk(self, public: Any) -> dict[str, str]:
        """The public key's JWK members other than kid and use."""


class Ed25519Suite:
    name = "ed25519"
    label = "Ed25519"
    alg = "EdDSA"

    def generate_pem(self) -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def load_pem(self, pem: bytes) -> tuple[Ed25519PrivateKey, Ed25519PublicKey] | None:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except UnsupportedAlgorithm:  # an SM2 key: its curve is unknown to OpenSSL's cryptography
            return None
        return (private, private.public_key()) if isinstance(private, Ed25519PrivateKey) else None

    def sign(self, private: Ed25519PrivateKey, message: bytes) -> bytes:
        return private.sign(message)

    def verify(self, public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def jwk(self, public: Ed25519PublicKey) -> dict[str, str]:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


ED25519 = Ed25519Suite()


def suite(name: str) -> Suite:
    """The suite SIGNATURE_SUITE names. SM2's library is imported only when it is configured."""
    if name == "sm2":
        from backend import sm2

        return sm2.SM2
    return ED25519


@dataclass(frozen=True, eq=False)  # hashed by identity: a key object is the key it holds
class SigningKey:
    kid: str
    private: Any
    public: Any
    suite: Suite = ED25519

    @property
    def alg(self) -> str:
        return self.suite.alg

    def sign(self, message: bytes) -> bytes:
        return self.suite.sign(self.private, message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        return self.suite.verify(self.public, signature, message)

    def jwk(self) -> dict[str, str]:
        return {**self.suite.jwk(self.public), "kid": self.kid, "use": "sig", "alg": self.suite.alg}


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


class WrongKey(ValueError):
    """A key in the ring is not a key of the configured suite (or not a PEM private key at all)."""


def _load_pem(purpose: Purpose, suite_: Suite, kid: str, pem: bytes, where: str) -> SigningKey:
    try:
        loaded = suite_.load_pem(pem)
    except (ValueError, TypeError) as exc:  # not a PEM private key
        raise WrongKey(f"{where}: {purpose.name} key {kid} is not a PEM private key ({exc})") from None
    if loaded is None:
        raise WrongKey(
            f"{where}: {purpose.name} key {kid} is not an {suite_.label} key, "
            f"and SIGNATURE_SUITE={suite_.name} signs with {suite_.label} only"
        )
    return SigningKey(kid, *loaded, suite_)


class KeyRing:
    def __init__(
        self, directory: str, from_env: str | None = None, purpose: Purpose = BADGE, suite: Suite = ED25519
    ) -> None:
        self.directory = Path(directory)
        self.from_env = from_env
        self.purpose = purpose
        self.suite = suite
        self._keys: dict[str, SigningKey] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _load(self) -> dict[str, SigningKey]:
        # A kid never names two keys, so a key already loaded is kept as the same object: caches
        # keyed by it (verified badge signatures) survive the periodic reload.
        if self.from_env:
            variable = self.purpose.variable
            return {
                kid: self._keys.get(kid) or _load_pem(self.purpose, self.suite, kid, pem.encode(), variable)
                for kid, pem in json.loads(self.from_env).items()
            }
        where = f"{self.purpose.prefix}_KEYS_DIR={self.directory}"
        return {
            path.stem: self._keys.get(path.stem)
            or _load_pem(self.purpose, self.suite, path.stem, path.read_bytes(), where)
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
        pem = self.suite.generate_pem()
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
