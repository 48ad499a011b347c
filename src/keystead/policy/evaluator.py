"""AWS's policy evaluation logic over compiled policies.

[IAM:reference_policies_evaluation-logic][IAM:reference_policies_evaluation-logic-cross-account]
[DG:policy-evaluation] Order of reasoning:
1. An applicable explicit Deny in any policy wins.
2. Gates that can only restrict: every SCP must allow (not for service principals), and the VPC
   endpoint policy must allow.
3. Allows: a grant (`extra_allows`) suffices on its own. Otherwise, in the resource's account, a
   resource-policy Allow that names the caller suffices, or an identity-policy Allow (limited by
   the permissions boundary and the session policies). Across accounts both the resource policy
   (naming the caller or its account) and the caller's effective identity permissions must allow.
   A strict resource policy (KMS key policy, role trust policy) makes identity policies count only
   when it trusts the caller's account (or names the caller); the root user then has no implicit
   access either.
4. A resource-policy Allow that reaches a session through its role ARN is limited by the
   session's boundary and session policies; one naming the session, the user or everyone is not.
The root user needs no identity policy: its identity side always allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from keystead.policy.document import Policy, Probe
from keystead.policy.model import Decision, EvalResult, EvaluationInput, MatchedStatement, PolicyKind
from keystead.policy.principals import Reach

# Principals that belong to no account and so have no identity policies of their own.
_ACCOUNTLESS = frozenset({"AWSService", "Anonymous"})


def _run(policy: Policy, probe: Probe, matched: list[MatchedStatement]) -> tuple[int, bool]:
    """The best reach among the policy's applicable Allows, and whether a Deny applied."""
    best = 0
    denied = False
    records = policy.matches
    for statement in policy.statements:
        reach = statement.applies(probe)
        if reach:
            matched.append(records[statement.index])
            if statement.effect == "Allow":
                if reach > best:
                    best = reach
            else:
                denied = True
    return best, denied


class _Tally:
    """What every policy said about one request, gathered in a single pass."""

    __slots__ = (
        "boundary_ok",
        "endpoint_ok",
        "explicit",
        "identity_ok",
        "matched",
        "probe",
        "resource_reach",
        "scp_ok",
        "session_ok",
    )

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.matched: list[MatchedStatement] = []
        self.explicit: PolicyKind | None = None  # the first policy type found to deny
        self.scp_ok = self.endpoint_ok = self.identity_ok = self.boundary_ok = self.session_ok = True
        self.resource_reach = 0

    def reach(self, policy: Policy, role: PolicyKind) -> int:
        """Run `policy` in the given role, record a Deny, return the best reach of its Allows."""
        best, denied = _run(policy, self.probe, self.matched)
        if denied and self.explicit is None:
            self.explicit = role
        return best

    def any_allows(self, policies: Sequence[Policy], role: PolicyKind) -> bool:
        # A list, not a generator: every policy runs, so that every match is reported.
        return any([self.reach(policy, role) > 0 for policy in policies])


def _tally(inp: EvaluationInput, probe: Probe) -> _Tally:
    tally = _Tally(probe)
    if inp.scps is not None and probe.principal.type not in _ACCOUNTLESS:
        tally.scp_ok = all([tally.reach(scp, PolicyKind.SCP) > 0 for scp in inp.scps])
    if inp.endpoint_policy is not None:
        tally.endpoint_ok = tally.reach(inp.endpoint_policy, PolicyKind.ENDPOINT) > 0
    if inp.resource_policy is not None:
        tally.resource_reach = tally.reach(inp.resource_policy, inp.resource_policy.kind)
    tally.identity_ok = tally.any_allows(inp.identity_policies, PolicyKind.IDENTITY)
    if inp.permission_boundary is not None:
        tally.boundary_ok = tally.reach(inp.permission_boundary, PolicyKind.BOUNDARY) > 0
    if inp.session_policies is not None:
        tally.session_ok = tally.any_allows(inp.session_policies, PolicyKind.SESSION)
    tally.matched.extend(inp.extra_allows)
    return tally


def _decision(allowed: bool, result: EvalResult, tally: _Tally, denied_by: PolicyKind | None) -> Decision:
    missing = tuple(dict.fromkeys(tally.probe.missing))
    return Decision(allowed, result, tuple(tally.matched), denied_by, missing)


def evaluate(inp: EvaluationInput) -> Decision:
    """Decide one request against every policy that bears on it, with the reasons.

    Raises: nothing; a request no policy speaks to is an implicit deny.
    """
    request = inp.request
    probe = Probe(request.action_lower, request.resource, request.principal, request.normalised_context)
    tally = _tally(inp, probe)
    if tally.explicit is not None:
        return _decision(False, "explicitDeny", tally, tally.explicit)
    if not tally.scp_ok:
        return _decision(False, "implicitDeny", tally, PolicyKind.SCP)
    if not tally.endpoint_ok:
        return _decision(False, "implicitDeny", tally, PolicyKind.ENDPOINT)
    if inp.extra_allows:
        return _decision(True, "allowed", tally, None)
    denied_by = _missing_allow(inp, tally)
    if denied_by is None:
        return _decision(True, "allowed", tally, None)
    if denied_by is PolicyKind.RESOURCE and inp.resource_policy is not None:
        denied_by = inp.resource_policy.kind  # a role trust policy is reported as such
    return _decision(False, "implicitDeny", tally, denied_by)


def _missing_allow(inp: EvaluationInput, tally: _Tally) -> PolicyKind | None:
    """None when the allows suffice, else the policy type whose missing Allow decided it."""
    caller = inp.request.principal
    reach, boundary_ok = tally.resource_reach, tally.boundary_ok
    limits_ok = boundary_ok and tally.session_ok
    # A resource-policy grant naming the caller (or everyone) stands alone; one reaching a session
    # through its role ARN is still bounded by the session's boundary and session policies.
    resource_grants = reach == Reach.DIRECT or (reach == Reach.IDENTITY and limits_ok)
    if caller.type in _ACCOUNTLESS:
        # Services and anonymous callers have no identity side: only the resource policy can allow.
        return None if resource_grants else PolicyKind.RESOURCE
    identity_side = tally.identity_ok or caller.type == "Account"  # root needs no identity policy
    identity_effective = identity_side and limits_ok
    same_account = inp.resource_account is None or inp.resource_account == caller.account_id
    if same_account:
        if inp.resource_policy_strict:
            if resource_grants or (reach > 0 and identity_effective):
                return None
            if reach == 0:
                return PolicyKind.RESOURCE
        elif resource_grants or identity_effective:
            return None
        if reach == Reach.IDENTITY:
            # The resource policy named the caller's role; only a boundary or session policy stood in the way.
            return PolicyKind.BOUNDARY if not boundary_ok else PolicyKind.SESSION
    elif reach == 0:
        return PolicyKind.RESOURCE
    elif identity_effective:
        return None
    if not identity_side:
        return PolicyKind.IDENTITY
    return PolicyKind.BOUNDARY if not boundary_ok else PolicyKind.SESSION
