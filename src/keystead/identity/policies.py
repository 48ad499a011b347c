"""The identity side of authorization: which IAM policies apply to a caller, compiled and cached.

For an IAM user: its inline policies, the managed policies attached to it, and the inline and
attached policies of every group it belongs to; its permissions boundary, if any. For a role
session: the role's inline and attached policies and boundary, plus the session's policies. A
GetFederationToken session carries its user's policies and its session policies.

This is read on every request, so the compiled result is cached per IAM entity. Every IAM change
made on this node calls `invalidate(account)` (so a grant or a revocation takes effect at once
here); another node sees it within CACHE_SECONDS. A load that raced an invalidation is not cached.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from keystead.blocking import run_blocking
from keystead.identity.iam.lookup import default_documents
from keystead.storage import Database, Tx
from keystead.storage.rows import IamRoleRow, IamUserRow
from keystead.policy import Policy, PolicyKind, parse_policy
from keystead.types import Principal, PrincipalType

CACHE_SECONDS = 5.0
MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class IdentityPolicies:
    """The identity side of a principal: what its IAM entity, boundary and session allow."""

    policies: Sequence[Policy] = ()
    boundary: Policy | None = None
    session: Sequence[Policy] | None = None


@dataclass(frozen=True, slots=True)
class EntityDocuments:
    """The policy documents of one IAM entity, by label ("user/bob/inline", a policy ARN...)."""

    documents: tuple[tuple[str, str], ...] = ()
    boundary: tuple[str, str] | None = None

    def compile(self) -> IdentityPolicies:
        policies = tuple(parse_policy(text, PolicyKind.IDENTITY, name=label) for label, text in self.documents)
        boundary = None
        if self.boundary is not None:
            boundary = parse_policy(self.boundary[1], PolicyKind.BOUNDARY, name=self.boundary[0])
        return IdentityPolicies(policies, boundary)


def _own_documents(tx: Tx, entity_id: str, label: str) -> list[tuple[str, str]]:
    inline = [(f"{label}/{name}", text) for name, text in tx.inline_policies(entity_id).items()]
    attached = default_documents(tx, tx.attached_policies(entity_id))
    return inline + sorted(attached.items())


def _boundary(tx: Tx, boundary_arn: str | None) -> tuple[str, str] | None:
    if boundary_arn is None:
        return None
    document = default_documents(tx, [boundary_arn]).get(boundary_arn)
    return None if document is None else (boundary_arn, document)


def user_documents(tx: Tx, user: IamUserRow) -> EntityDocuments:
    """Every policy document that applies to an IAM user, its groups' included."""
    documents = _own_documents(tx, user.user_id, f"user/{user.user_name}")
    for group in tx.groups_of_user(user.user_id):
        documents.extend(_own_documents(tx, group.group_id, f"group/{group.group_name}"))
    return EntityDocuments(tuple(documents), _boundary(tx, user.permissions_boundary))


def role_documents(tx: Tx, role: IamRoleRow) -> EntityDocuments:
    """Every policy document that applies to a role's sessions (session policies aside)."""
    documents = _own_documents(tx, role.role_id, f"role/{role.role_name}")
    return EntityDocuments(tuple(documents), _boundary(tx, role.permissions_boundary))


def _entity_name(identity_arn: str, kind: str) -> str | None:
    resource = identity_arn.split(":", 5)[-1]
    if not resource.startswith(kind + "/"):
        return None
    return resource.rsplit("/", 1)[-1]


class IamPolicySource:
    """Implements the authorizer's IdentityPolicySource over the IAM tables."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[tuple[str, str], tuple[float, IdentityPolicies]] = {}
        self._generation: dict[str, int] = {}

    async def for_principal(self, principal: Principal) -> IdentityPolicies:
        """The compiled identity policies of the caller's IAM entity and session."""
        if principal.type is PrincipalType.ROOT or principal.identity_arn is None:
            return IdentityPolicies()
        key = (principal.account_id, principal.identity_arn)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            entity = cached[1]
        else:
            generation = self._generation.get(principal.account_id, 0)
            entity = await run_blocking(self._load, principal)
            if self._generation.get(principal.account_id, 0) == generation:
                if len(self._cache) >= MAX_CACHED:
                    self._cache.clear()
                self._cache[key] = (time.monotonic() + CACHE_SECONDS, entity)
        session = principal.session
        if session is None or principal.type is PrincipalType.USER:
            return entity
        # A federated-user session without session policies has no permissions at all
        # [IAM:id_credentials_temp_control-access_getfederationtoken]; a role session without any is
        # limited by nothing but its role.
        if not session.session_policies and principal.type is not PrincipalType.FEDERATED_USER:
            return entity
        policies = tuple(
            parse_policy(text, PolicyKind.SESSION, name="session policy") for text in session.session_policies
        )
        return IdentityPolicies(entity.policies, entity.boundary, policies)

    def invalidate(self, account_id: str) -> None:
        """Forget every cached entity of an account after any IAM change there."""
        self._generation[account_id] = self._generation.get(account_id, 0) + 1
        for key in [k for k in self._cache if k[0] == account_id]:
            self._cache.pop(key, None)

    def _load(self, principal: Principal) -> IdentityPolicies:
        identity_arn = principal.identity_arn or ""
        with self._db.reader() as tx:
            documents = EntityDocuments()
            user_name = _entity_name(identity_arn, "user")
            role_name = _entity_name(identity_arn, "role")
            if user_name is not None:
                user = tx.get_iam_entity(IamUserRow, principal.account_id, user_name)
                if user is not None and _same_entity(user.path, user.user_name, "user", user.user_id, principal):
                    documents = user_documents(tx, user)
            elif role_name is not None:
                role = tx.get_iam_entity(IamRoleRow, principal.account_id, role_name)
                if role is not None and _same_entity(role.path, role.role_name, "role", role.role_id, principal):
                    documents = role_documents(tx, role)
        return documents.compile()


def _same_entity(path: str, name: str, kind: str, unique_id: str, principal: Principal) -> bool:
    # A renamed, moved, or deleted-and-recreated user or role is another entity: its credentials
    # and sessions must not pick up the newcomer's policies. Federated users carry no unique id.
    if not (principal.identity_arn or "").endswith(f":{kind}{path}{name}"):
        return False
    return principal.type is PrincipalType.FEDERATED_USER or principal.principal_id.startswith(unique_id)
