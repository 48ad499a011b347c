"""Verifying a JWS signature (the signature of an OIDC ID token) against a JSON Web Key.

Only what AssumeRoleWithWebIdentity needs: RS256 (RSASSA-PKCS1-v1_5 with SHA-256) and ES256
(ECDSA P-256 with SHA-256, signature as raw r||s) [RFC 7518 §3.3, §3.4]. Every failure is the same
`JwsError`: a bad key, a wrong algorithm, or a signature that does not verify.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["SUPPORTED_ALGORITHMS", "JwsError", "b64url_decode", "verify_jws"]

SUPPORTED_ALGORITHMS = frozenset({"RS256", "ES256"})


class JwsError(Exception):
    """The signature does not verify under the key (or the key or algorithm is unusable)."""


def b64url_decode(text: str) -> bytes:
    """Base64url without padding, as JOSE uses it.

    Raises:
        JwsError: not base64url.
    """
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JwsError() from None


def _int(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise JwsError()
    return int.from_bytes(b64url_decode(value), "big")


def verify_jws(signing_input: bytes, signature: bytes, alg: str, jwk: Mapping[str, Any]) -> None:
    """Check a JWS signature over `signing_input` (header.payload) with a public JWK.

    Raises:
        JwsError: unsupported algorithm, a key of the wrong type, or an invalid signature.
    """
    try:
        if alg == "RS256" and jwk.get("kty") == "RSA":
            rsa_key = rsa.RSAPublicNumbers(_int(jwk, "e"), _int(jwk, "n")).public_key()
            rsa_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return
        if alg == "ES256" and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            ec_key = ec.EllipticCurvePublicNumbers(_int(jwk, "x"), _int(jwk, "y"), ec.SECP256R1()).public_key()
            if len(signature) != 64:
                raise JwsError()
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            ec_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            return
    except (InvalidSignature, ValueError):
        raise JwsError() from None
    raise JwsError()
