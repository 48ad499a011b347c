"""An obviously-correct model of one account's KMS keys, aliases, tags and ciphertexts.

The state machine in `test_key_lifecycle_state_machine.py` drives a live server and this model
side by side. Every model method answers "what must the server say?" — `None` for success or
the exact `Refusal` (AWS error code and message, kms.md §5 footnotes) — and applies the change
only when the operation succeeds. Nothing here talks to the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["symmetric", "sign", "hmac", "external"]
KINDS: tuple[Kind, ...] = ("symmetric", "sign", "hmac", "external")

ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
PENDING_IMPORT = "PendingImport"

# CreateKey arguments per kind (one asymmetric SIGN_VERIFY spec, one HMAC spec).
CREATE_ARGS: dict[Kind, dict[str, str]] = {
    "symmetric": {},
    "sign": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
    "hmac": {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
    "external": {"Origin": "EXTERNAL"},
}
KEY_SPEC: dict[Kind, str] = {
    "symmetric": "SYMMETRIC_DEFAULT", "sign": "ECC_NIST_P256", "hmac": "HMAC_256", "external": "SYMMETRIC_DEFAULT",
}
KEY_USAGE: dict[Kind, str] = {
    "symmetric": "ENCRYPT_DECRYPT", "sign": "SIGN_VERIFY", "hmac": "GENERATE_VERIFY_MAC", "external": "ENCRYPT_DECRYPT",
}
MAX_ON_DEMAND_ROTATIONS = 25


@dataclass(frozen=True)
class Refusal:
    """The error the server must answer with; `message=None` when only the code is pinned down."""

    code: str
    message: str | None = None


Outcome = Refusal | None


@dataclass
class ModelKey:
    key_id: str
    arn: str
    kind: Kind
    state: str
    rotation_enabled: bool = False
    on_demand_rotations: int = 0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return "EXTERNAL" if self.kind == "external" else "AWS_KMS"

    def state_error(self) -> Outcome:
        """Why a cryptographic operation is refused in this state (kms.md §5 footnotes 1, 3, 5)."""
        if self.state == ENABLED:
            return None
        if self.state == DISABLED:
            return Refusal("DisabledException", f"{self.arn} is disabled.")
        words = {PENDING_DELETION: "pending deletion", PENDING_IMPORT: "pending import"}[self.state]
        return Refusal("KMSInvalidStateException", f"{self.arn} is {words}.")

    def management_error(self) -> Outcome:
        """Tagging and aliasing are refused only while the key is pending deletion (footnote 3)."""
        if self.state == PENDING_DELETION:
            return self.state_error()
        return None

    def rotation_error(self) -> Outcome:
        """Rotation operations: key type first (footnotes 6, 7), then the key state (KMS-043)."""
        if self.kind == "external":
            return Refusal(
                "UnsupportedOperationException", f"{self.arn} origin is EXTERNAL which is not valid for this operation."
            )
        if self.kind != "symmetric":
            return Refusal(
                "UnsupportedOperationException",
                f"{self.arn} key spec is {KEY_SPEC[self.kind]} which is not valid for this operation.",
            )
        return self.state_error()


@dataclass(frozen=True)
class Ciphertext:
    blob: bytes
    key_id: str
    plaintext: bytes
    context: dict[str, str]


@dataclass
class KmsModel:
    """One account's keys, aliases (name → key id) and the ciphertexts produced so far."""

    keys: dict[str, ModelKey] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    ciphertexts: list[Ciphertext] = field(default_factory=list)

    def add_key(self, key_id: str, arn: str, kind: Kind) -> ModelKey:
        key = ModelKey(key_id, arn, kind, PENDING_IMPORT if kind == "external" else ENABLED)
        self.keys[key_id] = key
        return key

    def keys_of(self, *kinds: Kind) -> list[str]:
        # Creation order, not key-id order: ids are random, and hypothesis replays need the same
        # index to pick the same key.
        return [k.key_id for k in self.keys.values() if k.kind in kinds]

    def set_enabled(self, key: ModelKey, enabled: bool) -> Outcome:
        """EnableKey / DisableKey: only Enabled and Disabled keys change (footnotes 3, 5)."""
        if key.state not in (ENABLED, DISABLED):
            return key.state_error()
        key.state = ENABLED if enabled else DISABLED
        return None

    def schedule_deletion(self, key: ModelKey) -> Outcome:
        if key.state == PENDING_DELETION:
            return key.state_error()
        key.state = PENDING_DELETION
        return None

    def cancel_deletion(self, key: ModelKey) -> Outcome:
        """CancelKeyDeletion returns a key to Disabled, or to PendingImport without material (KMS-041)."""
        if key.state != PENDING_DELETION:
            return Refusal("KMSInvalidStateException", f"{key.arn} is not pending deletion.")
        key.state = PENDING_IMPORT if key.kind == "external" else DISABLED
        return None

    def create_alias(self, name: str, alias_arn: str, key: ModelKey) -> Outcome:
        # Keystead checks the target's state before the name's uniqueness.
        if (refused := key.management_error()) is not None:
            return refused
        if name in self.aliases:
            return Refusal("AlreadyExistsException", f"An alias with the name {alias_arn} already exists")
        self.aliases[name] = key.key_id
        return None

    def update_alias(self, name: str, alias_arn: str, key: ModelKey) -> Outcome:
        """UpdateAlias: the alias must exist, the new key must match the old key's type and usage
        (symmetric vs not, and KeyUsage), and must not be pending deletion (footnote 10)."""
        if name not in self.aliases:
            return Refusal("NotFoundException", f"Alias '{alias_arn}' is not found.")
        current = self.keys[self.aliases[name]]
        same_type = (KEY_SPEC[current.kind] == "SYMMETRIC_DEFAULT") == (KEY_SPEC[key.kind] == "SYMMETRIC_DEFAULT")
        if not same_type or KEY_USAGE[current.kind] != KEY_USAGE[key.kind]:
            return Refusal(
                "ValidationException",
                f"{key.arn} is not the same key type and key usage as the key the alias currently points to.",
            )
        if (refused := key.management_error()) is not None:
            return refused
        self.aliases[name] = key.key_id
        return None

    def delete_alias(self, name: str, alias_arn: str) -> Outcome:
        if name not in self.aliases:
            return Refusal("NotFoundException", f"Alias '{alias_arn}' is not found.")
        del self.aliases[name]
        return None

    def tag(self, key: ModelKey, tag_key: str, value: str) -> Outcome:
        if (refused := key.management_error()) is not None:
            return refused
        key.tags[tag_key] = value
        return None

    def untag(self, key: ModelKey, tag_key: str) -> Outcome:
        if (refused := key.management_error()) is not None:
            return refused
        key.tags.pop(tag_key, None)
        return None

    def set_rotation(self, key: ModelKey, enabled: bool) -> Outcome:
        if (refused := key.rotation_error()) is not None:
            return refused
        key.rotation_enabled = enabled
        return None

    def rotate_on_demand(self, key: ModelKey) -> Outcome:
        if (refused := key.rotation_error()) is not None:
            return refused
        if key.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS:
            return Refusal("LimitExceededException")
        key.on_demand_rotations += 1
        return None

    def decrypt(self, ciphertext: Ciphertext, named_key_id: str | None) -> Outcome:
        """Decrypt of a symmetric blob. A named key (by id, ARN or alias) that is not an encryption
        key is checked as the decrypting key: its state, then its usage. Any other named key must be
        the blob's key, else IncorrectKeyException. Then the blob's key must be Enabled."""
        named = self.keys[named_key_id] if named_key_id is not None else None
        if named is not None and KEY_USAGE[named.kind] != "ENCRYPT_DECRYPT":
            return named.state_error() or Refusal(
                "InvalidKeyUsageException",
                f"{named.arn} key usage is {KEY_USAGE[named.kind]} which is not valid for Decrypt.",
            )
        if named_key_id is not None and named_key_id != ciphertext.key_id:
            return Refusal(
                "IncorrectKeyException",
                "The key ID in the request does not identify a CMK that can perform this operation.",
            )
        return self.keys[ciphertext.key_id].state_error()
