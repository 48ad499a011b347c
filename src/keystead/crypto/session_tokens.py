"""The sealed STS session token: a self-contained, authenticated and encrypted claims blob.

Any node holding the token keys can open a token without a database round trip (DESIGN.md §4).
The claims (JSON, chosen by the identity layer) are compressed and sealed with AES-256-GCM under
one numbered token key; the header is authenticated as AAD, so a token cannot be moved to another
key or format version.

Format (big-endian), then standard base64 for the wire:

    token : 0x01 || key_id:u32 || nonce:12 || AES-256-GCM(zlib(claims)) || tag:16
            AAD = "keystead/sts-session-token" || 0x01 || key_id:u32

Every failure to open — bad base64, truncation, unknown version, unknown key, tampering — is the
same `SessionTokenError`, so the caller learns nothing about why (Fernet's `InvalidToken`).
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import zlib
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["TOKEN_KEY_BYTES", "SessionTokenError", "new_token_key", "open_token", "seal_token", "token_key_id"]

TOKEN_KEY_BYTES = 32
_VERSION = 0x01
_HEADER = struct.Struct(">BI")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_AAD_LABEL = b"keystead/sts-session-token"
_MAX_TOKEN_CHARS = 16_384  # far above any token we issue; refuse absurd inputs before decoding
_MAX_CLAIMS_BYTES = 65_536  # a decompression bomb cannot grow past this


class SessionTokenError(Exception):
    """A session token that does not open: malformed, unknown key, or tampered (never says which)."""


def new_token_key() -> bytes:
    """A fresh random token key (to be stored wrapped under the keyring)."""
    return os.urandom(TOKEN_KEY_BYTES)


def seal_token(claims: bytes, key_id: int, key: bytes, *, label: bytes = _AAD_LABEL) -> str:
    """Seal claims under token key `key_id`; the result is the wire session token.

    `label` separates domains: a blob sealed under one label never opens under another (STS
    authorization messages share the token keys but not the label).

    Raises:
        ValueError: a key that is not 32 bytes or a key id outside 1..2**32-1.
    """
    if len(key) != TOKEN_KEY_BYTES or not 0 < key_id <= 0xFFFFFFFF:
        raise ValueError("a token key is 32 bytes under a key id in 1..2**32-1")
    header = _HEADER.pack(_VERSION, key_id)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, zlib.compress(claims, 9), label + header)
    return base64.b64encode(header + nonce + sealed).decode("ascii")


def _decode(token: str) -> bytes:
    if len(token) > _MAX_TOKEN_CHARS:
        raise SessionTokenError()
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SessionTokenError() from None
    if len(raw) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES or raw[0] != _VERSION:
        raise SessionTokenError()
    return raw


def token_key_id(token: str) -> int:
    """The token key a token names, read without opening it (to fetch an unknown key).

    Raises:
        SessionTokenError: not a token of a known format.
    """
    key_id: int = _HEADER.unpack(_decode(token)[: _HEADER.size])[1]
    return key_id


def open_token(token: str, key_for: Callable[[int], bytes | None], *, label: bytes = _AAD_LABEL) -> bytes:
    """The claims of a token, authenticated; `key_for` maps a key id to its key (None: unknown).

    Raises:
        SessionTokenError: malformed, unknown key, tampered or oversized (one error for all).
    """
    raw = _decode(token)
    header = raw[: _HEADER.size]
    key = key_for(_HEADER.unpack(header)[1])
    if key is None or len(key) != TOKEN_KEY_BYTES:
        raise SessionTokenError()
    nonce = raw[_HEADER.size : _HEADER.size + _NONCE_BYTES]
    try:
        compressed = AESGCM(key).decrypt(nonce, raw[_HEADER.size + _NONCE_BYTES :], label + header)
        inflater = zlib.decompressobj()
        claims = inflater.decompress(compressed, _MAX_CLAIMS_BYTES)
    except (InvalidTag, zlib.error):
        raise SessionTokenError() from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise SessionTokenError()
    return claims
