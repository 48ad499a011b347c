"""What every KMS operation module shares: the dependencies, key lookup, and how a key looks
to authorization (ResourceAccess with its condition keys) and to clients (KeyMetadata).

Member names are snake_case here; protocol/ maps them to and from the wire.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.errors import NotFoundError, UnsupportedOperationError
from keystead.keystore import specs
from keystead.keystore.asymmetric import AsymmetricKeys
from keystead.keystore.grant_service import GrantService
from keystead.keystore.keys import KeyRef, KeyService, key_arn_of
from keystead.keystore.lifecycle_services import LifecycleServices
from keystead.keystore.policies import DEFAULT_POLICY_NAME
from keystead.storage import KeyRow

KEY_RESOURCE_TYPE = "AWS::KMS::Key"
DEFAULT_LIST_LIMIT = 100
# What a multi-Region replica supports here: reads, cryptography, UpdatePrimaryRegion, and the
# changes to its per-Region properties (state, policy, description, tags), and its deletion.
_REPLICA_OPERATIONS = frozenset({
    "DescribeKey", "GetKeyPolicy", "ListKeyPolicies", "GetPublicKey", "UpdatePrimaryRegion",
    "ScheduleKeyDeletion", "CancelKeyDeletion",
    "EnableKey", "DisableKey", "PutKeyPolicy", "UpdateKeyDescription",
    "TagResource", "UntagResource", "ListResourceTags",
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify", "GenerateMac",
    "VerifyMac", "DeriveSharedSecret",
})
Params = dict[str, Any]
Result = dict[str, Any]
# validate_key_policy(ctx, text, key: ResourceAccess | None, bypass_lockout) -> None
PolicyValidator = Callable[[RequestContext, str, ResourceAccess | None, bool], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class KmsDeps:
    """The domain services KMS handlers use, built once by the composition root."""

    keys: KeyService
    validate_key_policy: PolicyValidator
    # Optional only so compositions that need no asymmetric keys (unit tests) stay short.
    asymmetric: AsymmetricKeys | None = None
    # Aliases, tags, deletion, rotation, import, last usage; their groups register only with it.
    lifecycle: LifecycleServices | None = None
    # Grants (CreateGrant ... RevokeGrant); the group registers only with it.
    grants: GrantService | None = None
    # The Regions this server serves: where ReplicateKey may place a replica.
    regions: tuple[str, ...] = ("us-east-1",)
    # Told the account id after a KMS request changed IAM there (ReplicateKey creating KMS's
    # service-linked role), so that cached identity policies of the account are dropped.
    iam_changed: Callable[[str], None] | None = None

    @property
    def key_pairs(self) -> AsymmetricKeys:
        """The asymmetric/HMAC key service (the composition root always provides it)."""
        if self.asymmetric is None:
            raise RuntimeError("KmsDeps.asymmetric was not provided")
        return self.asymmetric


async def resolve_key(deps: KmsDeps, ctx: RequestContext, key_id: str, *, allow_alias: bool = True) -> KeyRef:
    """The key a KeyId names, in the caller's account and the request's region.

    Raises:
        NotFoundError, InvalidArnError: no such key (see KeyService.resolve).
        UnsupportedOperationError: an operation this server cannot yet apply to a multi-Region
            replica (their changes would land on the key row), or deleting a multi-Region key
            whose primary Region moved away from the Region that holds the stored key row.
    """
    ref = await deps.keys.resolve(
        key_id, account_id=ctx.principal.account_id, region=ctx.region, allow_alias=allow_alias
    )
    operation = ctx.call.operation
    if ref.home is not None and operation not in _REPLICA_OPERATIONS:
        raise UnsupportedOperationError(f"{operation} is not supported on multi-Region replica keys by this server.")
    # The stored key row holds the shared properties of every Region: it may go (PendingDeletion,
    # then the sweep) only while it is the primary; a replica row may go whenever it is a replica.
    stored_row_is_primary = (ref.home is None) == (ref.multi_region_key_type == "PRIMARY")
    if ref.replicas and operation == "ScheduleKeyDeletion" and not stored_row_is_primary:
        raise UnsupportedOperationError(
            f"Deleting {ref.arn} after UpdatePrimaryRegion moved its primary Region "
            "is not supported by this server."
        )
    return ref


def key_resource(ref: KeyRef) -> ResourceAccess:
    """The key as authorization sees it, with the condition keys that describe it."""
    key = ref.key
    context: dict[str, str | list[str]] = {
        "aws:ResourceAccount": key.account_id,
        "kms:KeySpec": key.key_spec,
        "kms:KeyUsage": key.key_usage,
        "kms:KeyOrigin": key.origin,
        "kms:KeyManager": key.key_manager,
        "kms:MultiRegion": "true" if key.multi_region else "false",
    }
    key_type = ref.multi_region_key_type
    if key_type is not None:
        context["kms:MultiRegionKeyType"] = key_type
    for tag_key, tag_value in ref.tags.items():
        context[f"aws:ResourceTag/{tag_key}"] = tag_value
    if ref.aliases:
        context["kms:ResourceAliases"] = list(ref.aliases)
    if ref.alias_arn is not None:
        context["kms:RequestAlias"] = ref.alias_arn.split(":", 5)[5]
    return ResourceAccess(ref.arn, key.account_id, KEY_RESOURCE_TYPE, key.policy, context=context)


def key_metadata(key: KeyRow, ref: KeyRef | None = None) -> Result:
    """DescribeKey's KeyMetadata for a key row (`ref`, when given, knows a multi-Region key's replicas)."""
    return {
        "aws_account_id": key.account_id,
        "key_id": key.key_id,
        "arn": key_arn_of(key),
        "creation_date": key.creation_date,
        "enabled": key.key_state == "Enabled",
        "description": key.description,
        "key_usage": key.key_usage,
        "key_state": key.key_state,
        "deletion_date": key.deletion_date,
        "valid_to": key.valid_to,
        "origin": key.origin,
        "expiration_model": key.expiration_model,
        "key_manager": key.key_manager,
        "customer_master_key_spec": key.key_spec,
        "key_spec": key.key_spec,
        "encryption_algorithms": specs.encryption_algorithms(key.key_spec, key.key_usage),
        "signing_algorithms": specs.signing_algorithms(key.key_spec, key.key_usage),
        "mac_algorithms": specs.mac_algorithms(key.key_spec, key.key_usage),
        "key_agreement_algorithms": specs.key_agreement_algorithms(key.key_spec, key.key_usage),
        "multi_region": key.multi_region,
        "multi_region_configuration": (ref or KeyRef(key, key_arn_of(key))).multi_region_configuration,
        "pending_deletion_window_in_days": key.pending_window_days,
        "current_key_material_id": key.current_material_id.hex() if key.current_material_id else None,
    }


def check_policy_name(name: str | None) -> None:
    if name is not None and name != DEFAULT_POLICY_NAME:
        raise NotFoundError(f"No such policy exists: {name}")


def encryption_context_keys(context: dict[str, str], algorithm: str | None = None) -> dict[str, str | list[str]]:
    """The kms:EncryptionContext* and kms:EncryptionAlgorithm condition keys of a request."""
    keys: dict[str, str | list[str]] = {f"kms:EncryptionContext:{k}": v for k, v in context.items()}
    keys["kms:EncryptionContextKeys"] = list(context)
    keys["kms:EncryptionAlgorithm"] = algorithm or "SYMMETRIC_DEFAULT"
    return keys
