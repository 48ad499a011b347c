"""Migration 9: IAM instance profiles (the container EC2 hands a role to; at most one role each).

Frozen DDL, like version 1: this module is never edited once released. Tags live in
`iam_entity_tags`, keyed by the profile's unique id (AIPA...). The role is referenced by id
without a foreign key: IAM refuses DeleteRole while a profile holds the role (DeleteConflict), so
the reference never dangles, and a constraint would turn any other deletion path into a 500.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, MetaData, Table, UniqueConstraint

from keystead.storage import schema
from keystead.storage.schema import Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "iam_instance_profiles",
        md,
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
    md.create_all(conn, tables=[t for name, t in md.tables.items() if name != "accounts"])
