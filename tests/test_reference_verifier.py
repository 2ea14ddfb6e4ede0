"""The mini-program's offline badge verifier (JavaScript) against tokens made by PyJWT, as the server makes them.

Also runs the verifier's own Node test suite, so `make test` covers it. Without `node` on PATH these
tests skip locally and fail under CI=true. SM2 tokens (SIGNATURE_SUITE=sm2) are checked with npm sm-crypto, which
the tests install with `npm ci` from the verifier's package-lock.json into a temporary folder (without `npm`,
they skip locally and fail under CI=true).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.keys import SigningKey, suite
from tests.support.services import require_tool

VERIFIER_DIR = Path(__file__).resolve().parent.parent / "miniapp_api" / "reference_verifier"
KID = "badge-2024-01"
T0 = 1_700_000_000
STATIC = {"b": "350500-0123", "a": "11350500MB0100002E", "t": T0}
DYNAMIC = {**STATIC, "e": T0 + 60}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Overrides conftest's autouse fixture: nothing here needs the Flask app or a database."""
    yield


@pytest.fixture(scope="module")
def node() -> str:
    return require_tool("node", "the mini-program badge verifier is JavaScript")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk(private_key: Ed25519PrivateKey, kid: str) -> dict:
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "use": "sig", "alg": "EdDSA"}


@pytest.fixture(scope="module")
def platform_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def jwks_file(platform_key, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "keys.json"
    path.write_text(json.dumps({"keys": [jwk(Ed25519PrivateKey.generate(), "older"), jwk(platform_key, KID)]}))
    return path


def issue(payload: dict, private_key: Ed25519PrivateKey, kid: str = KID) -> str:
    """Exactly how the server signs a badge token."""
    return jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": None})


def run_cli(node: str, jwks_file: Path, token_or_url: str, now: int, env: dict | None = None) -> tuple[int, dict]:
    completed = subprocess.run(
        [node, str(VERIFIER_DIR / "cli.js"), str(jwks_file), token_or_url, "--now", str(now)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert completed.stdout, completed.stderr
    return completed.returncode, json.loads(completed.stdout)


@pytest.fixture
def verify(node, jwks_file):
    def run(token_or_url: str, now: int = T0 + 10) -> tuple[int, dict]:
        return run_cli(node, jwks_file, token_or_url, now)

    return run


@pytest.fixture(scope="module")
def sm_crypto_env(node, tmp_path_factory) -> dict[str, str]:
    """The environment under which Node finds sm-crypto, installed from the verifier's lock file by npm ci."""
    npm = require_tool("npm", "installs sm-crypto, the offline verifier's SM2")
    folder = tmp_path_factory.mktemp("sm-crypto")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(VERIFIER_DIR / name, folder / name)
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {**os.environ, "NODE_PATH": str(folder / "node_modules")}


@pytest.fixture(scope="module")
def sm2_platform() -> tuple[SigningKey, SigningKey]:
    """The platform's SM2 badge key and an older one, as the server's key ring loads them from PEM."""
    sm2 = suite("sm2")
    return SigningKey(KID, *sm2.load_pem(sm2.generate_pem()), sm2), SigningKey(
        "older", *sm2.load_pem(sm2.generate_pem()), sm2
    )


@pytest.fixture
def verify_sm2(node, sm_crypto_env, sm2_platform, tmp_path):
    jwks_file = tmp_path / "keys.json"
    # The JWKS exactly as GET /api/v1/badges/keys publishes it (KeyRing.jwks: each key's jwk()).
    jwks_file.write_text(json.dumps({"keys": [key.jwk() for key in reversed(sm2_platform)]}))

    def run(token_or_url: str, now: int = T0 + 10) -> tuple[int, dict]:
        return run_cli(node, jwks_file, token_or_url, now, sm_crypto_env)

    return run


def issue_sm2(payload: dict, key: SigningKey, kid: str = KID) -> str:
    """Exactly how the server signs a badge token with SIGNATURE_SUITE=sm2 (backend/officers/tokens.py)."""
    return jwt.encode(payload, key.private, algorithm=key.alg, headers={"kid": kid, "typ": None})


def test_pyjwt_token_shape_is_what_the_verifier_expects(platform_key):
    header, payload, signature = issue(STATIC, platform_key).split(".")
    assert "=" not in header + payload + signature
    # Sorted header keys, compact JSON, no "typ" (typ=None removes it).
    assert b64url_decode(header) == b'{"alg":"EdDSA","kid":"badge-2024-01"}'
    assert b64url_decode(payload) == b'{"b":"350500-0123","a":"11350500MB0100002E","t":1700000000}'
    assert len(signature) == 86 and len(b64url_decode(signature)) == 64


def test_authentic_static_badge(verify, platform_key):
    code, verdict = verify(issue(STATIC, platform_key), now=T0 + 5 * 365 * 86400)
    assert (code, verdict) == (0, {"result": "authentic", "reason": "ok", "claims": STATIC})


@pytest.mark.parametrize(
    ("now", "code", "result", "reason"),
    [
        (T0 + 1, 0, "authentic", "ok"),
        (T0 + 60, 0, "authentic", "ok"),
        (T0 + 61, 1, "expired", "dynamic_expired"),
    ],
)
def test_dynamic_badge_around_expiry(verify, platform_key, now, code, result, reason):
    assert verify(issue(DYNAMIC, platform_key), now=now) == (
        code,
        {"result": result, "reason": reason, "claims": DYNAMIC},
    )


def test_full_url_with_query_string(verify, platform_key):
    url = f"https://sanxiang.example.gov.cn/v/{issue(DYNAMIC, platform_key)}?from=qr#x"
    assert verify(url, now=T0 + 30)[1]["result"] == "authentic"


def test_tampered_payload(verify, platform_key):
    header, _, signature = issue(STATIC, platform_key).split(".")
    forged = b64url(json.dumps({**STATIC, "b": "350500-9999"}, separators=(",", ":")).encode())
    assert verify(f"{header}.{forged}.{signature}") == (
        1,
        {"result": "invalid", "reason": "bad_signature", "claims": None},
    )


def test_tampered_signature(verify, platform_key):
    header, payload, signature = issue(STATIC, platform_key).split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[10] ^= 0x01
    assert verify(f"{header}.{payload}.{b64url(bytes(flipped))}")[1]["reason"] == "bad_signature"


@pytest.mark.parametrize(("kid", "reason"), [(KID, "bad_signature"), ("not-published", "unknown_key")])
def test_foreign_key(verify, kid, reason):
    code, verdict = verify(issue(STATIC, Ed25519PrivateKey.generate(), kid=kid))
    assert (code, verdict["result"], verdict["reason"]) == (1, "invalid", reason)


def test_other_algorithm(verify):
    token = jwt.encode(STATIC, "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256", headers={"kid": KID})
    assert verify(token)[1]["reason"] == "unsupported_alg"


@pytest.mark.parametrize(
    "garbage",
    ["not-a-token", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30", "https://sanxiang.example.gov.cn/v/", "%zz", "🙂.🙂.🙂"],
)
def test_garbage(verify, garbage):
    code, verdict = verify(garbage)
    assert (code, verdict["result"], verdict["reason"]) == (1, "invalid", "malformed")


def test_signed_token_with_missing_claims_is_malformed(verify, platform_key):
    assert verify(issue({"b": "350500-0123", "t": T0}, platform_key))[1]["reason"] == "malformed"


def test_node_test_suite_passes(node, sm_crypto_env):
    # No path argument: Node 20 takes a directory, Node 22+ only globs; both find *.test.js under cwd.
    completed = subprocess.run(
        [node, "--test"], capture_output=True, text=True, timeout=120, cwd=VERIFIER_DIR, env=sm_crypto_env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "# fail 0" in completed.stdout
    assert "# skipped 0" in completed.stdout  # the SM2 tests found sm-crypto


def test_sm2_token_shape(sm2_platform):
    header, _, signature = issue_sm2(STATIC, sm2_platform[0]).split(".")
    assert b64url_decode(header) == b'{"alg":"SM2SM3","kid":"badge-2024-01"}'
    assert len(b64url_decode(signature)) == 64  # r || s


@pytest.mark.parametrize(
    ("claims", "now", "code", "result"),
    [(STATIC, T0 + 10**8, 0, "authentic"), (DYNAMIC, T0 + 60, 0, "authentic"), (DYNAMIC, T0 + 61, 1, "expired")],
)
def test_sm2_badges_verify_offline(verify_sm2, sm2_platform, claims, now, code, result):
    verdict = verify_sm2(issue_sm2(claims, sm2_platform[0]), now=now)
    assert (verdict[0], verdict[1]["result"], verdict[1]["claims"]) == (code, result, claims)
    assert verify_sm2(issue_sm2(claims, sm2_platform[1], kid="older"), now=now)[1]["result"] == result


def test_sm2_altered_and_foreign_tokens_are_invalid(verify_sm2, sm2_platform):
    header, _, signature = issue_sm2(STATIC, sm2_platform[0]).split(".")
    forged = b64url(json.dumps({**STATIC, "b": "350500-9999"}, separators=(",", ":")).encode())
    assert verify_sm2(f"{header}.{forged}.{signature}")[1]["reason"] == "bad_signature"
    sm2 = suite("sm2")
    stranger = SigningKey(KID, *sm2.load_pem(sm2.generate_pem()), sm2)
    assert verify_sm2(issue_sm2(STATIC, stranger))[1]["reason"] == "bad_signature"
    assert verify_sm2(issue_sm2(STATIC, stranger, kid="retired"))[1]["reason"] == "unknown_key"
    # An Ed25519 token under the SM2 key's kid: its alg names no SM2 key.
    assert verify_sm2(issue(STATIC, Ed25519PrivateKey.generate()))[1]["reason"] == "unknown_key"
