"""Every branch of the evaluation logic: denies, gates, same- and cross-account, strict resource
policies, boundaries, session policies, grants, and the reasons a Decision reports."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.policy.policy_support import (
    ACCOUNT,
    KEY,
    OTHER,
    OTHER_KEY,
    anonymous,
    decide,
    federated_user,
    identity,
    of_kind,
    resource_policy,
    role_arn,
    root,
    service,
    session,
    stmt,
    user,
)

from keystead.policy import MatchedStatement, PolicyKind

ALLOW = stmt()
DENY = stmt("Deny")
GRANT = MatchedStatement("grant-1", PolicyKind.GRANT, None, "Allow")


def key_policy_naming(*principals: str, action: str = "kms:Encrypt") -> Any:
    return resource_policy(stmt(action=action, Principal={"AWS": list(principals)}))


def test_no_policy_at_all_is_an_implicit_deny() -> None:
    decision = decide(user())
    assert (decision.allowed, decision.result, decision.denied_by) == (
        False,
        "implicitDeny",
        PolicyKind.IDENTITY,
    )


def test_identity_allow_alone_allows_in_the_same_account() -> None:
    decision = decide(user(), identity_policies=[identity(ALLOW)])
    assert (decision.allowed, decision.result, decision.denied_by) == (True, "allowed", None)


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("identity_policies", PolicyKind.IDENTITY),
        ("resource_policy", PolicyKind.RESOURCE),
        ("permission_boundary", PolicyKind.BOUNDARY),
        ("session_policies", PolicyKind.SESSION),
        ("endpoint_policy", PolicyKind.ENDPOINT),
        ("scps", PolicyKind.SCP),
    ],
)
def test_an_explicit_deny_in_any_policy_wins_over_every_allow(field: str, kind: PolicyKind) -> None:
    principal = {"Principal": "*"} if kind in (PolicyKind.RESOURCE, PolicyKind.ENDPOINT) else {}
    denying = of_kind(kind, stmt(**principal), stmt("Deny", **principal))
    policies: dict[str, Any] = {
        "identity_policies": [identity(ALLOW)],
        "resource_policy": resource_policy(stmt(Principal="*")),
        "endpoint_policy": of_kind(PolicyKind.ENDPOINT, stmt(Principal="*")),
        "scps": [of_kind(PolicyKind.SCP, ALLOW)],
        "session_policies": [of_kind(PolicyKind.SESSION, ALLOW)],
        "permission_boundary": of_kind(PolicyKind.BOUNDARY, ALLOW),
    }
    policies[field] = [denying] if field in ("identity_policies", "session_policies", "scps") else denying
    decision = decide(session(), extra_allows=[GRANT], **policies)
    assert (decision.result, decision.denied_by) == ("explicitDeny", kind)


def test_a_deny_whose_condition_does_not_hold_does_not_deny() -> None:
    deny = stmt("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert decide(
        user(), context={"aws:SecureTransport": True}, identity_policies=[identity(ALLOW, deny)]
    ).allowed


def test_deny_unless_through_the_vpc_endpoint_denies_a_direct_call_without_the_key() -> None:
    # AWS: a negated operator on an absent key is true, so this common guard denies direct calls.
    guard = stmt("Deny", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    policies = [identity(ALLOW, guard)]
    assert decide(user(), identity_policies=policies).result == "explicitDeny"
    assert decide(user(), context={"aws:SourceVpce": "vpce-1a2b3c4d"}, identity_policies=policies).allowed


# --- same account ------------------------------------------------------------------------


def test_same_account_resource_policy_naming_the_user_allows_without_identity_policy() -> None:
    assert decide(user(), resource_policy=key_policy_naming(user().arn)).allowed


def test_same_account_resource_policy_naming_the_account_needs_an_identity_allow() -> None:
    policy = key_policy_naming(ACCOUNT)
    assert not decide(user(), resource_policy=policy).allowed
    assert decide(user(), resource_policy=policy, identity_policies=[identity(ALLOW)]).allowed


def test_same_account_non_strict_identity_allow_suffices_when_the_resource_policy_is_silent() -> None:
    policy = key_policy_naming(user("carol").arn)
    assert decide(user(), resource_policy=policy, identity_policies=[identity(ALLOW)]).allowed


def test_root_user_needs_no_identity_policy_in_its_own_account() -> None:
    assert decide(root()).allowed


# --- strict resource policies (KMS key policies, role trust policies) -----------------------


def test_strict_key_policy_that_does_not_trust_the_account_ignores_identity_allows() -> None:
    decision = decide(
        user(),
        resource_policy=key_policy_naming(user("carol").arn),
        resource_policy_strict=True,
        identity_policies=[identity(ALLOW)],
    )
    assert (decision.result, decision.denied_by) == ("implicitDeny", PolicyKind.RESOURCE)


def test_strict_key_policy_trusting_the_account_lets_identity_policies_decide() -> None:
    policy = key_policy_naming(f"arn:aws:iam::{ACCOUNT}:root")
    assert decide(
        user(), resource_policy=policy, resource_policy_strict=True, identity_policies=[identity(ALLOW)]
    ).allowed
    decision = decide(user(), resource_policy=policy, resource_policy_strict=True)
    assert decision.denied_by is PolicyKind.IDENTITY


def test_strict_key_policy_naming_the_user_allows_without_identity_policy() -> None:
    assert decide(user(), resource_policy=key_policy_naming(user().arn), resource_policy_strict=True).allowed


def test_strict_key_policy_gives_root_no_implicit_access() -> None:
    decision = decide(root(), resource_policy=key_policy_naming(user().arn), resource_policy_strict=True)
    assert (decision.allowed, decision.denied_by) == (False, PolicyKind.RESOURCE)
    assert decide(root(), resource_policy=key_policy_naming(ACCOUNT), resource_policy_strict=True).allowed


def test_strict_key_policy_trust_is_per_action() -> None:
    policy = key_policy_naming(ACCOUNT, action="kms:Decrypt")
    decision = decide(
        user(), resource_policy=policy, resource_policy_strict=True, identity_policies=[identity(ALLOW)]
    )
    assert decision.denied_by is PolicyKind.RESOURCE


def test_identity_deny_applies_even_when_the_key_policy_does_not_delegate() -> None:
    decision = decide(
        user(),
        resource_policy=key_policy_naming(user().arn),
        resource_policy_strict=True,
        identity_policies=[identity(DENY)],
    )
    assert decision.result == "explicitDeny"


def test_trust_policy_naming_the_user_allows_assume_role_in_the_same_account() -> None:
    trust = resource_policy(
        stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": user().arn}), kind=PolicyKind.TRUST
    )
    assert decide(
        user(), "sts:AssumeRole", role_arn("Target"), resource_policy=trust, resource_policy_strict=True
    ).allowed


def test_trust_policy_naming_the_account_needs_the_callers_identity_allow_and_reports_trust() -> None:
    trust = resource_policy(
        stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": ACCOUNT}), kind=PolicyKind.TRUST
    )
    allow = identity(stmt(action="sts:AssumeRole", resource=role_arn("Target")))
    common: dict[str, Any] = {"resource_policy": trust, "resource_policy_strict": True}
    assert decide(user(), "sts:AssumeRole", role_arn("Target"), identity_policies=[allow], **common).allowed
    assert not decide(user(), "sts:AssumeRole", role_arn("Target"), **common).allowed
    other = resource_policy(
        stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": OTHER}), kind=PolicyKind.TRUST
    )
    decision = decide(
        user(), "sts:AssumeRole", role_arn("Target"), resource_policy=other, resource_policy_strict=True
    )
    assert decision.denied_by is PolicyKind.TRUST


# --- cross-account: both sides must allow ------------------------------------------------


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("resource_allows", "identity_allows", "expected", "reason"),
    [
        (True, True, True, None),
        (True, False, False, PolicyKind.IDENTITY),
        (False, True, False, PolicyKind.RESOURCE),
        (False, False, False, PolicyKind.RESOURCE),
    ],
)
@pytest.mark.parametrize("named", ["account", "user"])
def test_cross_account_needs_both_the_resource_and_the_identity_policy(
    strict: bool,
    resource_allows: bool,
    identity_allows: bool,
    expected: bool,
    reason: PolicyKind | None,
    named: str,
) -> None:
    caller = user(account=OTHER)
    principal = OTHER if named == "account" else caller.arn
    policy = key_policy_naming(principal) if resource_allows else key_policy_naming(ACCOUNT)
    identities = [identity(stmt(resource=KEY))] if identity_allows else []
    decision = decide(
        caller,
        resource=KEY,
        resource_account=ACCOUNT,
        resource_policy=policy,
        resource_policy_strict=strict,
        identity_policies=identities,
    )
    assert (decision.allowed, decision.denied_by) == (expected, reason)


def test_cross_account_root_is_allowed_when_the_resource_policy_names_its_account() -> None:
    caller = root(OTHER)
    assert decide(
        caller,
        resource_account=ACCOUNT,
        resource_policy=key_policy_naming(OTHER),
        resource_policy_strict=True,
    ).allowed


def test_cross_account_without_a_resource_policy_is_denied() -> None:
    decision = decide(user(), resource=OTHER_KEY, resource_account=OTHER, identity_policies=[identity(ALLOW)])
    assert decision.denied_by is PolicyKind.RESOURCE


def test_cross_account_identity_side_is_limited_by_the_callers_boundary() -> None:
    caller = session(account=OTHER)
    decision = decide(
        caller,
        resource_account=ACCOUNT,
        resource_policy=key_policy_naming(caller.arn),
        identity_policies=[identity(ALLOW)],
        permission_boundary=of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt")),
    )
    assert decision.denied_by is PolicyKind.BOUNDARY


# --- permissions boundaries and session policies -------------------------------------------


def test_boundary_intersects_identity_allows() -> None:
    boundary = of_kind(PolicyKind.BOUNDARY, stmt(action="kms:*"))
    assert decide(user(), identity_policies=[identity(ALLOW)], permission_boundary=boundary).allowed
    narrow = of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt"))
    decision = decide(user(), identity_policies=[identity(ALLOW)], permission_boundary=narrow)
    assert (decision.allowed, decision.denied_by) == (False, PolicyKind.BOUNDARY)


def test_boundary_never_grants_on_its_own() -> None:
    decision = decide(user(), permission_boundary=of_kind(PolicyKind.BOUNDARY, stmt(action="kms:*")))
    assert decision.denied_by is PolicyKind.IDENTITY


def test_session_policies_intersect_identity_allows() -> None:
    caller = session()
    assert decide(
        caller, identity_policies=[identity(ALLOW)], session_policies=[of_kind(PolicyKind.SESSION, ALLOW)]
    ).allowed
    decision = decide(
        caller,
        identity_policies=[identity(ALLOW)],
        session_policies=[of_kind(PolicyKind.SESSION, stmt(action="kms:Decrypt"))],
    )
    assert decision.denied_by is PolicyKind.SESSION


def test_any_of_several_session_policies_may_allow() -> None:
    policies = [of_kind(PolicyKind.SESSION, stmt(action="kms:Decrypt")), of_kind(PolicyKind.SESSION, ALLOW)]
    assert decide(session(), identity_policies=[identity(ALLOW)], session_policies=policies).allowed


def test_a_session_with_no_session_policy_allows_nothing_from_identity_policies() -> None:
    decision = decide(federated_user(), identity_policies=[identity(ALLOW)], session_policies=[])
    assert decision.denied_by is PolicyKind.SESSION


def test_resource_policy_naming_the_session_is_not_limited_by_boundary_or_session_policy() -> None:
    caller = session()
    decision = decide(
        caller,
        resource_policy=key_policy_naming(caller.arn),
        session_policies=[],
        permission_boundary=of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt")),
    )
    assert decision.allowed


@pytest.mark.parametrize("limit", ["boundary", "session"])
def test_resource_policy_naming_the_role_is_limited_by_boundary_and_session_policy(limit: str) -> None:
    narrow: dict[str, Any] = (
        {"permission_boundary": of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt"))}
        if limit == "boundary"
        else {"session_policies": [of_kind(PolicyKind.SESSION, stmt(action="kms:Decrypt"))]}
    )
    policy = key_policy_naming(role_arn())
    assert decide(session(), resource_policy=policy).allowed
    decision = decide(session(), resource_policy=policy, **narrow)
    assert decision.denied_by is (PolicyKind.BOUNDARY if limit == "boundary" else PolicyKind.SESSION)


def test_resource_policy_naming_the_user_is_not_limited_by_the_users_boundary() -> None:
    boundary = of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt"))
    assert decide(user(), resource_policy=key_policy_naming(user().arn), permission_boundary=boundary).allowed


def test_resource_policy_naming_everyone_is_not_limited_by_a_boundary() -> None:
    boundary = of_kind(PolicyKind.BOUNDARY, stmt(action="kms:Decrypt"))
    assert decide(
        session(), resource_policy=resource_policy(stmt(Principal="*")), permission_boundary=boundary
    ).allowed


def test_an_explicit_deny_in_a_boundary_blocks_a_resource_policy_grant() -> None:
    boundary = of_kind(PolicyKind.BOUNDARY, stmt("Deny"))
    decision = decide(user(), resource_policy=key_policy_naming(user().arn), permission_boundary=boundary)
    assert (decision.result, decision.denied_by) == ("explicitDeny", PolicyKind.BOUNDARY)


# --- gates: SCPs and VPC endpoint policies ---------------------------------------------------


def test_every_scp_must_allow() -> None:
    scps = [of_kind(PolicyKind.SCP, stmt(action="*")), of_kind(PolicyKind.SCP, stmt(action="kms:Decrypt"))]
    decision = decide(user(), identity_policies=[identity(ALLOW)], scps=scps)
    assert (decision.result, decision.denied_by) == ("implicitDeny", PolicyKind.SCP)
    assert decide(user(), identity_policies=[identity(ALLOW)], scps=scps[:1]).allowed


def test_scps_do_not_apply_to_service_principals() -> None:
    policy = resource_policy(stmt(Principal={"Service": "cloudtrail.amazonaws.com"}))
    assert decide(service(), resource_policy=policy, scps=[of_kind(PolicyKind.SCP, stmt("Deny"))]).allowed


def test_endpoint_policy_must_also_allow() -> None:
    endpoint = of_kind(PolicyKind.ENDPOINT, stmt(action="kms:Decrypt", Principal="*"))
    decision = decide(user(), identity_policies=[identity(ALLOW)], endpoint_policy=endpoint)
    assert (decision.result, decision.denied_by) == ("implicitDeny", PolicyKind.ENDPOINT)
    default = of_kind(
        PolicyKind.ENDPOINT, {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    )
    assert decide(user(), identity_policies=[identity(ALLOW)], endpoint_policy=default).allowed


def test_endpoint_policy_never_grants_on_its_own() -> None:
    endpoint = of_kind(PolicyKind.ENDPOINT, stmt(action="*", Principal="*"))
    assert decide(user(), endpoint_policy=endpoint).denied_by is PolicyKind.IDENTITY


# --- grants (extra allows) ------------------------------------------------------------------


def test_a_grant_allows_on_its_own_even_across_accounts() -> None:
    decision = decide(
        user(account=OTHER),
        resource_account=ACCOUNT,
        resource_policy=key_policy_naming(ACCOUNT),
        resource_policy_strict=True,
        extra_allows=[GRANT],
    )
    assert decision.allowed
    assert GRANT in decision.matched


def test_a_grant_loses_to_an_explicit_deny_and_to_the_gates() -> None:
    assert decide(user(), identity_policies=[identity(DENY)], extra_allows=[GRANT]).result == "explicitDeny"
    endpoint = of_kind(PolicyKind.ENDPOINT, stmt(action="kms:Decrypt", Principal="*"))
    assert decide(user(), endpoint_policy=endpoint, extra_allows=[GRANT]).denied_by is PolicyKind.ENDPOINT


# --- principals without an account ------------------------------------------------------------


def test_service_principal_is_allowed_only_by_a_statement_naming_the_service() -> None:
    policy = resource_policy(
        stmt(Principal={"Service": "cloudtrail.amazonaws.com"}), stmt(Principal={"AWS": ACCOUNT})
    )
    assert decide(service(), resource_policy=policy, resource_account=ACCOUNT).allowed
    decision = decide(
        service("ec2.amazonaws.com"), resource_policy=policy, identity_policies=[identity(ALLOW)]
    )
    assert decision.denied_by is PolicyKind.RESOURCE


def test_anonymous_caller_is_allowed_only_by_a_public_statement() -> None:
    assert not decide(anonymous(), resource_policy=key_policy_naming(ACCOUNT)).allowed
    assert decide(anonymous(), resource_policy=resource_policy(stmt(Principal="*"))).allowed


# --- statement matching ------------------------------------------------------------------------


def test_actions_match_without_regard_to_case() -> None:
    assert decide(user(), "KMS:ENCRYPT", identity_policies=[identity(stmt(action="kms:encrypt"))]).allowed


def test_resources_match_with_regard_to_case() -> None:
    policy = identity(stmt(resource=KEY.upper().replace("ARN:AWS:KMS", "arn:aws:kms")))
    assert not decide(user(), identity_policies=[policy]).allowed


def test_not_action_allows_every_other_action() -> None:
    policy = identity({"Effect": "Allow", "NotAction": ["kms:Decrypt"], "Resource": "*"})
    assert decide(user(), "kms:Encrypt", identity_policies=[policy]).allowed
    assert not decide(user(), "kms:Decrypt", identity_policies=[policy]).allowed


def test_not_resource_allows_every_other_resource() -> None:
    policy = identity({"Effect": "Allow", "Action": "kms:*", "NotResource": OTHER_KEY})
    assert decide(user(), resource=KEY, identity_policies=[policy]).allowed
    assert not decide(user(), resource=OTHER_KEY, identity_policies=[policy]).allowed


def test_resource_variable_matches_the_callers_own_resource() -> None:
    policy = identity(stmt(resource="arn:aws:kms:*:*:alias/${aws:username}/*"))
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/bob/data"
    assert decide(user(), resource=alias, context={"aws:username": "bob"}, identity_policies=[policy]).allowed
    assert not decide(
        user(), resource=alias, context={"aws:username": "eve"}, identity_policies=[policy]
    ).allowed
    assert not decide(user(), resource=alias, identity_policies=[policy]).allowed


def test_not_resource_with_an_unresolvable_variable_does_not_apply() -> None:
    policy = identity(
        {"Effect": "Deny", "Action": "kms:*", "NotResource": "arn:aws:kms:*:*:alias/${aws:username}/*"}
    )
    assert decide(user(), identity_policies=[policy, identity(ALLOW)]).allowed
    assert (
        decide(user(), context={"aws:username": "bob"}, identity_policies=[policy, identity(ALLOW)]).result
        == "explicitDeny"
    )


def test_an_action_without_a_resource_is_matched_only_by_resource_star() -> None:
    assert decide(
        user(), "kms:CreateKey", "*", identity_policies=[identity(stmt(action="kms:CreateKey"))]
    ).allowed
    scoped = identity(stmt(action="kms:CreateKey", resource=f"arn:aws:kms:*:{ACCOUNT}:key/*"))
    assert not decide(user(), "kms:CreateKey", "*", identity_policies=[scoped]).allowed


# --- reasons ------------------------------------------------------------------------------


def test_every_matching_statement_is_reported_with_its_policy() -> None:
    iam = identity(stmt(Sid="A"), stmt(Sid="B", action="kms:Decrypt"), stmt("Deny", Sid="C"), name="team")
    key = resource_policy(stmt(Sid="K", Principal={"AWS": ACCOUNT}), name="default")
    decision = decide(user(), identity_policies=[iam], resource_policy=key)
    assert decision.matched == (
        MatchedStatement("default", PolicyKind.RESOURCE, "K", "Allow", 0),
        MatchedStatement("team", PolicyKind.IDENTITY, "A", "Allow", 0),
        MatchedStatement("team", PolicyKind.IDENTITY, "C", "Deny", 2),
    )


def test_missing_context_keys_are_reported_once_each() -> None:
    policy = identity(
        stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": "red", "kms:EncryptionContext:app": "x"}}),
        stmt(action="kms:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}),
    )
    decision = decide(user(), context={"kms:EncryptionContext:app": "x"}, identity_policies=[policy])
    assert decision.missing_context_keys == ("aws:PrincipalTag/team",)


def test_conditions_of_statements_that_do_not_match_the_action_are_not_reported_missing() -> None:
    policy = identity(
        stmt(action="kms:Decrypt", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}})
    )
    assert decide(user(), identity_policies=[policy]).missing_context_keys == ()
