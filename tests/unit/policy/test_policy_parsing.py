"""The policy grammar per kind, its error messages, size limits, principal checks and the parse cache."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit.policy.policy_support import (
    ACCOUNT,
    KEY,
    decide,
    doc,
    exactly,
    identity,
    resource_policy,
    stmt,
    user,
)

from keystead.errors import LimitExceededError, MalformedPolicyDocumentError
from keystead.policy import PolicyKind, parse_policy

ALLOW_ALL_KEY_POLICY = stmt(action="kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


def _parse(document: dict[str, Any] | str, kind: PolicyKind = PolicyKind.IDENTITY) -> Any:
    text = document if isinstance(document, str) else json.dumps(document)
    return parse_policy(text, kind)


def test_statement_may_be_a_single_object() -> None:
    policy = _parse({"Version": "2012-10-17", "Statement": stmt()})
    assert len(policy.statements) == 1


def test_version_and_id_are_kept() -> None:
    policy = _parse({"Version": "2008-10-17", "Id": "key-default-1", "Statement": [stmt()]})
    assert (policy.version, policy.id) == ("2008-10-17", "key-default-1")


def test_version_may_be_omitted() -> None:
    assert _parse({"Statement": [stmt()]}).version is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "^Syntax errors in policy"),
        ("[]", "must be a JSON object"),
        ('{"Statement": [], "Statement": []}', "Duplicate key: Statement"),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "X": NaN}]}',
            "Invalid number",
        ),
        ({"Version": "2012-10-18", "Statement": [stmt()]}, "^The policy failed legacy parsing$"),
        ({"Version": "2012-10-17"}, "^Missing required field Statement$"),
        ({"Version": "2012-10-17", "Statement": [stmt()], "Extra": 1}, "Unknown element: Extra"),
        ({"Statement": "x"}, "Statement must be an object"),
        ({"Statement": ["x"]}, "Each statement must be an object"),
        ({"Statement": [stmt(Foo=1)]}, "Unknown element in statement: Foo"),
        ({"Statement": [stmt(effect="allow")]}, "^Invalid effect: allow$"),
        ({"Statement": [{"Action": "kms:*", "Resource": "*"}]}, "^Missing required field Effect$"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "^Missing required field Action$"),
        ({"Statement": [stmt(resource=None)]}, "^Missing required field Resource$"),
        ({"Statement": [stmt(NotAction="kms:Decrypt")]}, "both Action and NotAction"),
        ({"Statement": [stmt(NotResource="*")]}, "both Resource and NotResource"),
        ({"Statement": [stmt(action="Encrypt")]}, "^Actions/Conditions must be prefaced by a vendor"),
        ({"Statement": [stmt(action=[])]}, "non-empty list"),
        ({"Statement": [stmt(action=5)]}, "non-empty list of strings"),
        ({"Statement": [stmt(resource="kms:key")]}, 'must be in ARN format or "\\*"'),
        ({"Statement": [stmt(resource="arn:aws:kms:*")]}, "must be in ARN format"),
        ({"Statement": [stmt(Principal="*")]}, "^Policy document should not specify a principal.$"),
        ({"Statement": [stmt(Sid="has space")]}, "^Statement IDs \\(SID\\) must be alpha-numeric"),
        (
            {"Statement": [stmt(Sid="A"), stmt(Sid="A")]},
            "^Statement IDs \\(SID\\) in a single policy must be unique.$",
        ),
        ({"Statement": [stmt(Sid=3)]}, "Sid must be a string"),
        ({"Id": 3, "Statement": [stmt()]}, "Id must be a string"),
    ],
)
def test_malformed_identity_policies_are_rejected_with_a_reason(document: Any, message: str) -> None:
    with pytest.raises(MalformedPolicyDocumentError, match=message):
        _parse(document)


def test_malformed_policy_error_has_both_wire_spellings() -> None:
    with pytest.raises(MalformedPolicyDocumentError) as caught:
        _parse("{")
    assert caught.value.wire_code(query=False) == "MalformedPolicyDocumentException"
    assert caught.value.wire_code(query=True) == "MalformedPolicyDocument"


def test_key_policy_statement_needs_a_principal() -> None:
    with pytest.raises(MalformedPolicyDocumentError, match=exactly("Missing required field Principal")):
        _parse({"Statement": [stmt()]}, PolicyKind.RESOURCE)


def test_key_policy_sid_may_contain_spaces_and_repeat() -> None:
    statement = stmt(Sid="Enable IAM User Permissions", Principal="*")
    assert len(_parse({"Statement": [statement, statement]}, PolicyKind.RESOURCE).statements) == 2


def test_key_policy_statement_without_action_or_resource_is_accepted_but_has_no_effect() -> None:
    no_action = {"Effect": "Allow", "Principal": "*", "Resource": "*"}
    no_resource = {"Effect": "Allow", "Principal": "*", "Action": "kms:*"}
    policy = _parse({"Statement": [no_action, no_resource]}, PolicyKind.RESOURCE)
    assert not decide(user(), resource_policy=policy).allowed


def test_trust_policy_forbids_resource() -> None:
    statement = stmt(action="sts:AssumeRole", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    with pytest.raises(MalformedPolicyDocumentError, match=exactly("Has prohibited field Resource")):
        _parse({"Statement": [statement]}, PolicyKind.TRUST)


def test_trust_policy_without_resource_applies_to_the_role() -> None:
    statement = stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": user().arn})
    policy = _parse({"Version": "2012-10-17", "Statement": [statement]}, PolicyKind.TRUST)
    assert decide(
        user(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", resource_policy=policy
    ).allowed


@pytest.mark.parametrize("kind", [PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP])
def test_identity_like_kinds_forbid_principal(kind: PolicyKind) -> None:
    with pytest.raises(MalformedPolicyDocumentError, match="should not specify a principal"):
        _parse({"Statement": [stmt(Principal="*")]}, kind)


def test_principal_and_not_principal_together_are_rejected() -> None:
    with pytest.raises(MalformedPolicyDocumentError, match="both Principal and NotPrincipal"):
        _parse({"Statement": [stmt(Principal="*", NotPrincipal="*")]}, PolicyKind.RESOURCE)


def test_grants_are_not_parsed_as_documents() -> None:
    with pytest.raises(ValueError):
        parse_policy(doc(stmt()), PolicyKind.GRANT)


def test_a_document_longer_than_max_size_exceeds_the_quota() -> None:
    text = doc(stmt())
    with pytest.raises(LimitExceededError, match="Cannot exceed quota for PolicySize: 10"):
        parse_policy(text, PolicyKind.IDENTITY, max_size=10)
    assert parse_policy(text, PolicyKind.IDENTITY, max_size=len(text))


def test_whitespace_need_not_count_toward_the_size_limit() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [stmt()]}, indent=8)
    compact = sum(1 for ch in text if not ch.isspace())
    with pytest.raises(LimitExceededError):
        parse_policy(text, PolicyKind.IDENTITY, max_size=compact)
    assert parse_policy(text, PolicyKind.IDENTITY, max_size=compact, count_whitespace=False)


def test_principal_exists_is_asked_about_every_aws_principal_as_an_arn() -> None:
    asked: list[str] = []
    statement = stmt(
        Principal={
            "AWS": ["*", ACCOUNT, "arn:aws:iam::444455556666:user/carol", f"arn:aws:iam::{ACCOUNT}:root"]
        }
    )

    def exists(arn: str) -> bool:
        asked.append(arn)
        return True

    parse_policy(doc(statement), PolicyKind.RESOURCE, principal_exists=exists)
    assert asked == [f"arn:aws:iam::{ACCOUNT}:root", "arn:aws:iam::444455556666:user/carol"]


def test_unknown_principal_in_a_key_policy_uses_kms_wording_even_when_cached() -> None:
    text = doc(stmt(Principal={"AWS": "arn:aws:iam::111122223333:role/Gone"}))
    parse_policy(text, PolicyKind.RESOURCE, principal_exists=lambda _arn: True)
    with pytest.raises(
        MalformedPolicyDocumentError,
        match=exactly("Policy contains a statement with one or more invalid principals."),
    ):
        parse_policy(text, PolicyKind.RESOURCE, principal_exists=lambda _arn: False)


def test_unknown_principal_in_a_trust_policy_uses_iam_wording() -> None:
    text = doc(
        stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": "arn:aws:iam::111122223333:user/gone"})
    )
    with pytest.raises(
        MalformedPolicyDocumentError,
        match=exactly('Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/gone"'),
    ):
        parse_policy(text, PolicyKind.TRUST, principal_exists=lambda _arn: False)


def test_parsing_the_same_text_twice_returns_the_cached_compiled_policy() -> None:
    text = doc(stmt(Sid="Cached"))
    first = parse_policy(text, PolicyKind.IDENTITY, name="a")
    assert parse_policy(text, PolicyKind.IDENTITY, name="a") is first


def test_a_new_name_relabels_the_same_compiled_statements() -> None:
    text = doc(stmt(Sid="Relabel"))
    first = parse_policy(text, PolicyKind.IDENTITY, name="a")
    second = parse_policy(text, PolicyKind.IDENTITY, name="b")
    assert second.statements is first.statements
    assert [m.policy_name for m in second.matches] == ["b"]


def test_the_same_text_as_another_kind_is_compiled_separately() -> None:
    text = doc(stmt(Principal="*"))
    assert parse_policy(text, PolicyKind.RESOURCE).kind is PolicyKind.RESOURCE
    with pytest.raises(MalformedPolicyDocumentError):
        parse_policy(text, PolicyKind.IDENTITY)


def test_condition_keys_lists_condition_keys_and_variables_once() -> None:
    policy = identity(
        stmt(
            resource="arn:aws:kms:*:*:alias/${aws:username}/*",
            Condition={
                "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"},
                "Null": {"AWS:USERNAME": "false"},
            },
        )
    )
    assert policy.condition_keys == ("aws:ResourceTag/team", "aws:PrincipalTag/team", "AWS:USERNAME")


def test_default_key_policy_parses_and_delegates_to_iam() -> None:
    policy = resource_policy(ALLOW_ALL_KEY_POLICY)
    iam = identity(stmt())
    assert decide(
        user(), resource=KEY, resource_policy=policy, resource_policy_strict=True, identity_policies=[iam]
    ).allowed
