"""Prove the stored audit trail is what was recorded: `keystead audit verify`.

Checks, in one pass over the chain (bounded memory; pages of PAGE events):
- every signing key's wrapped private half opens under the keyring and matches its public key;
- every digest's signature verifies, and digests chain to each other without gaps;
- the chain has no gap, every link recomputes from its event row, and the recomputed chain meets
  every digest's signed hash (so rewriting events and relinking everything after them is caught);
- each event row's indexed columns agree with its signed payload;
- the head names the last link, and nothing signed lies beyond it (truncation);
- no event row outside the chain was added after the chain began (insertion).

What it cannot prove: that events recorded after the newest digest were not cut off together
with a rewound head. Digests are written every few seconds to keep that window small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from keystead.audit.digest import open_signing_key
from keystead.crypto.keyring import Keyring
from keystead.crypto.signing import BadSignatureError, verify_signature
from keystead.errors import KeyringError
from keystead.storage import AuditEventRow, Database, Tx
from keystead.storage.audit_chain_repo import GENESIS_HASH, link_hash
from keystead.storage.rows import AuditDigestRow, AuditLinkRow

PAGE = 1000


class AuditTamperedError(Exception):
    """The stored trail differs from what was recorded; the message is the one-line reason."""


@dataclass(frozen=True, slots=True)
class VerifyReport:
    events: int
    digests: int
    unsigned_tail: int  # events after the newest digest (chained, not yet signed)


def verify_trail(db: Database, keyring: Keyring) -> VerifyReport:
    """Verify the whole audit trail in one read snapshot.

    Raises:
        AuditTamperedError: an event or digest was changed, removed or inserted, or a key replaced.
        StorageError: the database failed.
    """
    with db.reader() as tx:
        public_keys = _check_signing_keys(tx, keyring)
        digests = _check_digests(tx, public_keys)
        head = tx.audit_chain_head()
        signed_at = {d.last_chain_seq: d for d in digests}
        position, previous = _walk_chain(tx, signed_at)
        if position != head.chain_seq or previous != head.link_hash:
            raise AuditTamperedError(
                f"chain head names position {head.chain_seq} but the chain ends at {position}"
            )
        if digests and digests[-1].last_chain_seq > head.chain_seq:
            raise AuditTamperedError(
                f"events up to position {digests[-1].last_chain_seq} were signed "
                f"but the chain ends at {position}"
            )
        inserted = tx.list_unchained_audit_events(above_seq=head.legacy_max_seq, limit=1)
        if inserted:
            raise AuditTamperedError(f"event {inserted[0].event_id} is not in the chain (inserted)")
    last_signed = digests[-1].last_chain_seq if digests else 0
    return VerifyReport(events=position, digests=len(digests), unsigned_tail=position - last_signed)


def _check_signing_keys(tx: Tx, keyring: Keyring) -> dict[int, bytes]:
    public_keys: dict[int, bytes] = {}
    for row in tx.audit_signing_keys():
        try:
            open_signing_key(keyring, row)
        except (KeyringError, BadSignatureError):
            reason = f"audit signing key {row.key_id} was replaced or does not open"
            raise AuditTamperedError(reason) from None
        public_keys[row.key_id] = row.public_key
    return public_keys


def _check_digests(tx: Tx, public_keys: dict[int, bytes]) -> list[AuditDigestRow]:
    digests: list[AuditDigestRow] = []
    after = 0
    while page := tx.list_audit_digests(after_digest_seq=after, limit=PAGE):
        for digest in page:
            _check_digest(digest, digests[-1] if digests else None, public_keys)
            digests.append(digest)
        after = page[-1].digest_seq
    return digests


def _check_digest(
    digest: AuditDigestRow, previous: AuditDigestRow | None, public_keys: dict[int, bytes]
) -> None:
    expected_seq = 1 if previous is None else previous.digest_seq + 1
    if digest.digest_seq != expected_seq:
        raise AuditTamperedError(f"digest {expected_seq} is missing")
    public_key = public_keys.get(digest.signing_key_id)
    try:
        if public_key is None:
            raise BadSignatureError("unknown key")
        verify_signature(public_key, digest.body.encode("utf-8"), digest.signature)
    except BadSignatureError:
        raise AuditTamperedError(f"digest {digest.digest_seq} has an invalid signature") from None
    body = json.loads(digest.body)
    previous_signature = previous.signature.hex() if previous is not None else None
    previous_end = previous.last_chain_seq if previous is not None else 0
    if (
        body.get("digestSeq") != digest.digest_seq
        or body.get("lastChainSeq") != digest.last_chain_seq
        or body.get("previousDigestSignature") != previous_signature
        or body.get("previousLastChainSeq") != previous_end
    ):
        raise AuditTamperedError(f"digest {digest.digest_seq} does not follow digest {expected_seq - 1}")


def _walk_chain(tx: Tx, signed_at: dict[int, AuditDigestRow]) -> tuple[int, str]:
    position, previous = 0, GENESIS_HASH
    while page := tx.list_chained_audit_events(after_chain_seq=position, limit=PAGE):
        for link, event in page:
            if link.chain_seq != position + 1:
                gap = f"{position + 1}..{link.chain_seq - 1}"
                raise AuditTamperedError(f"events at chain positions {gap} were removed")
            previous = _check_link(link, event, previous)
            position = link.chain_seq
            digest = signed_at.get(position)
            if digest is not None and json.loads(digest.body)["lastLinkHash"] != previous:
                raise AuditTamperedError(
                    f"events up to chain position {position} differ from those signed "
                    f"by digest {digest.digest_seq}"
                )
    return position, previous


def _check_link(link: AuditLinkRow, event: AuditEventRow | None, previous: str) -> str:
    if event is None:
        raise AuditTamperedError(f"event {link.event_id} at chain position {link.chain_seq} was removed")
    recomputed = link_hash(previous, link.chain_seq, event.event_id, event.account_id, event.payload)
    if recomputed != link.link_hash:
        raise AuditTamperedError(f"event {event.event_id} at chain position {link.chain_seq} was changed")
    try:
        record = json.loads(event.payload)
    except ValueError:
        raise AuditTamperedError(f"event {event.event_id} is not valid JSON") from None
    if (
        record.get("eventID") != event.event_id
        or record.get("eventName") != event.event_name
        or record.get("eventSource") != event.event_source
        or record.get("recipientAccountId") != event.account_id
        or record.get("eventTime") != event.event_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    ):
        raise AuditTamperedError(f"event {event.event_id}: its indexed columns disagree with its record")
    return recomputed
