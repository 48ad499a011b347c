"""Principal and NotPrincipal: who a resource-policy statement reaches, and which values are valid."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.policy.policy_support import (
    ACCOUNT,
    OTHER,
    anonymous,
    decide,
    exactly,
    federated_user,
    resource_policy,
    role_arn,
    root,
    service,
    session,
    stmt,
    user,
)

from keystead.errors import MalformedPolicyDocumentError
from keystead.policy import PolicyKind, PrincipalInfo
from keystead.policy.principals import Reach, compile_principals


def _reach(element: Any, caller: PrincipalInfo) -> Reach:
    def fail(message: str) -> Any:
        raise MalformedPolicyDocumentError(message)

    return compile_principals(element, kind=PolicyKind.RESOURCE, fail=fail).reach(caller)


@pytest.mark.parametrize("caller", [user(), root(), session(), anonymous(), service(), user(account=OTHER)])
@pytest.mark.parametrize("element", ["*", {"AWS": "*"}])
def test_star_principal_reaches_everyone_directly(element: Any, caller: PrincipalInfo) -> None:
    assert _reach(element, caller) is Reach.DIRECT


@pytest.mark.parametrize("element", [{"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}])
@pytest.mark.parametrize("caller", [user(), root(), session()])
def test_account_principal_reaches_every_identity_of_the_account_by_delegation(
    element: Any, caller: PrincipalInfo
) -> None:
    assert _reach(element, caller) is Reach.ACCOUNT


def test_account_principal_does_not_reach_another_account() -> None:
    assert _reach({"AWS": ACCOUNT}, user(account=OTHER)) is Reach.NONE


def test_user_arn_reaches_that_user_directly_and_no_one_else() -> None:
    element = {"AWS": user().arn}
    assert _reach(element, user()) is Reach.DIRECT
    assert _reach(element, user("carol")) is Reach.NONE


def test_role_arn_reaches_the_role_sessions_through_the_role() -> None:
    element = {"AWS": role_arn()}
    assert _reach(element, session(name="a")) is Reach.IDENTITY
    assert _reach(element, session(role="Other")) is Reach.NONE


def test_session_arn_reaches_only_that_session() -> None:
    element = {"AWS": session(name="a").arn}
    assert _reach(element, session(name="a")) is Reach.DIRECT
    assert _reach(element, session(name="b")) is Reach.NONE


def test_federated_user_arn_reaches_the_federated_session() -> None:
    assert _reach({"AWS": federated_user().arn}, federated_user()) is Reach.DIRECT


def test_service_principal_reaches_only_that_service() -> None:
    element = {"Service": ["cloudtrail.amazonaws.com"]}
    assert _reach(element, service("cloudtrail.amazonaws.com")) is Reach.DIRECT
    assert _reach(element, service("ec2.amazonaws.com")) is Reach.NONE
    assert _reach({"AWS": ACCOUNT}, service("cloudtrail.amazonaws.com")) is Reach.NONE


def test_federated_principal_reaches_callers_of_that_provider() -> None:
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    caller = PrincipalInfo("web-identity", "", "Anonymous", federated=provider)
    assert _reach({"Federated": provider}, caller) is Reach.DIRECT
    assert _reach({"Federated": "accounts.google.com"}, caller) is Reach.NONE


def test_anonymous_callers_are_reached_only_by_star() -> None:
    assert _reach({"AWS": ACCOUNT}, anonymous()) is Reach.NONE


def test_canonical_user_and_unique_ids_are_accepted_but_reach_no_one() -> None:
    element = {
        "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        "AWS": "AROAEXAMPLEEXAMPLE12",
    }
    for caller in (user(), root(), session()):
        assert _reach(element, caller) is Reach.NONE


@pytest.mark.parametrize(
    "element",
    [
        {"AWS": "arn:aws:iam::111122223333:user/*"},
        {"AWS": "arn:aws:iam::*:root"},
        {"AWS": "arn:aws:iam::111122223333:group/Admins"},
        {"AWS": "bob"},
        {"AWS": []},
        {"AWS": ""},
        {"Service": "*"},
        {"Users": "x"},
        {},
        "everyone",
    ],
)
def test_invalid_principals_are_rejected_with_kms_wording_in_a_key_policy(element: Any) -> None:
    with pytest.raises(
        MalformedPolicyDocumentError,
        match=exactly("Policy contains a statement with one or more invalid principals."),
    ):
        resource_policy(stmt(Principal=element))


def test_invalid_principal_in_a_trust_policy_uses_iam_wording() -> None:
    with pytest.raises(
        MalformedPolicyDocumentError,
        match=exactly('Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"'),
    ):
        resource_policy(
            stmt(
                action="sts:AssumeRole", resource=None, Principal={"AWS": "arn:aws:iam::111122223333:user/*"}
            ),
            kind=PolicyKind.TRUST,
        )


def _deny_all_but(*listed: str) -> Any:
    return resource_policy(
        stmt(action="kms:*", Principal="*"),
        stmt("Deny", "kms:*", NotPrincipal={"AWS": list(listed)}),
    )


def test_not_principal_deny_exempts_a_session_only_when_session_role_and_account_are_listed() -> None:
    caller = session()
    account = f"arn:aws:iam::{ACCOUNT}:root"
    assert decide(caller, resource_policy=_deny_all_but(caller.arn, role_arn(), account)).allowed
    assert not decide(caller, resource_policy=_deny_all_but(caller.arn, role_arn())).allowed
    assert not decide(caller, resource_policy=_deny_all_but(caller.arn, account)).allowed
    assert not decide(caller, resource_policy=_deny_all_but(role_arn(), account)).allowed


def test_not_principal_deny_exempts_a_user_only_with_the_account_listed() -> None:
    assert decide(user(), resource_policy=_deny_all_but(user().arn, ACCOUNT)).allowed
    assert not decide(user(), resource_policy=_deny_all_but(user().arn)).allowed


def test_not_principal_deny_exempts_root_through_its_account() -> None:
    assert decide(root(), resource_policy=_deny_all_but(ACCOUNT)).allowed


def test_not_principal_deny_applies_to_everyone_not_listed() -> None:
    decision = decide(user("mallory"), resource_policy=_deny_all_but(user().arn, ACCOUNT))
    assert decision.result == "explicitDeny"


def test_not_principal_allow_grants_everyone_else() -> None:
    policy = resource_policy(stmt(NotPrincipal={"AWS": user("mallory").arn}))
    assert decide(user(), resource_policy=policy).allowed
    assert decide(anonymous(), resource_policy=policy).allowed
