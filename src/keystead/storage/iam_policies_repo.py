"""Repositories for IAM policies: inline policies, customer managed policies and their
versions, and attachments of managed policies (customer or AWS) to users, groups and roles.

Inline policies and attachments are keyed by the owning entity's unique id (AIDA/AGPA/AROA...).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import ManagedPolicyRow, PolicyVersionRow
from keystead.storage.schema import (
    iam_inline_policies,
    iam_managed_policies,
    iam_policy_attachments,
    iam_policy_versions,
    iam_roles,
    iam_users,
)


class IamPolicyRepository(TxBase):
    __slots__ = ()

    # --- inline policies ------------------------------------------------------------------------

    def inline_policies(self, entity_id: str) -> dict[str, str]:
        """An entity's inline policies: name -> document, by name."""
        found = self._conn.execute(
            select(iam_inline_policies.c.policy_name, iam_inline_policies.c.document)
            .where(iam_inline_policies.c.entity_id == entity_id)
            .order_by(iam_inline_policies.c.policy_name)
        )
        return {name: document for name, document in found}

    def put_inline_policy(self, entity_id: str, name: str, document: str) -> None:
        """Create or replace an inline policy.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self.delete_inline_policy(entity_id, name)
        self._writer().execute(
            iam_inline_policies.insert().values(entity_id=entity_id, policy_name=name, document=document)
        )

    def delete_inline_policy(self, entity_id: str, name: str) -> bool:
        """Delete an inline policy; False when there is none by that name.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            delete(iam_inline_policies).where(
                iam_inline_policies.c.entity_id == entity_id, iam_inline_policies.c.policy_name == name
            )
        )
        return result.rowcount == 1

    # --- customer managed policies and versions ---------------------------------------------

    def insert_managed_policy(self, row: ManagedPolicyRow, first: PolicyVersionRow) -> bool:
        """Store a managed policy with its first version; False when the name or id is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        if not self._insert_unless_exists(iam_managed_policies, row_values(row)):
            return False
        self._writer().execute(iam_policy_versions.insert().values(row_values(first)))
        return True

    def get_managed_policy(self, policy_arn: str) -> ManagedPolicyRow | None:
        found = self._conn.execute(
            select(iam_managed_policies).where(iam_managed_policies.c.policy_arn == policy_arn)
        ).mappings().first()
        return None if found is None else to_row(ManagedPolicyRow, found)

    def list_managed_policies(self, account_id: str, path_prefix: str = "/") -> list[ManagedPolicyRow]:
        """The account's customer managed policies under a path prefix, by lower-cased name."""
        found = self._conn.execute(
            select(iam_managed_policies)
            .where(
                iam_managed_policies.c.account_id == account_id,
                iam_managed_policies.c.path.startswith(path_prefix, autoescape=True),
            )
            .order_by(iam_managed_policies.c.name_lower)
        )
        return [to_row(ManagedPolicyRow, m) for m in found.mappings()]

    def update_managed_policy(self, policy_arn: str, **values: Any) -> bool:
        """Change a managed policy's columns; False when there is no such policy.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(iam_managed_policies).where(iam_managed_policies.c.policy_arn == policy_arn).values(**values)
        )
        return result.rowcount == 1

    def delete_managed_policy(self, policy_arn: str) -> bool:
        """Delete a managed policy and (by cascade) its versions; False when there is none.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(delete(iam_policy_versions).where(iam_policy_versions.c.policy_arn == policy_arn))
        result = self._writer().execute(
            delete(iam_managed_policies).where(iam_managed_policies.c.policy_arn == policy_arn)
        )
        return result.rowcount == 1

    def policy_versions(self, policy_arn: str) -> list[PolicyVersionRow]:
        """A managed policy's versions, oldest first."""
        found = self._conn.execute(
            select(iam_policy_versions)
            .where(iam_policy_versions.c.policy_arn == policy_arn)
            .order_by(iam_policy_versions.c.created_at, iam_policy_versions.c.version_id)
        )
        return [to_row(PolicyVersionRow, m) for m in found.mappings()]

    def insert_policy_version(self, row: PolicyVersionRow) -> None:
        """Store a new version of a managed policy.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(iam_policy_versions.insert().values(row_values(row)))

    def delete_policy_version(self, policy_arn: str, version_id: str) -> bool:
        """Delete one version; False when there is no such version.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            delete(iam_policy_versions).where(
                iam_policy_versions.c.policy_arn == policy_arn, iam_policy_versions.c.version_id == version_id
            )
        )
        return result.rowcount == 1

    def default_policy_documents(self, policy_arns: list[str]) -> dict[str, str]:
        """The default version's document of each customer managed policy named (absent: skipped)."""
        if not policy_arns:
            return {}
        found = self._conn.execute(
            select(iam_managed_policies.c.policy_arn, iam_policy_versions.c.document)
            .join(
                iam_policy_versions,
                (iam_policy_versions.c.policy_arn == iam_managed_policies.c.policy_arn)
                & (iam_policy_versions.c.version_id == iam_managed_policies.c.default_version_id),
            )
            .where(iam_managed_policies.c.policy_arn.in_(policy_arns))
        )
        return {arn: document for arn, document in found}

    # --- attachments ------------------------------------------------------------------------

    def attach_policy(self, account_id: str, entity_id: str, policy_arn: str) -> bool:
        """Attach a managed policy to a user, group or role; False when already attached.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(
            iam_policy_attachments, {"entity_id": entity_id, "account_id": account_id, "policy_arn": policy_arn}
        )

    def detach_policy(self, entity_id: str, policy_arn: str) -> bool:
        """Detach a managed policy; False when it was not attached.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            delete(iam_policy_attachments).where(
                iam_policy_attachments.c.entity_id == entity_id, iam_policy_attachments.c.policy_arn == policy_arn
            )
        )
        return result.rowcount == 1

    def attached_policies(self, entity_id: str) -> list[str]:
        """The ARNs of the managed policies attached to an entity, sorted."""
        found = self._conn.execute(
            select(iam_policy_attachments.c.policy_arn)
            .where(iam_policy_attachments.c.entity_id == entity_id)
            .order_by(iam_policy_attachments.c.policy_arn)
        )
        return [arn for (arn,) in found]

    def policy_attachments(self, account_id: str, policy_arn: str) -> list[str]:
        """The unique ids of the account's entities a managed policy is attached to."""
        found = self._conn.execute(
            select(iam_policy_attachments.c.entity_id).where(
                iam_policy_attachments.c.account_id == account_id, iam_policy_attachments.c.policy_arn == policy_arn
            ).order_by(iam_policy_attachments.c.entity_id)
        )
        return [entity_id for (entity_id,) in found]

    def attachment_counts(self, account_id: str) -> dict[str, int]:
        """How many of the account's entities each managed policy is attached to."""
        found = self._conn.execute(
            select(iam_policy_attachments.c.policy_arn, func.count())
            .where(iam_policy_attachments.c.account_id == account_id)
            .group_by(iam_policy_attachments.c.policy_arn)
        )
        return {arn: int(count) for arn, count in found}

    def boundary_usage_count(self, account_id: str, policy_arn: str) -> int:
        """How many of the account's users and roles use a policy as their permissions boundary."""
        total = 0
        for table in (iam_users, iam_roles):
            total += int(self._conn.execute(
                select(func.count()).select_from(table).where(
                    table.c.account_id == account_id, table.c.permissions_boundary == policy_arn
                )
            ).scalar_one())
        return total
