"""Rows: the immutable values the storage layer reads and writes.

Field names match the column names in `schema.py`, so a result row maps onto its dataclass by
name. Timestamps are timezone-aware UTC. Wrapped secrets are opaque bytes sealed by `crypto/`
before they get here; they are still kept out of `repr` so that they never reach a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: str
    name: str
    email: str
    root_password_hash: str | None = field(repr=False)
    created_at: datetime
    root_principal_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccessKeyRow:
    """A long-term access key; `user_name` None means the account's root user."""

    access_key_id: str
    account_id: str
    user_name: str | None
    secret_wrapped: bytes = field(repr=False)
    status: str  # "Active" | "Inactive"
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A KMS key's metadata. The key material lives in `KeyMaterialRow`s, wrapped."""

    key_id: str
    account_id: str
    region: str
    description: str
    key_spec: str
    key_usage: str
    origin: str
    key_manager: str
    key_state: str
    creation_date: datetime
    deletion_date: datetime | None
    pending_window_days: int | None
    policy: str  # the key policy document, JSON text
    multi_region: bool
    current_material_id: bytes | None
    rotation_enabled: bool
    rotation_period_days: int | None
    next_rotation_date: datetime | None
    valid_to: datetime | None
    expiration_model: str | None
    row_version: int = 1  # bumped by every update; the optimistic-concurrency check compares it


@dataclass(frozen=True, slots=True)
class KeyMaterialRow:
    key_id: str
    material_id: bytes
    wrapped: bytes = field(repr=False)
    created_at: datetime
    origin: str  # "AWS_KMS" | "EXTERNAL" | ...
    state: str  # the material's lifecycle state, owned by keystore/


@dataclass(frozen=True, slots=True)
class AliasRow:
    account_id: str
    region: str
    alias_name: str  # with its "alias/" prefix
    target_key_id: str
    creation_date: datetime
    last_updated_date: datetime


@dataclass(frozen=True, slots=True)
class AuditEventRow:
    """One CloudTrail-shaped event; `seq` is assigned by the database on append."""

    event_id: str
    account_id: str | None
    event_time: datetime
    event_source: str
    event_name: str
    payload: str  # the whole event, JSON text
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class VpcEndpointRow:
    """A declared VPC endpoint; `policy_document` None is the default full-access policy."""

    vpc_endpoint_id: str
    account_id: str
    region: str
    vpc_id: str
    service_name: str
    policy_document: str | None
    created_at: datetime
    updated_at: datetime
    row_version: int = 1


@dataclass(frozen=True, slots=True)
class GrantRow:
    """A KMS grant. `operations` is a JSON list; `constraint_context` a JSON object or None."""

    grant_id: str
    key_id: str
    region: str
    issuing_account: str
    name: str | None
    grantee_principal: str
    retiring_principal: str | None
    operations: str
    constraint_type: str | None  # "EncryptionContextEquals" | "EncryptionContextSubset" | None
    constraint_context: str | None
    creation_date: datetime


@dataclass(frozen=True, slots=True)
class KeyRotationRow:
    """One completed rotation: `material_id` became the key's current material at `rotation_date`."""

    key_id: str
    material_id: bytes
    rotation_date: datetime
    rotation_type: str  # "AUTOMATIC" | "ON_DEMAND"


@dataclass(frozen=True, slots=True)
class KeyLastUsageRow:
    key_id: str
    operation: str  # the KMS operation name, e.g. "Encrypt"
    used_at: datetime
    request_id: str


# --- IAM (migration 2) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IamUserRow:
    user_id: str  # AIDA...
    account_id: str
    user_name: str
    name_lower: str
    path: str
    created_at: datetime
    permissions_boundary: str | None = None  # a managed policy ARN
    password_last_used: datetime | None = None


@dataclass(frozen=True, slots=True)
class IamGroupRow:
    group_id: str  # AGPA...
    account_id: str
    group_name: str
    name_lower: str
    path: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IamRoleRow:
    role_id: str  # AROA...
    account_id: str
    role_name: str
    name_lower: str
    path: str
    created_at: datetime
    assume_role_policy: str  # the trust policy, JSON text as submitted
    description: str | None
    max_session_duration: int
    permissions_boundary: str | None = None


@dataclass(frozen=True, slots=True)
class ManagedPolicyRow:
    """A customer managed policy; its documents are `PolicyVersionRow`s."""

    policy_arn: str
    account_id: str
    policy_id: str  # ANPA...
    policy_name: str
    name_lower: str
    path: str
    description: str | None
    default_version_id: str  # "v1", "v2", ...
    next_version: int  # version numbers are never reused
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyVersionRow:
    policy_arn: str
    version_id: str
    document: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginProfileRow:
    user_id: str
    password_hash: str = field(repr=False)
    created_at: datetime
    password_reset_required: bool


@dataclass(frozen=True, slots=True)
class MfaDeviceRow:
    """A virtual MFA device; `user_id` None while it is not enabled for a user."""

    serial_number: str  # arn:aws:iam::<acct>:mfa<path><name>
    account_id: str
    seed_wrapped: bytes = field(repr=False)
    user_id: str | None
    enabled_at: datetime | None
    created_at: datetime
    last_counter: int | None = None  # the last accepted TOTP step: a code is never accepted twice


@dataclass(frozen=True, slots=True)
class AuditLinkRow:
    """One event's place in the audit hash chain (see audit_chain_repo.link_hash)."""

    chain_seq: int
    event_id: str
    link_hash: str


@dataclass(frozen=True, slots=True)
class AuditChainHeadRow:
    """The last link of the audit chain; `legacy_max_seq` bounds the events stored before it existed."""

    chain_seq: int
    link_hash: str
    legacy_max_seq: int


@dataclass(frozen=True, slots=True)
class AuditSigningKeyRow:
    """An Ed25519 digest signing key: the public half in clear, the private half keyring-wrapped."""

    key_id: int
    public_key: bytes
    private_wrapped: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditDigestRow:
    """A signed digest: `body` (canonical JSON) covers the chain up to `last_chain_seq`."""

    digest_seq: int
    created_at: datetime
    last_chain_seq: int
    signing_key_id: int
    body: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class StsTokenKeyRow:
    """A token key that seals STS session tokens, wrapped under the keyring."""

    key_id: int
    key_wrapped: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OidcProviderRow:
    provider_arn: str  # arn:aws:iam::<acct>:oidc-provider/<host/path>
    account_id: str
    url: str  # host/path, without https://
    client_ids: str  # JSON list
    thumbprints: str  # JSON list
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SamlProviderRow:
    provider_arn: str  # arn:aws:iam::<acct>:saml-provider/<name>
    account_id: str
    name: str
    provider_uuid: str
    metadata_document: str
    created_at: datetime
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class SlrDeletionTaskRow:
    """A DeleteServiceLinkedRole task (id task/aws-service-role/<service>/<role>/<uuid>)."""

    task_id: str
    account_id: str
    role_name: str
    status: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InstanceProfileRow:
    """An IAM instance profile (AIPA...) and the one role it may hold."""

    instance_profile_id: str
    account_id: str
    instance_profile_name: str
    name_lower: str
    path: str
    created_at: datetime
    role_id: str | None = None


@dataclass(frozen=True, slots=True)
class KeyReplicaRow:
    """A replica of a multi-Region key in another Region: the per-Region part of a key (migration 10)."""

    key_id: str
    region: str
    account_id: str
    description: str
    policy: str
    key_state: str
    creation_date: datetime
    tags: str  # JSON object, tag key -> value
    is_primary: bool  # this Region became the primary through UpdatePrimaryRegion
    row_version: int = 1
    deletion_date: datetime | None = None  # set while PendingDeletion (migration 11)
    pending_window_days: int | None = None
