"""One contract, both signature suites (SIGNATURE_SUITE, backend/keys.py and backend/sm2.py): Ed25519, and SM2 with
SM3. Whatever the suite, a badge token issued by the platform verifies and a forged, altered or foreign one does
not; the JWKS publishes what an outsider needs to check a token and a checkpoint with nothing of ours; the audit
(`flask transparency verify`) checks checkpoint signatures; a scan receipt is accepted back and a forged one is
not; and `rotate-key` makes keys of the suite.

Each test runs on the session app with both key rings replaced by rings of the suite (made by the same
``key_rings`` create_app calls); tests/test_signature_suite.py starts whole apps with SIGNATURE_SUITE=sm2.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from backend.app import key_rings
from backend.keys import suite as suite_named
from backend.officers import services, tokens
from backend.transparency.models import Checkpoint
from tests.factories import AgencyFactory
from tests.factories.officers import officer

SUITES = ["ed25519", "sm2"]
OTHER = {"ed25519": "sm2", "sm2": "ed25519"}
ALG = {"ed25519": "EdDSA", "sm2": "SM2SM3"}
BADGE = "35050012345"


@pytest.fixture(params=SUITES)
def suite(request, app, tmp_path, monkeypatch) -> str:
    name = request.param
    config = {
        **app.config,
        "SIGNATURE_SUITE": name,
        "BADGE_KEYS_DIR": str(tmp_path / "badge_keys"),
        "TRANSPARENCY_KEYS_DIR": str(tmp_path / "transparency_keys"),
    }
    for extension, ring in key_rings(config).items():
        monkeypatch.setitem(app.extensions, extension, ring)
    monkeypatch.setitem(app.config, "SIGNATURE_SUITE", name)
    return name


@pytest.fixture
def registered(client, auth, db_session, suite):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    assert client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers).status_code == 201
    return headers


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def outside_check(jwk: dict, signature: bytes, message: bytes) -> bool:
    """A verifier's check from the published JWK alone, straight on the libraries (none of backend.keys)."""
    if jwk["kty"] == "OKP":
        assert (jwk["crv"], jwk["alg"]) == ("Ed25519", "EdDSA")
        try:
            Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, message)
        except InvalidSignature:
            return False
        return True
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec
    from tongsuopy.crypto.exceptions import InvalidSignature as Sm2Invalid

    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("EC", "SM2", "SM2SM3")
    x, y = (int.from_bytes(b64url_decode(jwk[c]), "big") for c in ("x", "y"))
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SM2()).public_key()
    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, message, ec.ECDSA(hashes.SM3()))
    except Sm2Invalid:
        return False
    return True


def static_token(app) -> str:
    with app.test_request_context():
        return tokens.issue("MKT", BADGE).token


def verify(client, token: str) -> dict:
    response = client.get("/api/v1/badges/verify", query_string={"token": token})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def published(client, path: str) -> dict[str, dict]:
    return {key["kid"]: key for key in client.get(path).get_json()["keys"]}


def test_a_badge_token_is_signed_in_the_suite_and_verifies(client, registered, app, suite):
    token = static_token(app)
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": ALG[suite], "kid": header["kid"]}
    assert len(b64url_decode(token.split(".")[2])) == 64
    result = verify(client, token)
    assert (result["result"], result["reason"], result["token_kind"]) == ("valid", "ok", "static")
    assert "有效" in client.get(f"/v/{token}").get_data(as_text=True)
    dynamic = client.post(f"/api/v1/publish/officers/{BADGE}/dynamic-badge", headers=registered).get_json()["token"]
    assert (verify(client, dynamic)["result"], verify(client, dynamic)["token_kind"]) == ("valid", "dynamic")


def test_the_jwks_lets_an_outsider_check_a_token(client, registered, app, suite):
    token = static_token(app)
    signing_input, _, signature = token.rpartition(".")
    keys = published(client, "/api/v1/badges/keys")
    (jwk,) = keys.values()
    assert jwk["kid"] == jwt.get_unverified_header(token)["kid"] and jwk["use"] == "sig" and "d" not in jwk
    assert outside_check(jwk, b64url_decode(signature), signing_input.encode())
    assert not outside_check(jwk, b64url_decode(signature), signing_input.encode() + b"x")


def resigned(token: str, sign: Callable[[bytes], bytes], **header) -> str:
    head, payload, _ = token.split(".")
    new_head = b64url(json.dumps({**json.loads(b64url_decode(head)), **header}, separators=(",", ":")).encode())
    return f"{new_head}.{payload}.{b64url(sign(f'{new_head}.{payload}'.encode()))}"


def test_altered_foreign_and_other_suite_tokens_are_refused(client, registered, app, suite):
    token = static_token(app)
    head, payload, signature = token.split(".")
    altered = b64url(json.dumps({**json.loads(b64url_decode(payload)), "b": "35050099999"}).encode())
    assert verify(client, f"{head}.{altered}.{signature}")["reason"] == "bad_signature"
    flipped = bytearray(b64url_decode(signature))
    flipped[5] ^= 1
    assert verify(client, f"{head}.{payload}.{b64url(bytes(flipped))}")["reason"] == "bad_signature"

    def stranger(name: str):  # a key of a suite, not the platform's
        keys = suite_named(name)
        private, _ = keys.load_pem(keys.generate_pem())
        return lambda message: keys.sign(private, message)

    assert verify(client, resigned(token, stranger(suite)))["reason"] == "bad_signature"
    assert verify(client, resigned(token, stranger(suite), kid="k19990101000000"))["reason"] == "unknown_key"
    other = resigned(token, stranger(OTHER[suite]), alg=ALG[OTHER[suite]])
    assert verify(client, other)["reason"] == "unsupported_alg"
    assert verify(client, resigned(token, lambda _: b"", alg="none"))["reason"] == "unsupported_alg"


def test_a_checkpoint_is_signed_in_the_suite_and_audited(client, registered, runner, db_session, suite):
    checkpoint = client.get("/api/v1/transparency/checkpoint").get_json()
    message = (
        f"sanxiang-transparency-log\n{checkpoint['tree_size']}\n{checkpoint['root_hash']}\n{checkpoint['timestamp']}\n"
    ).encode()
    jwk = published(client, "/api/v1/transparency/keys")[checkpoint["key_id"]]
    signature = bytes.fromhex(checkpoint["signature"])
    assert outside_check(jwk, signature, message)
    assert not outside_check(jwk, signature, message.replace(b"\n", b"\n\n", 1))
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 0, result.output

    flipped = bytearray(signature)
    flipped[0] ^= 1
    db_session.execute(
        update(Checkpoint).where(Checkpoint.tree_size == checkpoint["tree_size"]).values(signature=flipped.hex())
    )
    db_session.commit()
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 1
    assert f"checkpoint at size {checkpoint['tree_size']} has a signature that does not verify" in result.output


def test_a_scan_receipt_is_accepted_back_and_a_forged_one_is_not(client, registered, app, suite):
    """Ed25519 keeps today's receipt (an HMAC of SECRET_KEY); SM2 signs it with the badge key, checkable by anyone."""
    with app.test_request_context():
        verification = services.verify(static_token(app))
        receipt = services.scan_receipt(verification)
        assert services.receipt_serializer().loads(receipt) == {
            "b": BADGE,
            "a": "MKT",
            "t": int(verification.checked_at.timestamp()),
            "r": "valid",
        }
        body, _, signature = receipt.rpartition(".")
        if suite == "ed25519":
            hmac = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="scan-receipt")
            assert hmac.loads(receipt)["b"] == BADGE
        else:
            kid, _, raw = signature.partition("~")
            jwk = published(client, "/api/v1/badges/keys")[kid]
            assert outside_check(jwk, b64url_decode(raw), b"scan-receipt\n" + body.encode())
        forged_body = body.replace(body[:4], body[:3] + ("A" if body[3] != "A" else "B"), 1)
        for forged in (f"{forged_body}.{signature}", f"{body}.{signature[:-2]}AA"):
            with pytest.raises(BadSignature):
                services.receipt_serializer().loads(forged)


def test_rotate_key_makes_a_key_of_the_suite(client, registered, runner, suite):
    for group, path in (("badges", "/api/v1/badges/keys"), ("transparency", "/api/v1/transparency/keys")):
        before = published(client, path)
        result = runner.invoke(args=[group, "rotate-key"])
        assert result.exit_code == 0, result.output
        after = published(client, path)
        assert len(after) == len(before) + 1, group
        assert {key["alg"] for key in after.values()} == {ALG[suite]}, group
