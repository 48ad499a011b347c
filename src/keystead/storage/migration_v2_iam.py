"""Migration 2: IAM users, groups, roles, policies, login profiles, MFA devices, account settings.

Frozen: a released migration is never edited (see migrations.py). `schema.py` mirrors these tables.
Names are unique per account regardless of case (IAM refuses `Bob` next to `bob`), so each entity
keeps its name as given plus a lower-cased copy that carries the unique constraint. Everything
that hangs off an entity (tags, inline policies, attachments, memberships) is keyed by the
entity's unique id, so a rename touches one row.
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
    UniqueConstraint,
)

from keystead.storage.schema import NAMING_CONVENTION, Blob, Identifier, UtcDateTime


def apply(conn: Connection) -> None:
    # Long, but it is one declaration: every table of version 2, as it was released.
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table("accounts", md, Column("account_id", Identifier, primary_key=True))  # referenced only
    Table(
        "iam_users",
        md,
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
    Table(
        "iam_groups",
        md,
        Column("group_id", Identifier, primary_key=True),
        Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
        Column("group_name", Identifier, nullable=False),
        Column("name_lower", Identifier, nullable=False),
        Column("path", Identifier, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        UniqueConstraint("account_id", "name_lower"),
    )
    Table(
        "iam_roles",
        md,
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
    Table(
        "iam_group_members",
        md,
        Column("group_id", Identifier, ForeignKey("iam_groups.group_id", ondelete="CASCADE"), nullable=False),
        Column("user_id", Identifier, ForeignKey("iam_users.user_id", ondelete="CASCADE"), nullable=False),
        PrimaryKeyConstraint("group_id", "user_id"),
        Index(None, "user_id"),
    )
    Table(
        "iam_entity_tags",
        md,
        Column("entity_id", Identifier, nullable=False),
        Column("tag_key", Identifier, nullable=False),
        Column("tag_value", String, nullable=False),
        PrimaryKeyConstraint("entity_id", "tag_key"),
    )
    Table(
        "iam_inline_policies",
        md,
        Column("entity_id", Identifier, nullable=False),
        Column("policy_name", Identifier, nullable=False),
        Column("document", Text, nullable=False),
        PrimaryKeyConstraint("entity_id", "policy_name"),
    )
    Table(
        "iam_managed_policies",
        md,
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
    Table(
        "iam_policy_versions",
        md,
        Column(
            "policy_arn", Identifier, ForeignKey("iam_managed_policies.policy_arn", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("version_id", Identifier, nullable=False),
        Column("document", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("policy_arn", "version_id"),
    )
    Table(
        "iam_policy_attachments",
        md,
        Column("entity_id", Identifier, nullable=False),
        Column("account_id", Identifier, nullable=False),
        Column("policy_arn", Identifier, nullable=False),
        PrimaryKeyConstraint("entity_id", "policy_arn"),
        Index(None, "policy_arn"),
    )
    Table(
        "iam_login_profiles",
        md,
        Column("user_id", Identifier, ForeignKey("iam_users.user_id", ondelete="CASCADE"), primary_key=True),
        Column("password_hash", String, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("password_reset_required", Boolean, nullable=False),
    )
    Table(
        "iam_account_settings",
        md,
        Column("account_id", Identifier, ForeignKey("accounts.account_id"), primary_key=True),
        Column("password_policy", Text, nullable=True),
        Column("account_alias", Identifier, nullable=True),
        UniqueConstraint("account_alias"),
    )
    Table(
        "iam_mfa_devices",
        md,
        Column("serial_number", Identifier, primary_key=True),
        Column("account_id", Identifier, ForeignKey("accounts.account_id"), nullable=False),
        Column("seed_wrapped", Blob, nullable=False),
        Column("user_id", Identifier, nullable=True),
        Column("enabled_at", UtcDateTime, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("last_counter", Integer, nullable=True),
        Index(None, "account_id", "user_id"),
    )
    md.create_all(conn, tables=[t for name, t in md.tables.items() if name != "accounts"])
