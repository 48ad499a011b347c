"""Migration 4: KMS grants, and the per-key grant counter other nodes poll.

Frozen DDL, like version 1: this module is never edited once released.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, String, Table, Text

from keystead.storage import schema
from keystead.storage.schema import Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("keys", md, Column("key_id", Identifier, primary_key=True))  # referenced only
    Table(
        "grants",
        md,
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
    Table(
        "key_grant_states",
        md,
        Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("grant_count", Integer, nullable=False),
    )
    for name in ("grants", "key_grant_states"):
        md.tables[name].create(conn)
