"""A read API over IAM roles for the STS work: a role with its trust policy and its policies.

`RoleReader.get` takes a role name or ARN and returns everything AssumeRole needs to decide and
to mint a session: the role's unique id (AROA...), its ARN with path, the compiled trust policy,
MaxSessionDuration, tags, and the compiled identity policies and boundary of its sessions.
Blocking (database): call it through `run_blocking` or `get_async`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from keystead.arn import parse_arn, role_arn
from keystead.blocking import run_blocking
from keystead.identity.policies import IdentityPolicies, role_documents
from keystead.policy import Policy, PolicyKind, parse_policy
from keystead.storage import Database
from keystead.storage.rows import IamRoleRow


@dataclass(frozen=True, slots=True)
class RoleInfo:
    role_id: str
    account_id: str
    name: str
    path: str
    arn: str
    trust_policy_text: str
    trust_policy: Policy
    max_session_duration: int
    tags: Mapping[str, str] = field(default_factory=dict)
    permissions: IdentityPolicies = field(default_factory=IdentityPolicies)


class RoleReader:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, account_id: str, name_or_arn: str) -> RoleInfo | None:
        """The role named (by name, or by ARN in `account_id` or another account), or None."""
        name = name_or_arn
        if name_or_arn.startswith("arn:"):
            parsed = parse_arn(name_or_arn)
            if parsed is None or parsed.service != "iam" or not parsed.resource.startswith("role/"):
                return None
            account_id, name = parsed.account, parsed.resource.rsplit("/", 1)[-1]
        with self._db.reader() as tx:
            row: IamRoleRow | None = tx.get_iam_entity(IamRoleRow, account_id, name)
            if row is None:
                return None
            arn = role_arn(row.account_id, row.path, row.role_name)
            if name_or_arn.startswith("arn:") and name_or_arn != arn:
                return None  # same name, other path: not the role the caller named
            tags = tx.entity_tags(row.role_id)
            documents = role_documents(tx, row)
        return RoleInfo(
            role_id=row.role_id, account_id=row.account_id, name=row.role_name, path=row.path, arn=arn,
            trust_policy_text=row.assume_role_policy,
            trust_policy=parse_policy(row.assume_role_policy, PolicyKind.TRUST, name="trust policy"),
            max_session_duration=row.max_session_duration, tags=tags, permissions=documents.compile(),
        )

    async def get_async(self, account_id: str, name_or_arn: str) -> RoleInfo | None:
        """`get`, off the event loop."""
        return await run_blocking(self.get, account_id, name_or_arn)
