"""Ed25519 signatures for Keystead's own records (the audit trail's digests).

Outcomes, not primitives: make a signing key pair, sign bytes, check a signature, and tell
whether a (wrapped) private key belongs to a public key. Raw 32-byte keys on both sides; the
private half is wrapped under the keyring by the caller before it is stored.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

__all__ = ["BadSignatureError", "SigningKeyPair", "public_key_of", "sign", "verify_signature"]


class BadSignatureError(ValueError):
    """A signature does not verify under the given public key (or a key is malformed)."""


class SigningKeyPair:
    """A fresh Ed25519 key pair as raw bytes; the private half is kept out of repr."""

    __slots__ = ("private_key", "public_key")

    def __init__(self) -> None:
        key = Ed25519PrivateKey.generate()
        self.private_key: bytes = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        self.public_key: bytes = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def __repr__(self) -> str:
        return f"SigningKeyPair(public_key={self.public_key.hex()})"


def _private(private_key: bytes) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(private_key)
    except ValueError:
        raise BadSignatureError("an Ed25519 private key is 32 bytes") from None


def public_key_of(private_key: bytes) -> bytes:
    """The raw public key of a raw private key.

    Raises:
        BadSignatureError: the private key is not 32 bytes.
    """
    return _private(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(private_key: bytes, data: bytes) -> bytes:
    """A 64-byte Ed25519 signature of `data`.

    Raises:
        BadSignatureError: the private key is not 32 bytes.
    """
    return _private(private_key).sign(data)


def verify_signature(public_key: bytes, data: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature.

    Raises:
        BadSignatureError: the signature does not verify, or the public key is malformed.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        raise BadSignatureError("signature does not verify") from None
