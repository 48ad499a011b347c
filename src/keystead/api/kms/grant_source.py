"""Grants as a source of permission: the `GrantSource` the authorizer asks on every KMS call.

[DG:determining-access-grants] A grant allows its grantee its operations on its key, when the
request's encryption context satisfies its constraint. The answer is a list of `MatchedStatement`s
of kind GRANT that the engine treats as Allows (so explicit denies still win). Lookups go to the
in-memory index by (key, grantee ARN): the cost does not grow with the number of grants on the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from keystead import arn
from keystead.api.authorization import IdentityPolicySource, principal_info
from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.kms.common import KEY_RESOURCE_TYPE
from keystead.keystore.grant_index import KeyGrants
from keystead.keystore.grant_service import GrantService
from keystead.keystore.grant_tokens import TokenGrant
from keystead.keystore.grants import (
    GRANT_OPERATIONS,
    UNCONSTRAINED_OPERATIONS,
    Grant,
    child_within_parent,
    parse_constraint,
)
from keystead.policy import AuthzRequest, EvaluationInput, MatchedStatement, PolicyKind, evaluate
from keystead.types import Principal, PrincipalType

_OPERATIONS = frozenset(GRANT_OPERATIONS)
_CONTEXT_PREFIX = "kms:encryptioncontext:"
Context = Mapping[str, str | list[str]]


def grant_statement(grant: Grant) -> MatchedStatement:
    return MatchedStatement(f"grant/{grant.grant_id}", PolicyKind.GRANT, grant.grant_id, "Allow")


def request_encryption_context(context: Context) -> dict[str, str]:
    """The request's encryption context, read back from its kms:EncryptionContext:<k> keys."""
    n = len(_CONTEXT_PREFIX)
    return {
        k[n:]: v for k, v in context.items() if k.lower().startswith(_CONTEXT_PREFIX) and isinstance(v, str)
    }


class KmsGrantSource:
    def __init__(self, grants: GrantService, identities: IdentityPolicySource) -> None:
        self._grants = grants
        self._identities = identities

    async def allows(
        self, ctx: RequestContext, action: str, resource: ResourceAccess, context: Context
    ) -> Sequence[MatchedStatement]:
        """The grants that allow `action` on the key for the caller.

        Raises:
            InvalidGrantTokenError: a GrantTokens entry that this service did not issue.
        """
        tokens = self._tokens(ctx)  # every token is validated, whatever else allows the call
        operation = action[4:] if action.startswith("kms:") else ""
        if resource.type != KEY_RESOURCE_TYPE or operation not in _OPERATIONS:
            return ()
        key_id = resource.arn.rsplit("/", 1)[1]
        index = await self._grants.grants_of_key(key_id)
        if operation == "RetireGrant":
            candidates = self._retire_target(ctx, index, tokens, key_id)
        else:
            candidates = self._held(ctx.principal, index, tokens, key_id)
        matched: list[MatchedStatement] = []
        delegated: bool | None = None  # computed at most once per request
        region = resource.arn.split(":", 4)[3]
        for grant, via in candidates:
            # A multi-Region key's replicas share its id but not its grants.
            if grant.region != region:
                continue
            if not self._permits(grant, operation, ctx, context, via):
                continue
            if via == "account":
                if delegated is None:
                    delegated = await self._identity_allows(ctx.principal, action, resource, context)
                if not delegated:
                    continue
            matched.append(grant_statement(grant))
        return matched

    def _tokens(self, ctx: RequestContext) -> list[TokenGrant]:
        return [self._grants.open_token(token) for token in ctx.params.get("grant_tokens") or ()]

    def _held(
        self, principal: Principal, index: KeyGrants, tokens: Iterable[TokenGrant], key_id: str
    ) -> list[tuple[Grant, str]]:
        """The key's grants whose grantee is the caller, with how the grantee names it."""
        found: dict[str, tuple[Grant, str]] = {}
        for grantee, via in caller_names(principal):
            for grant in index.held_by(grantee):
                found[grant.grant_id] = (grant, via)
        for token in tokens:
            grant = token.grant
            if grant.key_id != key_id or grant.grant_id in found:
                continue
            via = grantee_match(principal, grant.grantee)
            if via and index.token_grant_is_live(grant.grant_id, token.issued_at):
                found[grant.grant_id] = (index.by_id.get(grant.grant_id, grant), via)
        return list(found.values())

    def _retire_target(
        self, ctx: RequestContext, index: KeyGrants, tokens: list[TokenGrant], key_id: str
    ) -> list[tuple[Grant, str]]:
        """RetireGrant: only the grant being retired counts, for its retiring principal or grantee."""
        params = ctx.params
        target: Grant | None = None
        if params.get("grant_token"):
            opened = self._grants.open_token(params["grant_token"])
            grant = opened.grant
            if grant.key_id == key_id and index.token_grant_is_live(grant.grant_id, opened.issued_at):
                target = index.by_id.get(grant.grant_id, grant)
        elif params.get("grant_id"):
            target = index.by_id.get(params["grant_id"])
        if target is None:
            return []
        principal = ctx.principal
        if target.retiring is not None:
            via = grantee_match(principal, target.retiring)
            if via:
                return [(target, via)]
        via = grantee_match(principal, target.grantee)
        return [(target, via)] if via and target.allows_operation("RetireGrant") else []

    @staticmethod
    def _permits(grant: Grant, operation: str, ctx: RequestContext, context: Context, via: str) -> bool:
        if operation == "RetireGrant":
            return True  # already decided by _retire_target
        if not grant.allows_operation(operation):
            return False
        if operation == "CreateGrant":
            child = parse_constraint(ctx.params.get("constraints"))
            return child_within_parent(grant, ctx.params.get("operations") or [], child)
        if grant.constraint is None or operation in UNCONSTRAINED_OPERATIONS:
            return True
        return grant.constraint.satisfied_by(request_encryption_context(context))

    async def _identity_allows(
        self, principal: Principal, action: str, resource: ResourceAccess, context: Context
    ) -> bool:
        """Whether an account's IAM policies pass a grant to the account on to this identity."""
        identity = await self._identities.for_principal(principal)
        decision = evaluate(
            EvaluationInput(
                request=AuthzRequest(principal_info(principal), action, resource.arn, context),
                resource_account=principal.account_id,
                identity_policies=identity.policies,
                permission_boundary=identity.boundary,
                session_policies=identity.session,
            )
        )
        return decision.allowed


def caller_names(principal: Principal) -> list[tuple[str, str]]:
    """The grantee ARNs that name the caller: itself, its role (for a session), its account."""
    names = [(principal.arn, "direct")]
    if principal.type is PrincipalType.ASSUMED_ROLE and principal.identity_arn:
        names.append((principal.identity_arn, "direct"))
    account = arn.root_arn(principal.account_id)
    if principal.arn != account:
        names.append((account, "account"))
    return names


def grantee_match(principal: Principal, grantee: str) -> str:
    """How `grantee` names the caller: "direct", "account" (needs IAM delegation) or "" (not at all)."""
    for name, via in caller_names(principal):
        if name == grantee:
            return via
    return ""
