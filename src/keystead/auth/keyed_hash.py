"""HMAC-SHA256 under a fixed key, prepared once: SigV4 verification's per-request MAC."""

from __future__ import annotations

import hashlib


class KeyedSha256:
    """HMAC-SHA256 under one fixed key, with its two padded-key hash states computed once (RFC 2104).

    `hmac.digest` rebuilds those states on every call and, being one OpenSSL call, releases the
    GIL around it; under load the database writer thread then takes the interpreter away from the
    event loop for a switch interval. Copying two prepared SHA-256 states costs less and keeps the
    GIL (hashlib releases it only for inputs of 2 KB or more; a string to sign is ~150 bytes).
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # RFC 2104: a key longer than the block is hashed first
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")  # a SigV4 signing key is 32 bytes
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
