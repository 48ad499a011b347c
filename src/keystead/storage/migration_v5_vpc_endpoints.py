"""Migration 5: VPC endpoints, whose endpoint policies are managed at runtime (EC2 API subset).

Frozen DDL, like version 1: this module is never edited once released.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, String, Table, Text

from keystead.storage import schema
from keystead.storage.schema import Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "vpc_endpoints",
        md,
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
    md.tables["vpc_endpoints"].create(conn)
