"""The IAM domain's pure parts: tags, policy ARNs, passwords, document quotas, AWS managed policies."""

from __future__ import annotations

import pytest

from keystead.errors import (
    InvalidInputError,
    LimitExceededError,
    MalformedPolicyDocumentError,
    PasswordPolicyViolationError,
)
from keystead.identity.iam import naming
from keystead.identity.iam.aws_managed import aws_managed_policies
from keystead.identity.iam.documents import check_identity_policy, check_inline_total, check_trust_policy
from keystead.identity.iam.passwords import PasswordPolicy, check_password
from keystead.policy import PolicyKind, parse_policy


def test_tag_keys_that_differ_only_in_case_are_duplicates() -> None:
    with pytest.raises(InvalidInputError):
        naming.tag_map([{"key": "Env", "value": "a"}, {"key": "env", "value": "b"}])


def test_more_than_fifty_tags_exceed_the_limit() -> None:
    with pytest.raises(LimitExceededError):
        naming.tag_map([{"key": f"k{i}", "value": "v"} for i in range(51)])


def test_merging_tags_overwrites_a_key_given_in_another_case() -> None:
    assert naming.merged_tags({"Env": "a", "x": "1"}, {"ENV": "b"}) == {"x": "1", "ENV": "b"}


def test_policy_arns_are_split_into_account_path_and_name() -> None:
    assert naming.check_policy_arn("arn:aws:iam::123456789012:policy/a/b/P1") == ("123456789012", "/a/b/", "P1")
    assert naming.check_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess") == ("aws", "/", "ReadOnlyAccess")
    with pytest.raises(InvalidInputError):
        naming.check_policy_arn("arn:aws:iam::123456789012:user/bob")


def test_without_a_policy_a_password_needs_eight_characters() -> None:
    check_password("12345678", None)
    with pytest.raises(PasswordPolicyViolationError):
        check_password("1234567", None)


def test_a_password_policy_names_every_rule_broken() -> None:
    policy = PasswordPolicy(minimum_password_length=10, require_symbols=True, require_uppercase_characters=True)
    with pytest.raises(PasswordPolicyViolationError) as exc:
        check_password("short", policy)
    assert "minimum length of 10" in exc.value.message and "uppercase" in exc.value.message
    check_password("Long-enough!", policy)
    assert PasswordPolicy.from_json(policy.to_json()) == policy


def test_identity_policies_may_not_name_a_principal() -> None:
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}'
    with pytest.raises(MalformedPolicyDocumentError):
        check_identity_policy(text)


def test_inline_quota_counts_every_policy_of_the_entity_without_whitespace() -> None:
    check_inline_total("user", "bob", ["x" * 1000], "y" * 1000 + " " * 500)
    with pytest.raises(LimitExceededError) as exc:
        check_inline_total("user", "bob", ["x" * 1100], "y" * 1000)
    assert exc.value.message == "Maximum policy size of 2048 bytes exceeded for user bob"


def test_trust_policies_need_a_principal_and_existing_aws_principals() -> None:
    with pytest.raises(MalformedPolicyDocumentError):
        check_trust_policy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}')
    text = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":'
            '"arn:aws:iam::123456789012:role/gone"},"Action":"sts:AssumeRole"}}')
    with pytest.raises(MalformedPolicyDocumentError):
        check_trust_policy(text, lambda arn: False)
    check_trust_policy(text, lambda arn: True)


def test_every_aws_managed_policy_is_a_valid_identity_policy() -> None:
    for policy in aws_managed_policies():
        parse_policy(policy.document, PolicyKind.IDENTITY)
        assert policy.arn == f"arn:aws:iam::aws:policy{policy.path}{policy.name}"
        assert policy.policy_id.startswith("ANPA")
