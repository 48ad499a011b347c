"""Migration 7: STS token keys (wrapped under the keyring) and IAM OIDC identity providers.

Frozen DDL, like version 1: this module is never edited once released.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

from keystead.storage import schema
from keystead.storage.schema import Blob, Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "sts_token_keys",
        md,
        Column("key_id", Integer, primary_key=True, autoincrement=False),
        Column("key_wrapped", Blob, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
    )
    Table(
        "iam_oidc_providers",
        md,
        Column("provider_arn", Identifier, primary_key=True),
        Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
        Column("url", String, nullable=False),  # as registered, without its scheme
        Column("client_ids", Text, nullable=False),  # JSON list
        Column("thumbprints", Text, nullable=False),  # JSON list
        Column("created_at", UtcDateTime, nullable=False),
        UniqueConstraint("account_id", "url"),
    )
    md.create_all(conn, tables=[t for name, t in md.tables.items() if name != "accounts"])
