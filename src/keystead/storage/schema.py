"""The current schema, as SQLAlchemy Core tables, and the column types both backends share.

These tables are what the repositories query. They must always equal what `migrations.py`
produces from an empty database; `tests/unit/storage/test_migrations.py` reflects a migrated
database and compares it with this module, so a change here without a migration fails a test.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

# Explicit constraint names keep the two backends' DDL identical and make later ALTERs nameable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends.

    PostgreSQL stores `timestamptz`. SQLite has no timestamp type, so the value is stored as
    SQLAlchemy's fixed-width ISO text in UTC, which also sorts and compares correctly as text.
    Naive datetimes are refused: a timestamp without a zone is a bug upstream, not a guess to make.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}; storage takes timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)  # type: ignore[no-any-return]
        return value.astimezone(timezone.utc)  # type: ignore[no-any-return]


class Blob(TypeDecorator[bytes]):
    """Opaque bytes (BLOB / bytea), always returned as `bytes`, whatever the driver hands back."""

    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes(value)


# Identifiers and names that are sorted or paged through compare by code point on both backends.
# PostgreSQL would otherwise use the database's locale collation (which ignores case and
# punctuation in most locales), so page order would differ between backends and between
# installations. SQLite's default collation is already binary and has no collation named "C".
Identifier = String().with_variant(String(collation="C"), "postgresql")

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (and so auto-incrementing).
AutoIncrementId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

keyring_terms = Table(
    "keyring_terms",
    metadata,
    Column("term", Integer, primary_key=True, autoincrement=False),
    Column("sealed", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Identifier, primary_key=True),
    Column("name", String, nullable=False),
    Column("email", String, nullable=False),
    Column("root_password_hash", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("root_principal_id", String, nullable=True),
    UniqueConstraint("email"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("user_name", Identifier, nullable=True),
    Column("secret_wrapped", Blob, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("last_used_service", String, nullable=True),
    Column("last_used_region", String, nullable=True),
    Index(None, "account_id", "user_name"),
)

keys = Table(
    "keys",
    metadata,
    Column("key_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Identifier, nullable=False),
    Column("description", Text, nullable=False),
    Column("key_spec", String, nullable=False),
    Column("key_usage", String, nullable=False),
    Column("origin", String, nullable=False),
    Column("key_manager", String, nullable=False),
    Column("key_state", String, nullable=False),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("deletion_date", UtcDateTime, nullable=True),
    Column("pending_window_days", Integer, nullable=True),
    Column("policy", Text, nullable=False),
    Column("multi_region", Boolean, nullable=False),
    Column("current_material_id", Blob, nullable=True),
    Column("rotation_enabled", Boolean, nullable=False),
    Column("rotation_period_days", Integer, nullable=True),
    Column("next_rotation_date", UtcDateTime, nullable=True),
    Column("valid_to", UtcDateTime, nullable=True),
    Column("expiration_model", String, nullable=True),
    Column("row_version", Integer, nullable=False),
    Index(None, "account_id", "region", "key_id"),
    # The background sweeps (deletions and rotations that are due) must not scan every key.
    Index(None, "deletion_date"),
    Index(None, "next_rotation_date"),
)

key_materials = Table(
    "key_materials",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("material_id", Blob, nullable=False),
    Column("wrapped", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("origin", String, nullable=False),
    Column("state", String, nullable=False),
    PrimaryKeyConstraint("key_id", "material_id"),
)

key_tags = Table(
    "key_tags",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("tag_key", Identifier, nullable=False),
    Column("tag_value", String, nullable=False),
    PrimaryKeyConstraint("key_id", "tag_key"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("account_id", Identifier, nullable=False),
    Column("region", Identifier, nullable=False),
    Column("alias_name", Identifier, nullable=False),
    Column("target_key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("last_updated_date", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "region", "alias_name"),
    Index(None, "target_key_id", "alias_name"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", AutoIncrementId, primary_key=True, autoincrement=True),
    Column("event_id", Identifier, nullable=False),
    Column("account_id", Identifier, nullable=True),
    Column("event_time", UtcDateTime, nullable=False),
    Column("event_source", String, nullable=False),
    Column("event_name", String, nullable=False),
    Column("payload", Text, nullable=False),
    UniqueConstraint("event_id"),
    Index(None, "account_id", "seq"),
)

# Declared VPC endpoints (migration 5). `policy_document` None means the default full-access
# policy; `row_version` is the counter other nodes poll to drop a cached endpoint policy.
vpc_endpoints = Table(
    "vpc_endpoints",
    metadata,
    Column("vpc_endpoint_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Identifier, nullable=False),
    Column("vpc_id", String, nullable=False),
    Column("service_name", String, nullable=False),
    Column("policy_document", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("row_version", Integer, nullable=False),
    Index(None, "account_id", "region", "vpc_endpoint_id"),
)

# --- IAM (migration 2) -------------------------------------------------------------------------
# Names are unique per account regardless of case, hence `name_lower`; what hangs off an entity
# (tags, inline policies, attachments, memberships) is keyed by its unique id.

iam_users = Table(
    "iam_users",
    metadata,
    Column("user_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("user_name", Identifier, nullable=False),
    Column("name_lower", Identifier, nullable=False),
    Column("path", Identifier, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("permissions_boundary", String, nullable=True),
    Column("password_last_used", UtcDateTime, nullable=True),
    UniqueConstraint("account_id", "name_lower"),
)

iam_groups = Table(
    "iam_groups",
    metadata,
    Column("group_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("group_name", Identifier, nullable=False),
    Column("name_lower", Identifier, nullable=False),
    Column("path", Identifier, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
)

iam_roles = Table(
    "iam_roles",
    metadata,
    Column("role_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("role_name", Identifier, nullable=False),
    Column("name_lower", Identifier, nullable=False),
    Column("path", Identifier, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("assume_role_policy", Text, nullable=False),
    Column("description", String, nullable=True),
    Column("max_session_duration", Integer, nullable=False),
    Column("permissions_boundary", String, nullable=True),
    UniqueConstraint("account_id", "name_lower"),
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", Identifier, ForeignKey("iam_groups.group_id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Identifier, ForeignKey("iam_users.user_id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("group_id", "user_id"),
    Index(None, "user_id"),
)

iam_entity_tags = Table(
    "iam_entity_tags",
    metadata,
    Column("entity_id", Identifier, nullable=False),
    Column("tag_key", Identifier, nullable=False),
    Column("tag_value", String, nullable=False),
    PrimaryKeyConstraint("entity_id", "tag_key"),
)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("entity_id", Identifier, nullable=False),
    Column("policy_name", Identifier, nullable=False),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("entity_id", "policy_name"),
)

iam_managed_policies = Table(
    "iam_managed_policies",
    metadata,
    Column("policy_arn", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("policy_id", Identifier, nullable=False),
    Column("policy_name", Identifier, nullable=False),
    Column("name_lower", Identifier, nullable=False),
    Column("path", Identifier, nullable=False),
    Column("description", String, nullable=True),
    Column("default_version_id", String, nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
    UniqueConstraint("policy_id"),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column(
        "policy_arn", Identifier, ForeignKey("iam_managed_policies.policy_arn", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version_id", Identifier, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("policy_arn", "version_id"),
)

# No foreign key to iam_managed_policies: AWS-managed policies live in code, not in the database.
iam_policy_attachments = Table(
    "iam_policy_attachments",
    metadata,
    Column("entity_id", Identifier, nullable=False),
    Column("account_id", Identifier, nullable=False),
    Column("policy_arn", Identifier, nullable=False),
    PrimaryKeyConstraint("entity_id", "policy_arn"),
    Index(None, "policy_arn"),
)

iam_login_profiles = Table(
    "iam_login_profiles",
    metadata,
    Column("user_id", Identifier, ForeignKey("iam_users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("password_hash", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_reset_required", Boolean, nullable=False),
)

iam_account_settings = Table(
    "iam_account_settings",
    metadata,
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), primary_key=True),
    Column("password_policy", Text, nullable=True),
    Column("account_alias", Identifier, nullable=True),
    UniqueConstraint("account_alias"),
)

iam_mfa_devices = Table(
    "iam_mfa_devices",
    metadata,
    Column("serial_number", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("seed_wrapped", Blob, nullable=False),
    Column("user_id", Identifier, nullable=True),
    Column("enabled_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_counter", Integer, nullable=True),
    Index(None, "account_id", "user_id"),
)

# KMS grants (migration 4). Operations and the constraint's context are JSON text; the indexes
# serve ListGrants (by key, by grantee), Name idempotency and ListRetirableGrants.
grants = Table(
    "grants",
    metadata,
    Column("grant_id", Identifier, primary_key=True),
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("region", Identifier, nullable=False),
    Column("issuing_account", Identifier, nullable=False),
    Column("name", String, nullable=True),
    Column("grantee_principal", Identifier, nullable=False),
    Column("retiring_principal", Identifier, nullable=True),
    Column("operations", Text, nullable=False),
    Column("constraint_type", String, nullable=True),
    Column("constraint_context", Text, nullable=True),
    Column("creation_date", UtcDateTime, nullable=False),
    Index(None, "key_id", "grant_id"),
    Index(None, "key_id", "name"),
    Index(None, "key_id", "grantee_principal", "grant_id"),
    Index(None, "retiring_principal", "region", "grant_id"),
)

# One row per key that ever had a grant: `version` is bumped by every grant change (other nodes
# poll it to refresh their in-memory grant index); `grant_count` enforces the per-key quota.
key_grant_states = Table(
    "key_grant_states",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("grant_count", Integer, nullable=False),
)

# Completed rotations of a key's material (migration 3): what ListKeyRotations reports.
key_rotations = Table(
    "key_rotations",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("material_id", Blob, nullable=False),
    Column("rotation_date", UtcDateTime, nullable=False),
    Column("rotation_type", String, nullable=False),
    PrimaryKeyConstraint("key_id", "material_id"),
    Index(None, "key_id", "rotation_date"),
)

# The last successful cryptographic operation per key (migration 3), flushed in batches.
key_last_usage = Table(
    "key_last_usage",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), primary_key=True),
    Column("operation", String, nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
    Column("request_id", String, nullable=False),
)

# The audit trail's hash chain (migration 6): one link per event, in commit order, and the head
# row that writers lock to extend it. See storage/audit_chain_repo.py for the link format.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("chain_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", Identifier, ForeignKey("audit_events.event_id"), nullable=False, unique=True),
    Column("link_hash", String, nullable=False),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("chain_seq", BigInteger, nullable=False),
    Column("link_hash", String, nullable=False),
    Column("legacy_max_seq", BigInteger, nullable=False),
)

# Ed25519 keys that sign the digests (private halves wrapped under the keyring), and the digests.
audit_signing_keys = Table(
    "audit_signing_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("public_key", Blob, nullable=False),
    Column("private_wrapped", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

audit_digests = Table(
    "audit_digests",
    metadata,
    Column("digest_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_chain_seq", BigInteger, nullable=False),
    Column("signing_key_id", Integer, ForeignKey("audit_signing_keys.key_id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("signature", Blob, nullable=False),
)

# STS token keys (each wrapped under the keyring with purpose sts-token-key); migration 7.
sts_token_keys = Table(
    "sts_token_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("key_wrapped", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# IAM OIDC identity providers (AssumeRoleWithWebIdentity); migration 7.
iam_oidc_providers = Table(
    "iam_oidc_providers",
    metadata,
    Column("provider_arn", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("url", String, nullable=False),
    Column("client_ids", Text, nullable=False),
    Column("thumbprints", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "url"),
)

# IAM SAML identity providers (tags in iam_entity_tags by provider ARN); migration 8.
iam_saml_providers = Table(
    "iam_saml_providers",
    metadata,
    Column("provider_arn", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", Identifier, nullable=False),
    Column("provider_uuid", Identifier, nullable=False),
    Column("metadata_document", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=True),
    UniqueConstraint("provider_uuid"),
    Index(None, "account_id"),
)

# Service-linked-role deletion tasks (DeleteServiceLinkedRole / ...DeletionStatus); migration 8.
iam_slr_deletion_tasks = Table(
    "iam_slr_deletion_tasks",
    metadata,
    Column("task_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("role_name", Identifier, nullable=False),
    Column("status", String, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# IAM instance profiles (tags in iam_entity_tags by profile id; role by id, no FK); migration 9.
iam_instance_profiles = Table(
    "iam_instance_profiles",
    metadata,
    Column("instance_profile_id", Identifier, primary_key=True),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("instance_profile_name", Identifier, nullable=False),
    Column("name_lower", Identifier, nullable=False),
    Column("path", Identifier, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("role_id", Identifier, nullable=True),
    UniqueConstraint("account_id", "name_lower"),
    Index(None, "role_id"),
)

# Replicas of multi-Region keys (migration 10): what AWS keeps per Region; the rest is the key row's.
key_replicas = Table(
    "key_replicas",
    metadata,
    Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("region", Identifier, nullable=False),
    Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
    Column("description", Text, nullable=False),
    Column("policy", Text, nullable=False),
    Column("key_state", String, nullable=False),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("tags", Text, nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("row_version", Integer, nullable=False),
    Column("deletion_date", UtcDateTime, nullable=True),  # migration 11
    Column("pending_window_days", Integer, nullable=True),  # migration 11
    PrimaryKeyConstraint("key_id", "region"),
    Index(None, "account_id", "region", "key_id"),
    Index(None, "deletion_date"),
)
