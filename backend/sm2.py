"""The 国密 signature suite (SIGNATURE_SUITE=sm2): SM2 signatures with SM3 (GB/T 32918.2, GM/T 0003.2 and 0004),
for badge tokens, scan receipts and transparency checkpoints. Imported only when configured.

The library is tongsuopy, the Python SDK of Tongsuo (铜锁, the OpenAtom Foundation's OpenSSL fork, formerly
BabaSSL, which holds a 商用密码产品认证): the C implementation behind pyca/cryptography's own API, about 0.35 ms a
signature or verification here. Of the alternatives on PyPI, gmssl (pure Python, the most downloaded) takes
6 ms to sign and 12 ms to verify, too slow for a badge scan; gmssl-python and pygmssl need the GmSSL C library
installed beside them; smcryptopy (Rust) is a one-person project.

Conventions, the same as GM/T 0009 and the JavaScript library sm-crypto (the offline verifier's):
- the signer's identity (ZA) is computed with the default user ID ``1234567812345678`` (GM/T 0009-2012 §10,
  also OpenSSL's and Tongsuo's default), so any SM2 library verifies without being told an ID;
- a signature is r ‖ s, 32 bytes each big-endian (64 bytes, like JWS's ES256), not DER: a JWS and a checkpoint's
  hex fit where an Ed25519 signature did;
- keys are PKCS#8 PEM (id-ecPublicKey on the curve sm2p256v1, OID 1.2.156.10197.1.301), as Tongsuo and
  ``openssl genpkey -algorithm SM2`` write them;
- the JWS alg is ``SM2SM3`` and the JWK ``{"kty": "EC", "crv": "SM2", "x", "y"}`` (coordinates base64url,
  32 bytes each). Neither is registered with IANA: there is no registered JOSE name for SM2.
"""

from __future__ import annotations

import base64
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature, UnsupportedAlgorithm

ALG = "SM2SM3"
_SIGNATURE = ec.ECDSA(hashes.SM3())  # on an SM2 key, Tongsuo signs SM2 with ZA (default ID) and SM3


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Sm2Suite:
    name = "sm2"
    label = "SM2"
    alg = ALG

    def generate_pem(self) -> bytes:
        return ec.generate_private_key(ec.SM2()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def load_pem(self, pem: bytes) -> tuple[Any, Any] | None:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except UnsupportedAlgorithm:
            return None
        if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "SM2":
            return None
        return private, private.public_key()

    def sign(self, private: Any, message: bytes) -> bytes:
        r, s = decode_dss_signature(private.sign(message, _SIGNATURE))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify(self, public: Any, signature: bytes, message: bytes) -> bool:
        if len(signature) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, message, _SIGNATURE)
        except InvalidSignature:
            return False
        return True

    def jwk(self, public: Any) -> dict[str, str]:
        numbers = public.public_numbers()
        return {
            "kty": "EC",
            "crv": "SM2",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }


SM2 = Sm2Suite()


class _JwsAlgorithm(jwt.algorithms.Algorithm):
    """SM2SM3 for PyJWT, so badge tokens are made and checked by the same calls in either suite."""

    def prepare_key(self, key: Any) -> Any:
        return key

    def sign(self, msg: bytes, key: Any) -> bytes:
        return SM2.sign(key, msg)

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        return SM2.verify(key, sig, msg)

    @staticmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> Any:
        raise NotImplementedError("the JWKS is made by backend.keys")

    @staticmethod
    def from_jwk(jwk: str | dict[str, Any]) -> Any:
        raise NotImplementedError("keys are loaded from PEM")


jwt.register_algorithm(ALG, _JwsAlgorithm())
