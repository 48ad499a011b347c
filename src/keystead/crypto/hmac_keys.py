"""HMAC KMS keys: fresh key material per spec, GenerateMac and a constant-time VerifyMac.

Key lengths follow AWS: an HMAC_N key has N bits of material and uses SHA-N (RFC 2104).
"""

from __future__ import annotations

import hmac
import secrets

from keystead.errors import KMSInvalidMacError

__all__ = ["generate_mac", "new_hmac_key", "verify_mac"]

_DIGESTS = {"224": "sha224", "256": "sha256", "384": "sha384", "512": "sha512"}


def new_hmac_key(key_spec: str) -> bytes:
    """Fresh material for an HMAC_224/256/384/512 key (28/32/48/64 bytes) from the OS CSPRNG.

    Raises:
        KeyError: not an HMAC key spec.
    """
    size = key_spec.removeprefix("HMAC_")
    if size not in _DIGESTS:
        raise KeyError(key_spec)
    return secrets.token_bytes(int(size) // 8)


def generate_mac(key: bytes, algorithm: str, message: bytes) -> bytes:
    """HMAC of `message` with the hash `algorithm` names (HMAC_SHA_256 → SHA-256).

    Raises:
        KeyError: not an HMAC_SHA_* algorithm.
    """
    return hmac.new(key, message, _DIGESTS[algorithm.removeprefix("HMAC_SHA_")]).digest()


def verify_mac(key: bytes, algorithm: str, message: bytes, mac: bytes) -> None:
    """Check a MAC in constant time; raises rather than returning a boolean.

    Raises:
        KMSInvalidMacError: the MAC does not match.
        KeyError: not an HMAC_SHA_* algorithm.
    """
    if not hmac.compare_digest(generate_mac(key, algorithm, message), mac):
        raise KMSInvalidMacError()

