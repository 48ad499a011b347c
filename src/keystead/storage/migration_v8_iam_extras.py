"""Migration 8: IAM SAML identity providers and service-linked-role deletion tasks.

Frozen DDL, like version 1: this module is never edited once released. (Virtual MFA devices
came with version 2; access-key last use lives on `access_keys` since version 1.)
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, MetaData, String, Table, Text, UniqueConstraint

from keystead.storage import schema
from keystead.storage.schema import Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "iam_saml_providers",
        md,
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
    Table(
        "iam_slr_deletion_tasks",
        md,
        Column("task_id", Identifier, primary_key=True),
        Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
        Column("role_name", Identifier, nullable=False),
        Column("status", String, nullable=False),  # SUCCEEDED | IN_PROGRESS | FAILED | NOT_STARTED
        Column("reason", Text, nullable=True),  # JSON of the model's DeletionTaskFailureReasonType
        Column("created_at", UtcDateTime, nullable=False),
    )
    md.create_all(conn, tables=[t for name, t in md.tables.items() if name != "accounts"])
