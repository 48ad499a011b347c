"""Versioned schema migrations, in code, recorded in `schema_migrations`.

Each migration is a function of an open connection, applied inside the one migrating
transaction. Migrations are append-only: a released migration is never edited, because some
database already ran it. So the tables of version 1 are spelled out here, frozen, rather than
borrowed from `schema.py` (which always describes the latest version and will drift from v1).

Two processes may migrate at once (several workers starting together, two nodes rolling out).
The runner takes a database-wide lock first: SQLite's `BEGIN IMMEDIATE` (the caller's write
transaction) or a PostgreSQL transaction-scoped advisory lock. The loser waits, then finds the
work done and applies nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)

from keystead.storage import migration_v2_iam, migration_v3_kms_lifecycle, schema
from keystead.storage import migration_v5_vpc_endpoints
from keystead.storage import migration_v4_grants
from keystead.storage import migration_v6_audit_chain
from keystead.storage import migration_v7_sts
from keystead.storage import migration_v8_iam_extras
from keystead.storage import migration_v9_instance_profiles
from keystead.storage import migration_v10_multi_region
from keystead.storage import migration_v11_replica_deletion
from keystead.storage.errors import SchemaVersionError
from keystead.storage.schema import AutoIncrementId, Blob, Identifier, UtcDateTime

# An arbitrary 64-bit constant naming Keystead's migration lock among PostgreSQL advisory locks.
_PG_MIGRATION_LOCK_ID = 0x6B65_7973_7465_6164  # "keystead"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_initial_schema(conn: Connection) -> None:
    # Long, but it is one declaration: every table of version 1, as it was released.
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table(
        "keyring_terms",
        md,
        Column("term", Integer, primary_key=True, autoincrement=False),
        Column("sealed", Blob, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
    )
    Table(
        "accounts",
        md,
        Column("account_id", Identifier, primary_key=True),
        Column("name", String, nullable=False),
        Column("email", String, nullable=False),
        Column("root_password_hash", String, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("root_principal_id", String, nullable=True),
        UniqueConstraint("email"),
    )
    Table(
        "access_keys",
        md,
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
    Table(
        "keys",
        md,
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
        Index(None, "deletion_date"),
        Index(None, "next_rotation_date"),
    )
    Table(
        "key_materials",
        md,
        Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
        Column("material_id", Blob, nullable=False),
        Column("wrapped", Blob, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("origin", String, nullable=False),
        Column("state", String, nullable=False),
        PrimaryKeyConstraint("key_id", "material_id"),
    )
    Table(
        "key_tags",
        md,
        Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
        Column("tag_key", Identifier, nullable=False),
        Column("tag_value", String, nullable=False),
        PrimaryKeyConstraint("key_id", "tag_key"),
    )
    Table(
        "aliases",
        md,
        Column("account_id", Identifier, nullable=False),
        Column("region", Identifier, nullable=False),
        Column("alias_name", Identifier, nullable=False),
        Column("target_key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
        Column("creation_date", UtcDateTime, nullable=False),
        Column("last_updated_date", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("account_id", "region", "alias_name"),
        Index(None, "target_key_id", "alias_name"),
    )
    Table(
        "audit_events",
        md,
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
    md.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "initial schema: keyring, accounts, access keys, KMS keys, aliases, audit", _v1_initial_schema
    ),
    Migration(2, "IAM: users, groups, roles, policies, login profiles, MFA", migration_v2_iam.apply),
    Migration(3, "KMS key lifecycle: rotations, last key usage", migration_v3_kms_lifecycle.apply),
    Migration(4, "KMS grants and the per-key grant counter", migration_v4_grants.apply),
    Migration(5, "VPC endpoints and their endpoint policies", migration_v5_vpc_endpoints.apply),
    Migration(6, "audit hash chain, digest signing keys and signed digests", migration_v6_audit_chain.apply),
    Migration(7, "STS token keys and IAM OIDC identity providers", migration_v7_sts.apply),
    Migration(8, "IAM SAML providers and service-linked-role deletion tasks", migration_v8_iam_extras.apply),
    Migration(9, "IAM instance profiles", migration_v9_instance_profiles.apply),
    Migration(10, "replicas of multi-Region KMS keys", migration_v10_multi_region.apply),
    Migration(11, "scheduled deletion of multi-Region replica keys", migration_v11_replica_deletion.apply),
)
LATEST_VERSION = MIGRATIONS[-1].version


def read_version(conn: Connection) -> int:
    """The highest applied migration, 0 for a database never migrated."""
    if not inspect(conn).has_table(schema.schema_migrations.name):
        return 0
    version = conn.execute(select(func.max(schema.schema_migrations.c.version))).scalar()
    return int(version or 0)


def migrate(conn: Connection, now: datetime) -> int:
    """Apply every pending migration on `conn`, which is inside a write transaction.

    Raises:
        SchemaVersionError: the database was migrated by a newer Keystead than this one.
    """
    if conn.dialect.name == "postgresql":
        # Released at commit or rollback; a second migrator blocks here until then.
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID})
    schema.schema_migrations.create(conn, checkfirst=True)
    current = read_version(conn)
    if current > LATEST_VERSION:
        raise SchemaVersionError(
            f"database schema version {current} is newer than this Keystead ({LATEST_VERSION})"
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        migration.apply(conn)
        conn.execute(
            schema.schema_migrations.insert().values(
                version=migration.version, description=migration.description, applied_at=now
            )
        )
    return LATEST_VERSION
