"""Who can use a KMS key, and why one principal can or cannot: the access analyzer's entry points.

[DG:determining-access] `who_can` enumerates every candidate (see `snapshot`), asks the policy
engine about each candidate and action with the unknown condition keys bounded (see `relax`,
`assess`), follows role-assumption chains (`chains`), and adds findings (`findings`).
`explain` evaluates one concrete request exactly and returns the engine's Decision with every
statement that matched. Both read the database and so block: call them off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keystead.analysis.assess import assess, bound_all
from keystead.analysis.chains import AssumerIndex
from keystead.analysis.explain import Explanation, explain_request
from keystead.analysis.findings import findings
from keystead.analysis.model import AccessReport, Candidate, PrincipalAccess
from keystead.analysis.snapshot import Snapshot, load_snapshot
from keystead.errors import ValidationError
from keystead.storage import Database
from keystead.storage.rows import KeyRow

# The actions authorized against a key (kms.md §2), in the order reports list them.
_MANAGEMENT = (
    "DescribeKey", "EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion",
    "UpdateKeyDescription", "GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies", "CreateGrant", "ListGrants",
    "RevokeGrant", "TagResource", "UntagResource", "ListResourceTags", "EnableKeyRotation",
    "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations",
    "GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial", "ReplicateKey",
    "UpdatePrimaryRegion",
)
_BY_USAGE: dict[str, tuple[str, ...]] = {
    "ENCRYPT_DECRYPT": ("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                        "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                        "GenerateDataKeyPairWithoutPlaintext", "GetPublicKey"),
    "SIGN_VERIFY": ("Sign", "Verify", "GetPublicKey"),
    "GENERATE_VERIFY_MAC": ("GenerateMac", "VerifyMac"),
    "KEY_AGREEMENT": ("DeriveSharedSecret", "GetPublicKey"),
}
KEY_ACTIONS = frozenset(f"kms:{a}" for a in _MANAGEMENT + tuple(a for v in _BY_USAGE.values() for a in v))
# Actions another account's principals may perform with the key ARN (kms.md §2 "Cross-account").
CROSS_ACCOUNT = frozenset(f"kms:{a}" for a in (
    "DescribeKey", "Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "Sign", "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "GetPublicKey", "CreateGrant",
    "ListGrants", "RevokeGrant", "GetKeyRotationStatus",
))
_CANONICAL = {a.lower(): a for a in KEY_ACTIONS}
_NOTES = {
    "AccountPattern": "Any principal of this account (not on this server) whose own identity policies allow it.",
    "Anyone": "Any AWS principal whose own account's identity policies allow it.",
    "ExternalPrincipal": "Not on this server: only if its own identity policies allow it.",
    "Role": "Through any session of the role; session policies can only narrow this.",
}


def actions_for(key: KeyRow) -> tuple[str, ...]:
    """The key actions that make sense for the key's usage, management actions included."""
    usage = _BY_USAGE.get(key.key_usage, ())
    if key.key_usage == "ENCRYPT_DECRYPT" and key.key_spec != "SYMMETRIC_DEFAULT":
        usage = ("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey")
    elif key.key_usage == "ENCRYPT_DECRYPT":
        usage = tuple(a for a in usage if a != "GetPublicKey")
    return tuple(f"kms:{a}" for a in _MANAGEMENT[:1] + usage + _MANAGEMENT[1:])


def canonical_action(action: str) -> str:
    """The action as the reports spell it.

    Raises:
        ValidationError: not an action authorized against a KMS key.
    """
    found = _CANONICAL.get(action.lower())
    if found is None:
        raise ValidationError(f"{action} is not an action that is authorized against a KMS key.")
    return found


@dataclass(frozen=True, slots=True)
class AccessAnalyzer:
    db: Database

    def who_can(self, key: str, action: str | None = None) -> AccessReport:
        """Every principal (or pattern) that can perform each action on the key, and how (blocking).

        Raises:
            NotFoundError: no such key.
            InvalidArnError: a malformed key ARN.
            ValidationError: `action` is not a key action.
        """
        snapshot = load_snapshot(self.db, key)
        actions = (canonical_action(action),) if action else actions_for(snapshot.key.row)
        assumers = AssumerIndex(snapshot)
        entries = [e for c in snapshot.candidates if (e := _principal_access(snapshot, c, actions, assumers))]
        row = snapshot.key.row
        notes = ["SCPs, VPC endpoint policies and session policies can only narrow this access; "
                 "they are not applied here."]
        if row.key_state != "Enabled":
            notes.append(f"The key is {row.key_state}: cryptographic operations fail whatever the permissions.")
        return AccessReport(snapshot.key.arn, row.key_state, row.account_id, actions, tuple(entries),
                             findings(snapshot.key, entries, actions), tuple(notes))

    def explain(self, principal: str, action: str, key: str, context: Mapping[str, Any]) -> Explanation:
        """The engine's exact decision for one request, with every statement that matched (blocking).

        Raises:
            NotFoundError: no such key, or a principal ARN that names nothing.
            InvalidArnError: a malformed key ARN.
            ValidationError: `action` is not a key action.
        """
        snapshot = load_snapshot(self.db, key)
        return explain_request(snapshot, principal, canonical_action(action), context)


def _principal_access(
    snapshot: Snapshot, candidate: Candidate, actions: tuple[str, ...], assumers: AssumerIndex
) -> PrincipalAccess | None:
    key = snapshot.key
    bounded = bound_all(candidate, key.policy)
    same_account = candidate.account_id == key.row.account_id
    found = tuple(
        a for action in actions
        if (same_account or action in CROSS_ACCOUNT) and (a := assess(candidate, action, key, bounded)) is not None
    )
    if not found:
        return None
    chains = tuple(assumers.chains(candidate.role_arn)) if candidate.role_arn else ()
    note = _NOTES.get(candidate.kind)
    return PrincipalAccess(candidate.label, candidate.kind, candidate.account_id, found, chains,
                           (note,) if note else ())
