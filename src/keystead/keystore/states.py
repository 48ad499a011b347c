"""Which key states allow which operations, and the error each refusal raises (kms.md §5)."""

from __future__ import annotations

from keystead.errors import DisabledError, KeysteadError, KMSInvalidStateError

ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
# A multi-Region primary scheduled for deletion while it still has replicas (kms.md §5).
PENDING_REPLICA_DELETION = "PendingReplicaDeletion"
PENDING_IMPORT = "PendingImport"
UNAVAILABLE = "Unavailable"


def check_usable(key_arn: str, key_state: str) -> None:
    """Cryptographic operations need an Enabled key.

    Raises:
        DisabledError: the key is disabled.
        KMSInvalidStateError: the key is pending deletion, pending import or unavailable.
    """
    if key_state == ENABLED:
        return
    raise _state_error(key_arn, key_state)


def check_can_change_enablement(key_arn: str, key_state: str) -> None:
    """EnableKey and DisableKey work on Enabled and Disabled keys only.

    Raises:
        KMSInvalidStateError: the key is pending deletion or pending import.
    """
    if key_state in (ENABLED, DISABLED, UNAVAILABLE):
        return
    raise _state_error(key_arn, key_state)


def _state_error(key_arn: str, key_state: str) -> KeysteadError:
    if key_state == DISABLED:
        return DisabledError(f"{key_arn} is disabled.")
    words = {
        PENDING_DELETION: "pending deletion",
        PENDING_REPLICA_DELETION: "pending replica deletion",
        PENDING_IMPORT: "pending import",
        UNAVAILABLE: "unavailable",
        "Creating": "creating",
        "Updating": "updating",
    }
    return KMSInvalidStateError(f"{key_arn} is {words.get(key_state, key_state)}.")
