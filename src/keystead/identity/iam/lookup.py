"""Finding IAM entities in a transaction, with AWS's NoSuchEntity wording, and managed policies
whether they are the account's own (database) or AWS's (catalog).

All of it is blocking (database): call it off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keystead.errors import NoSuchEntityError, PolicyNotAttachableError
from keystead.identity.iam.aws_managed import AWS_MANAGED, AwsManagedPolicy
from keystead.storage import Tx
from keystead.storage.rows import IamGroupRow, IamRoleRow, IamUserRow, ManagedPolicyRow


def find_user(tx: Tx, account_id: str, name: str) -> IamUserRow | None:
    return tx.get_iam_entity(IamUserRow, account_id, name)  # type: ignore[no-any-return]


def require_user(tx: Tx, account_id: str, name: str) -> IamUserRow:
    """Raises: NoSuchEntityError: no user by that name."""
    user = find_user(tx, account_id, name)
    if user is None:
        raise NoSuchEntityError(f"The user with name {name} cannot be found.")
    return user


def find_group(tx: Tx, account_id: str, name: str) -> IamGroupRow | None:
    return tx.get_iam_entity(IamGroupRow, account_id, name)  # type: ignore[no-any-return]


def require_group(tx: Tx, account_id: str, name: str) -> IamGroupRow:
    """Raises: NoSuchEntityError: no group by that name."""
    group = find_group(tx, account_id, name)
    if group is None:
        raise NoSuchEntityError(f"The group with name {name} cannot be found.")
    return group


def find_role(tx: Tx, account_id: str, name: str) -> IamRoleRow | None:
    return tx.get_iam_entity(IamRoleRow, account_id, name)  # type: ignore[no-any-return]


def require_role(tx: Tx, account_id: str, name: str) -> IamRoleRow:
    """Raises: NoSuchEntityError: no role by that name."""
    role = find_role(tx, account_id, name)
    if role is None:
        raise NoSuchEntityError(f"The role with name {name} cannot be found.")
    return role


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A managed policy as IAM shows it, customer or AWS managed alike."""

    arn: str
    name: str
    policy_id: str
    path: str
    description: str | None
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    aws_managed: bool

    @staticmethod
    def of_row(row: ManagedPolicyRow) -> "ManagedPolicy":
        return ManagedPolicy(
            row.policy_arn, row.policy_name, row.policy_id, row.path, row.description,
            row.default_version_id, row.created_at, row.updated_at, False,
        )

    @staticmethod
    def of_aws(policy: AwsManagedPolicy) -> "ManagedPolicy":
        return ManagedPolicy(
            policy.arn, policy.name, policy.policy_id, policy.path, policy.description,
            policy.version_id, policy.created_at, policy.updated_at, True,
        )


def find_managed_policy(tx: Tx, arn: str, account_id: str) -> ManagedPolicy | None:
    """A managed policy the account can see: its own or AWS's (not another account's)."""
    aws = AWS_MANAGED.get(arn)
    if aws is not None:
        return ManagedPolicy.of_aws(aws)
    row = tx.get_managed_policy(arn)
    if row is None or row.account_id != account_id:
        return None
    return ManagedPolicy.of_row(row)


def require_managed_policy(tx: Tx, arn: str, account_id: str, *, attaching: bool = False) -> ManagedPolicy:
    """Raises: NoSuchEntityError: no such policy visible to the account (AWS's two wordings)."""
    policy = find_managed_policy(tx, arn, account_id)
    if policy is None:
        if attaching:
            raise NoSuchEntityError(f"Policy {arn} does not exist or is not attachable.")
        raise NoSuchEntityError(f"Policy {arn} was not found.")
    if attaching and policy.aws_managed and policy.path.startswith("/aws-service-role/"):
        # Service-linked-role policies belong to their service's role alone [IAM:using-service-linked-roles].
        raise PolicyNotAttachableError("Cannot attach a Service Role Policy to a Customer Role.")
    return policy


def default_documents(tx: Tx, arns: list[str]) -> dict[str, str]:
    """The default-version document of each managed policy ARN (customer or AWS managed)."""
    documents = {arn: AWS_MANAGED[arn].document for arn in arns if arn in AWS_MANAGED}
    documents.update(tx.default_policy_documents([arn for arn in arns if arn not in AWS_MANAGED]))
    return documents
