"""Migration 3: KMS key lifecycle — completed rotations and the last cryptographic use of each key.

Frozen: a released migration is never edited (see migrations.py). `schema.py` mirrors these tables.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, MetaData, PrimaryKeyConstraint, String, Table

from keystead.storage.schema import NAMING_CONVENTION, Blob, Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table("keys", md, Column("key_id", Identifier, primary_key=True))  # referenced only
    Table(
        "key_rotations",
        md,
        Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), nullable=False),
        Column("material_id", Blob, nullable=False),
        Column("rotation_date", UtcDateTime, nullable=False),
        Column("rotation_type", String, nullable=False),
        PrimaryKeyConstraint("key_id", "material_id"),
        Index(None, "key_id", "rotation_date"),
    )
    Table(
        "key_last_usage",
        md,
        Column("key_id", Identifier, ForeignKey("keys.key_id", ondelete="CASCADE"), primary_key=True),
        Column("operation", String, nullable=False),
        Column("used_at", UtcDateTime, nullable=False),
        Column("request_id", String, nullable=False),
    )
    for name in ("key_rotations", "key_last_usage"):
        md.tables[name].create(conn)
