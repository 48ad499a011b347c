"""Signed digests of the audit chain, like CloudTrail's log file integrity validation.

A digest says "the chain up to position N ends in link hash H", signed with an Ed25519 key. Each
digest also names the previous digest's signature and end, so digests form their own chain: a
removed or re-signed digest breaks it. Digests are written periodically by the group-commit
writer (and by a timer when the server is idle), inside a transaction that holds the chain
head's lock, so concurrent writers (processes, nodes) never write two digests for one span.

The signing key's private half is stored wrapped under the keyring. Someone who can write the
database but does not hold the root key can neither sign new digests nor swap in a key of their
own: `verify` unwraps each stored private key and checks it matches the stored public key.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.signing import SigningKeyPair, public_key_of, sign
from keystead.errors import KeyringError
from keystead.storage import Tx
from keystead.storage.rows import AuditDigestRow, AuditSigningKeyRow

log = logging.getLogger(__name__)
DIGEST_FORMAT = "keystead-audit-digest/v1"
SIGNING_KEY_PURPOSE = WrapPurpose.AUDIT_DIGEST_SIGNING_KEY


def digest_body(
    digest_seq: int,
    created_at: datetime,
    previous: AuditDigestRow | None,
    last_chain_seq: int,
    last_link_hash: str,
    signing_key_id: int,
) -> str:
    """The canonical JSON text a digest signs."""
    body: dict[str, Any] = {
        "format": DIGEST_FORMAT,
        "digestSeq": digest_seq,
        "digestTime": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "previousDigestSignature": previous.signature.hex() if previous is not None else None,
        "previousLastChainSeq": previous.last_chain_seq if previous is not None else 0,
        "lastChainSeq": last_chain_seq,
        "lastLinkHash": last_link_hash,
        "signingKeyId": signing_key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def open_signing_key(keyring: Keyring, row: AuditSigningKeyRow) -> bytes:
    """The private key of a stored signing key, checked against its stored public key.

    Raises:
        KeyringError: the wrapped private key does not open, or belongs to another public key.
    """
    private = keyring.unwrap(row.private_wrapped, purpose=SIGNING_KEY_PURPOSE)
    if public_key_of(private) != row.public_key:
        raise KeyringError(f"audit signing key {row.key_id}: the stored public key is not its own")
    return private


@dataclass(slots=True)
class _CachedKey:
    key_id: int
    private_key: bytes


class DigestWriter:
    """Writes a signed digest of whatever the chain gained since the last one."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._key: _CachedKey | None = None

    def write(self, tx: Tx, now: datetime, *, min_interval_seconds: float = 0.0) -> AuditDigestRow | None:
        """Sign the chain up to its head, unless nothing is new or the last digest is too recent.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            KeyringError: the stored signing key does not open under this keyring.
        """
        head = tx.lock_audit_chain_head()
        latest = tx.latest_audit_digest()
        if latest is not None:
            if latest.last_chain_seq >= head.chain_seq:
                return None
            if (now - latest.created_at).total_seconds() < min_interval_seconds:
                return None
        elif head.chain_seq == 0:
            return None
        key = self._signing_key(tx, now)
        digest_seq = 1 if latest is None else latest.digest_seq + 1
        body = digest_body(digest_seq, now, latest, head.chain_seq, head.link_hash, key.key_id)
        row = AuditDigestRow(
            digest_seq=digest_seq,
            created_at=now,
            last_chain_seq=head.chain_seq,
            signing_key_id=key.key_id,
            body=body,
            signature=sign(key.private_key, body.encode("utf-8")),
        )
        tx.insert_audit_digest(row)
        return row

    def _signing_key(self, tx: Tx, now: datetime) -> _CachedKey:
        if self._key is not None:
            return self._key
        keys = tx.audit_signing_keys()
        if keys:
            newest = keys[-1]
            self._key = _CachedKey(newest.key_id, open_signing_key(self._keyring, newest))
            return self._key
        # The first digest creates the key. It is not cached here: if this transaction rolls
        # back, the key is gone too, and the next digest must not name it.
        pair = SigningKeyPair()
        wrapped = self._keyring.wrap(pair.private_key, purpose=SIGNING_KEY_PURPOSE)
        tx.insert_audit_signing_key(AuditSigningKeyRow(1, pair.public_key, wrapped, now))
        return _CachedKey(1, pair.private_key)
