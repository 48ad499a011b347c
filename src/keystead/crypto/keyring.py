"""The barrier: every secret Keystead stores is wrapped under the keyring before storage sees it.

The keyring is a set of numbered *terms*, each a random AES-256 key. Terms are stored sealed
under the root key (see root_key.py), so storage holds only opaque bytes. New secrets are wrapped
under the newest term; older terms stay in the ring so everything wrapped earlier still unwraps,
which lets the keyring rotate without rewriting all data at once (HashiCorp Vault's barrier
keyring works the same way). `rewrap` moves one secret to the current term when convenient.

Formats (big-endian; see docs/ciphertext-format.md):

    sealed term    : 0x01 || term:u32 || nonce:12 || AES-256-GCM(term_key):32 || tag:16
                     key = HKDF-SHA256(root_key, info="keystead/keyring-term-seal/v1")
                     AAD = 0x01 || term:u32
    wrapped secret : 0x01 || term:u32 || nonce:12 || AES-256-GCM(secret) || tag:16
                     AAD = 0x01 || term:u32 || purpose (UTF-8)

Binding the purpose label into the AAD means a wrapped secret access key cannot be swapped into
a key-material column (or vice versa) by someone who can write the database.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keystead.errors import KeyringError

__all__ = ["TERM_KEY_BYTES", "Keyring", "WrapPurpose"]

TERM_KEY_BYTES = 32
MAX_TERM = 0xFFFFFFFF

_VERSION = 0x01
_HEADER = struct.Struct(">BI")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SEAL_INFO = b"keystead/keyring-term-seal/v1"
_SEALED_TERM_LEN = _HEADER.size + _NONCE_BYTES + TERM_KEY_BYTES + _TAG_BYTES
_OPEN_FAILED = "wrapped secret failed to open (tampered, wrong purpose, or wrong keyring)"


class WrapPurpose(StrEnum):
    """The purpose labels Keystead itself uses; any other non-empty string works too."""

    KMS_KEY_MATERIAL = "kms-key-material"
    KMS_HMAC_KEY = "kms-hmac-key"
    KMS_PRIVATE_KEY = "kms-private-key"
    KMS_IMPORT_WRAPPING_KEY = "kms-import-wrapping-key"
    IAM_SECRET_ACCESS_KEY = "iam-secret-access-key"
    STS_TOKEN_KEY = "sts-token-key"
    AUDIT_DIGEST_SIGNING_KEY = "audit-digest-signing-key"


def _term_sealing_cipher(root_key: bytes) -> AESGCM:
    if len(root_key) != 32:
        raise KeyringError("the root key must be 32 bytes")
    # A derived key, not the root key itself, so the root key is used for exactly one job here and
    # stays free for others (and for an HSM, which would do this derivation internally).
    sealing_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(root_key)
    return AESGCM(sealing_key)


def _check_term(term: int) -> None:
    if not 1 <= term <= MAX_TERM:
        raise KeyringError(f"keyring terms are numbered 1..{MAX_TERM}, not {term}")


def _purpose_label(purpose: str) -> bytes:
    label = str(purpose).encode("utf-8")
    if not label:
        raise KeyringError("a wrap purpose must not be empty")
    return label


class Keyring:
    """Versioned key-encryption terms unsealed by the root key; the barrier every stored secret passes."""

    __slots__ = ("_ciphers", "_current", "_keys")

    def __init__(self, term_keys: Mapping[int, bytes]) -> None:
        """Build from raw term keys; callers normally use `Keyring.open` on sealed terms.

        Raises:
            KeyringError: no terms, a term number out of range, or a key that is not 32 bytes.
        """
        if not term_keys:
            raise KeyringError("a keyring needs at least one term")
        ciphers: dict[int, AESGCM] = {}
        for term, key in term_keys.items():
            _check_term(term)
            if len(key) != TERM_KEY_BYTES:
                raise KeyringError(f"keyring term {term} key must be {TERM_KEY_BYTES} bytes")
            ciphers[term] = AESGCM(key)
        self._ciphers = ciphers
        self._keys = dict(term_keys)  # Kept only so `reseal_terms` can move terms to a new root key.
        self._current = max(ciphers)

    def __repr__(self) -> str:
        return f"Keyring(terms={sorted(self._ciphers)}, current={self._current})"

    @staticmethod
    def seal_term(root_key: bytes, term: int, term_key: bytes | None = None) -> bytes:
        """Seal a term key (a new random one unless given) under the root key for storage.

        Raises:
            KeyringError: bad root key length, term out of range, or a term key that is not 32 bytes.
        """
        _check_term(term)
        if term_key is None:
            term_key = os.urandom(TERM_KEY_BYTES)
        elif len(term_key) != TERM_KEY_BYTES:
            raise KeyringError(f"a keyring term key must be {TERM_KEY_BYTES} bytes")
        header = _HEADER.pack(_VERSION, term)
        nonce = os.urandom(_NONCE_BYTES)
        return header + nonce + _term_sealing_cipher(root_key).encrypt(nonce, term_key, header)

    @classmethod
    def open(cls, root_key: bytes, sealed_terms: Mapping[int, bytes]) -> Keyring:
        """Unseal every stored term with the root key.

        Raises:
            KeyringError: no terms, wrong root key, a tampered or truncated sealed term, or a
                sealed term stored under a different number than the one sealed inside it.
        """
        cipher = _term_sealing_cipher(root_key)
        term_keys: dict[int, bytes] = {}
        for term, sealed in sealed_terms.items():
            _check_term(term)
            if len(sealed) != _SEALED_TERM_LEN or sealed[0] != _VERSION:
                raise KeyringError(f"keyring term {term} is corrupt or of an unknown format")
            header = sealed[: _HEADER.size]
            if _HEADER.unpack(header)[1] != term:
                raise KeyringError(f"keyring term {term} holds a different term's key")
            nonce = sealed[_HEADER.size : _HEADER.size + _NONCE_BYTES]
            try:
                term_keys[term] = cipher.decrypt(nonce, sealed[_HEADER.size + _NONCE_BYTES :], header)
            except InvalidTag:
                raise KeyringError(
                    f"keyring term {term} does not open under this root key (wrong root key or tampered)"
                ) from None
        return cls(term_keys)

    @property
    def current_term(self) -> int:
        """The term new secrets are wrapped under (the highest one)."""
        return self._current

    @property
    def terms(self) -> frozenset[int]:
        """Every term this keyring can unwrap."""
        return frozenset(self._ciphers)

    def wrap(self, secret: bytes, *, purpose: str) -> bytes:
        """Wrap a secret under the current term, bound to `purpose`.

        Raises:
            KeyringError: `purpose` is empty.
        """
        header = _HEADER.pack(_VERSION, self._current)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, secret, header + _purpose_label(purpose))
        return header + nonce + sealed

    def unwrap(self, wrapped: bytes, *, purpose: str) -> bytes:
        """Unwrap a secret wrapped under any term still in the ring, for the same `purpose`.

        Raises:
            KeyringError: unknown format or term, truncation, tampering, or a different purpose.
        """
        label = _purpose_label(purpose)
        if len(wrapped) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES or wrapped[0] != _VERSION:
            raise KeyringError(_OPEN_FAILED)
        header = wrapped[: _HEADER.size]
        term = _HEADER.unpack(header)[1]
        cipher = self._ciphers.get(term)
        if cipher is None:
            raise KeyringError(f"wrapped secret names keyring term {term}, which is not in the keyring")
        nonce = wrapped[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, wrapped[_HEADER.size + _NONCE_BYTES :], header + label)
        except InvalidTag:
            raise KeyringError(_OPEN_FAILED) from None

    @staticmethod
    def term_of(wrapped: bytes) -> int:
        """The term a wrapped secret names, without opening it (to find what needs rewrapping).

        Raises:
            KeyringError: the bytes are not a wrapped secret of a known format.
        """
        if len(wrapped) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES or wrapped[0] != _VERSION:
            raise KeyringError(_OPEN_FAILED)
        term: int = _HEADER.unpack(wrapped[: _HEADER.size])[1]
        return term

    def rewrap(self, wrapped: bytes, *, purpose: str) -> bytes:
        """Re-wrap a secret under the current term (returns the input when it is already current).

        Raises:
            KeyringError: as `unwrap`.
        """
        if self.term_of(wrapped) == self._current:
            self.unwrap(wrapped, purpose=purpose)  # Still authenticate: never pass tampered bytes on.
            return wrapped
        return self.wrap(self.unwrap(wrapped, purpose=purpose), purpose=purpose)

    def reseal_terms(self, new_root_key: bytes) -> dict[int, bytes]:
        """Seal every term under a new root key (root key rotation); store the result atomically.

        Raises:
            KeyringError: the new root key is not 32 bytes.
        """
        return {term: self.seal_term(new_root_key, term, key) for term, key in sorted(self._keys.items())}
