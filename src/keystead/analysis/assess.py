"""One candidate, one action: does the engine allow it, never, always, or under conditions?

The same `keystead.policy.evaluate` that authorizes live requests decides here, over the same
inputs the authorizer builds (the key policy as a strict resource policy, the identity
policies and boundary, the grants as extra Allows), once with the optimistic and once with the
pessimistic bound of every policy (see `relax`). Grants follow `KmsGrantSource`: a grant to the
account root passes to an identity only when that identity's IAM policies allow the action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keystead import arn
from keystead.analysis.known import known_keys
from keystead.analysis.model import ALLOWED, CONDITIONAL, AccessPath, ActionAccess, Candidate, Condition
from keystead.analysis.relax import Bounds, bounds
from keystead.analysis.snapshot import KeyTarget, split_label
from keystead.keystore.grants import UNCONSTRAINED_OPERATIONS, Grant
from keystead.policy.document import Probe
from keystead.policy.principals import Reach
from keystead.policy import AuthzRequest, Decision, EvaluationInput, MatchedStatement, Policy, PolicyKind, evaluate


@dataclass(frozen=True, slots=True)
class Bounded:
    """A candidate's policies, bounded once for its profile."""

    resource: Bounds | None
    identity: tuple[Bounds, ...]
    boundary: Bounds | None


def bound_all(candidate: Candidate, resource_policy: Policy | None) -> Bounded:
    known = known_keys(candidate.profile)
    profile = candidate.profile
    identity = candidate.identity
    return Bounded(
        bounds(resource_policy, known, profile) if resource_policy is not None else None,
        tuple(bounds(p, known, profile) for p in identity.policies),
        bounds(identity.boundary, known, profile) if identity.boundary is not None else None,
    )


def _input(
    candidate: Candidate, action: str, resource_arn: str, resource_account: str, bounded: Bounded,
    optimistic: bool, extra: Sequence[MatchedStatement] = (), with_resource: bool = True,
) -> EvaluationInput:
    def pick(b: Bounds) -> Policy:
        return b.optimistic if optimistic else b.pessimistic

    resource = bounded.resource if with_resource else None
    return EvaluationInput(
        request=AuthzRequest(candidate.info, action, resource_arn, candidate.context),
        resource_account=resource_account,
        resource_policy=pick(resource) if resource is not None else None,
        resource_policy_strict=resource is not None,
        identity_policies=tuple(pick(b) for b in bounded.identity),
        permission_boundary=pick(bounded.boundary) if bounded.boundary is not None else None,
        extra_allows=tuple(extra),
    )


def grantee_via(candidate: Candidate, grantee: str) -> str:
    """How a grantee ARN names the candidate: "direct", "account" (IAM must pass it on) or ""."""
    if grantee in (candidate.info.arn, candidate.role_arn, candidate.label):
        return "direct"
    if candidate.kind != "Account" and grantee == arn.root_arn(candidate.account_id):
        return "account"
    return ""


def _grant_path(grant: Grant, via: str) -> AccessPath:
    detail: dict[str, object] = {"GrantId": grant.grant_id, "Operations": list(grant.operations)}
    if grant.constraint is not None:
        detail["Constraints"] = {grant.constraint.type: dict(grant.constraint.context)}
    return AccessPath("Grant", via="account" if via == "account" else None, grant=detail)


def _grant_condition(grant: Grant, operation: str) -> Condition | None:
    if operation == "CreateGrant":
        return Condition("Allow", f"grant/{grant.grant_id}", grant.grant_id,
                         ("child grants only, within the grant's operations and constraints",))
    if grant.constraint is None or operation in UNCONSTRAINED_OPERATIONS:
        return None
    pairs = ", ".join(f"{k}={v}" for k, v in sorted(grant.constraint.context.items()))
    return Condition("Allow", f"grant/{grant.grant_id}", grant.grant_id, (f"{grant.constraint.type} {{{pairs}}}",))


def _identity_passes(candidate: Candidate, action: str, key: KeyTarget, bounded: Bounded, optimistic: bool) -> bool:
    inp = _input(candidate, action, key.arn, candidate.account_id, bounded, optimistic, with_resource=False)
    return evaluate(inp).allowed


@dataclass(frozen=True, slots=True)
class _GrantAllows:
    optimistic: tuple[MatchedStatement, ...]
    pessimistic: tuple[MatchedStatement, ...]
    paths: tuple[AccessPath, ...]
    conditions: tuple[Condition, ...]


def _grants(candidate: Candidate, action: str, key: KeyTarget, bounded: Bounded) -> _GrantAllows:
    operation = action.removeprefix("kms:")
    optimistic: list[MatchedStatement] = []
    pessimistic: list[MatchedStatement] = []
    paths: list[AccessPath] = []
    conditions: list[Condition] = []
    for grant in key.grants:
        via = grantee_via(candidate, grant.grantee)
        if not via or operation == "RetireGrant" or not grant.allows_operation(operation):
            continue
        if via == "account" and not _identity_passes(candidate, action, key, bounded, True):
            continue
        statement = MatchedStatement(f"grant/{grant.grant_id}", PolicyKind.GRANT, grant.grant_id, "Allow")
        optimistic.append(statement)
        condition = _grant_condition(grant, operation)
        certain = via == "direct" or _identity_passes(candidate, action, key, bounded, False)
        if condition is None and certain:
            pessimistic.append(statement)
        elif condition is not None:
            conditions.append(condition)
        paths.append(_grant_path(grant, via))
    return _GrantAllows(tuple(optimistic), tuple(pessimistic), tuple(paths), tuple(conditions))


def statement_name(match: MatchedStatement) -> str:
    return match.sid if match.sid else f"#{match.statement_index}"


_PATH_TYPES = {
    PolicyKind.RESOURCE: "KeyPolicy", PolicyKind.TRUST: "TrustPolicy",
    PolicyKind.IDENTITY: "IdentityPolicy", PolicyKind.BOUNDARY: "PermissionsBoundary",
}


def paths_of(decision: Decision, inp: EvaluationInput) -> list[AccessPath]:
    """The Allow statements of policy documents that matched, as report paths.

    A resource-policy statement that reaches the caller only through its account (Reach.ACCOUNT)
    takes part only together with an identity-policy Allow (or for the root user); without one it
    matched but allowed nothing, so it is left out.
    """
    request = inp.request
    probe = Probe(request.action_lower, request.resource, request.principal, request.normalised_context)
    delegated = request.principal.type == "Account" or any(
        m.policy_kind is PolicyKind.IDENTITY and m.effect == "Allow" for m in decision.matched
    )
    found: list[AccessPath] = []
    for match in decision.matched:
        kind = _PATH_TYPES.get(match.policy_kind)
        if match.effect != "Allow" or kind is None:
            continue
        display, via = split_label(match.policy_name)
        if inp.resource_policy is not None and match.policy_kind is inp.resource_policy.kind:
            reach = inp.resource_policy.statements[match.statement_index].applies(probe)
            if reach == Reach.ACCOUNT and not delegated:
                continue
            via = "account principal: IAM policies decide" if reach == Reach.ACCOUNT and \
                request.principal.type != "Account" else via
        path = AccessPath(kind, display, statement_name(match), via or None)
        if path not in found:
            found.append(path)
    return found


def conditions_of(decision: Decision, effect: str, by_policy: dict[str, Bounds]) -> list[Condition]:
    """The undecided conditions of the statements of `effect` that matched in `decision`."""
    found: list[Condition] = []
    for match in decision.matched:
        bounded = by_policy.get(match.policy_name)
        if match.effect != effect or bounded is None:
            continue
        entries = bounded.conditions.get(match.statement_index)
        if entries:
            condition = Condition(effect, split_label(match.policy_name)[0], statement_name(match), entries)
            if condition not in found:
                found.append(condition)
    return found


def decide(
    candidate: Candidate, action: str, resource_arn: str, resource_account: str, bounded: Bounded,
    grants: _GrantAllows | None = None,
) -> ActionAccess | None:
    """The candidate's access to one action under the bounded policies (None: never allowed)."""
    grants = grants or _GrantAllows((), (), (), ())
    upper_input = _input(candidate, action, resource_arn, resource_account, bounded, True, grants.optimistic)
    upper = evaluate(upper_input)
    if not upper.allowed:
        return None
    lower = evaluate(_input(candidate, action, resource_arn, resource_account, bounded, False, grants.pessimistic))
    paths = paths_of(upper, upper_input) + list(grants.paths)
    if lower.allowed:
        return ActionAccess(action, ALLOWED, tuple(paths))
    by_policy = {b.optimistic.name: b for b in _all_bounds(bounded)}
    conditions = conditions_of(upper, "Allow", by_policy) + list(grants.conditions)
    conditions += conditions_of(lower, "Deny", by_policy)
    return ActionAccess(action, CONDITIONAL, tuple(paths), tuple(conditions))


def _all_bounds(bounded: Bounded) -> list[Bounds]:
    found = list(bounded.identity)
    if bounded.resource is not None:
        found.append(bounded.resource)
    if bounded.boundary is not None:
        found.append(bounded.boundary)
    return found


def assess(candidate: Candidate, action: str, key: KeyTarget, bounded: Bounded) -> ActionAccess | None:
    """Whether `candidate` may perform `action` on the key: always, conditionally, or never (None)."""
    grants = _grants(candidate, action, key, bounded)
    return decide(candidate, action, key.arn, key.row.account_id, bounded, grants)
