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
