"""Migration 10: replicas of multi-Region KMS keys.

Frozen DDL, like version 1: this module is never edited once released. A replica shares its
key id, key material, spec, usage, origin and rotation with the key row it replicates (the row
in `keys`, whose region is where the key was created), so only what AWS keeps per Region lives
here: placement, description, policy, state, tags (JSON) and whether this Region is currently
the primary (after UpdatePrimaryRegion). Keying replicas by (key_id, region) in their own table
leaves every table that references `keys.key_id` untouched.
"""

from __future__ import annotations

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
)

from keystead.storage import schema
from keystead.storage.schema import Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("keys", md, Column("key_id", Identifier, primary_key=True))  # referenced only
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "key_replicas",
        md,
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
        PrimaryKeyConstraint("key_id", "region"),
        # ListKeys pages through an account's keys in a Region, replicas included.
        Index(None, "account_id", "region", "key_id"),
    )
    md.create_all(conn, tables=[md.tables["key_replicas"]])
