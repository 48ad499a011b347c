"""AccessDenied wording, one variant per policy type, as in the IAM troubleshooting guide."""

from __future__ import annotations

import pytest
from tests.unit.policy.policy_support import KEY, decide, identity, resource_policy, stmt, user

from keystead.policy import Decision, PolicyKind, denial_message

USER = "arn:aws:iam::111122223333:user/bob"
PREFIX = f"User: {USER} is not authorized to perform: kms:Encrypt on resource: {KEY}"


def _denied(result: str, kind: PolicyKind) -> Decision:
    return Decision(False, result, (), kind, ())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (PolicyKind.IDENTITY, "because no identity-based policy allows the kms:Encrypt action"),
        (PolicyKind.RESOURCE, "because no resource-based policy allows the kms:Encrypt action"),
        (PolicyKind.BOUNDARY, "because no permissions boundary allows the kms:Encrypt action"),
        (PolicyKind.SESSION, "because no session policy allows the kms:Encrypt action"),
        (PolicyKind.ENDPOINT, "because no VPC endpoint policy allows the kms:Encrypt action"),
        (PolicyKind.TRUST, "because no role trust policy allows the kms:Encrypt action"),
        (PolicyKind.SCP, "with an explicit deny in a service control policy"),
    ],
)
def test_implicit_denial_names_the_policy_type_that_lacked_an_allow(kind: PolicyKind, reason: str) -> None:
    assert (
        denial_message(USER, "kms:Encrypt", KEY, _denied("implicitDeny", kind), service="kms")
        == f"{PREFIX} {reason}"
    )


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (PolicyKind.IDENTITY, "with an explicit deny in an identity-based policy"),
        (PolicyKind.RESOURCE, "with an explicit deny in a resource-based policy"),
        (PolicyKind.BOUNDARY, "with an explicit deny in a permissions boundary"),
        (PolicyKind.SESSION, "with an explicit deny in a session policy"),
        (PolicyKind.ENDPOINT, "with an explicit deny in a VPC endpoint policy"),
        (PolicyKind.TRUST, "with an explicit deny in the role trust policy"),
        (PolicyKind.SCP, "with an explicit deny in a service control policy"),
    ],
)
def test_explicit_denial_names_the_policy_type_that_denied(kind: PolicyKind, reason: str) -> None:
    assert (
        denial_message(USER, "kms:Encrypt", KEY, _denied("explicitDeny", kind), service="kms")
        == f"{PREFIX} {reason}"
    )


def test_message_comes_straight_from_an_evaluation() -> None:
    decision = decide(
        user(),
        resource_policy=resource_policy(stmt(Principal={"AWS": "arn:aws:iam::111122223333:user/carol"})),
        resource_policy_strict=True,
        identity_policies=[identity(stmt())],
    )
    assert denial_message(USER, "kms:Encrypt", KEY, decision, service="kms") == (
        f"{PREFIX} because no resource-based policy allows the kms:Encrypt action"
    )


def test_an_empty_resource_leaves_out_the_on_resource_part() -> None:
    message = denial_message(
        USER, "kms:TagResource", "", _denied("implicitDeny", PolicyKind.IDENTITY), service="kms"
    )
    assert message == (
        f"User: {USER} is not authorized to perform: kms:TagResource "
        "because no identity-based policy allows the kms:TagResource action"
    )


def test_actions_without_a_resource_say_on_resource_star() -> None:
    message = denial_message(
        USER, "kms:CreateKey", "*", _denied("implicitDeny", PolicyKind.IDENTITY), service="kms"
    )
    assert message.startswith(
        f"User: {USER} is not authorized to perform: kms:CreateKey on resource: * because no"
    )


def test_sts_denials_carry_no_reason_clause() -> None:
    role = "arn:aws:iam::444455556666:role/Deploy"
    message = denial_message(
        USER, "sts:AssumeRole", role, _denied("implicitDeny", PolicyKind.TRUST), service="sts"
    )
    assert message == f"User: {USER} is not authorized to perform: sts:AssumeRole on resource: {role}"


def test_a_session_caller_is_named_by_its_session_arn() -> None:
    caller = "arn:aws:sts::111122223333:assumed-role/Writer/s1"
    message = denial_message(
        caller, "kms:Encrypt", KEY, _denied("implicitDeny", PolicyKind.IDENTITY), service="kms"
    )
    assert message.startswith(f"User: {caller} is not authorized")


def test_an_allowed_decision_has_no_denial_message() -> None:
    with pytest.raises(ValueError):
        denial_message(USER, "kms:Encrypt", KEY, Decision(True, "allowed", (), None, ()), service="kms")
