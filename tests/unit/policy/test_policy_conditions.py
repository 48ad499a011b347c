"""Every condition operator, the missing-key and set-operator rules, and policy variables in values.

Each row: a Condition block, a request context, and whether the block holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.policy.policy_support import condition_holds, identity, stmt

from keystead.errors import MalformedPolicyDocumentError
from keystead.policy import PolicyKind, parse_policy

K = "aws:PrincipalTag/team"


def _case(op: str, value: Any, context: dict[str, Any], expected: bool, key: str = K) -> Any:
    return pytest.param({op: {key: value}}, context, expected, id=f"{op}-{value}-{context}")


STRING = [
    _case("StringEquals", "red", {K: "red"}, True),
    _case("StringEquals", "red", {K: "Red"}, False),
    _case("StringEquals", ["blue", "red"], {K: "red"}, True),
    _case("StringEquals", "red", {}, False),
    _case("StringNotEquals", "red", {K: "red"}, False),
    _case("StringNotEquals", "red", {K: "blue"}, True),
    _case("StringNotEquals", ["red", "blue"], {K: "blue"}, False),
    _case("StringNotEquals", "red", {}, True),  # AWS: a negated operator on an absent key is true
    _case("StringEqualsIgnoreCase", "RED", {K: "red"}, True),
    _case("StringEqualsIgnoreCase", "red", {K: "blue"}, False),
    _case("StringNotEqualsIgnoreCase", "RED", {K: "red"}, False),
    _case("StringNotEqualsIgnoreCase", "RED", {K: "blue"}, True),
    _case("StringLike", "r*d", {K: "rapid"}, True),
    _case("StringLike", "r?d", {K: "red"}, True),
    _case("StringLike", "r?d", {K: "reed"}, False),
    _case("StringLike", "R*", {K: "red"}, False),  # StringLike is case-sensitive
    _case("StringLike", "a.b", {K: "axb"}, False),
    _case("StringLike", "", {K: ""}, True),
    _case("StringNotLike", "r*", {K: "red"}, False),
    _case("StringNotLike", "r*", {K: "blue"}, True),
    _case("StringNotLike", "r*", {}, True),
]
NUMERIC = [
    _case("NumericEquals", "10", {K: "10"}, True),
    _case("NumericEquals", "1.5", {K: "1.50"}, True),
    _case("NumericEquals", 10, {K: 10}, True),
    _case("NumericEquals", "10", {K: "ten"}, False),
    _case("NumericNotEquals", "10", {K: "11"}, True),
    _case("NumericNotEquals", "10", {K: "10"}, False),
    _case("NumericLessThan", "10", {K: "9"}, True),
    _case("NumericLessThan", "10", {K: "10"}, False),
    _case("NumericLessThanEquals", "10", {K: "10"}, True),
    _case("NumericGreaterThan", "10", {K: "10.01"}, True),
    _case("NumericGreaterThan", "10", {K: "10"}, False),
    _case("NumericGreaterThanEquals", "10", {K: "10"}, True),
    _case("NumericGreaterThanEquals", "10", {K: "-3"}, False),
    _case("NumericLessThan", "10", {}, False),
]
DATE = [
    _case("DateEquals", "2020-01-01T00:00:00Z", {K: "1577836800"}, True),
    _case("DateEquals", "2020-01-01", {K: "2020-01-01T00:00:00Z"}, True),
    _case("DateNotEquals", "2020-01-01T00:00:00Z", {K: "2020-01-01T00:00:01Z"}, True),
    _case("DateLessThan", "2020-01-01T00:00:00Z", {K: "2019-12-31T23:59:59Z"}, True),
    _case("DateLessThan", "2020-01-01T00:00:00Z", {K: "2020-01-01T01:00:00+01:00"}, False),
    _case("DateLessThanEquals", "2020-01-01T00:00:00Z", {K: "2020-01-01T01:00:00+01:00"}, True),
    _case("DateGreaterThan", "1577836800", {K: "2020-06-01T00:00:00.5Z"}, True),
    _case("DateGreaterThanEquals", "2020-01-01T00:00:00Z", {K: "2019-01-01T00:00:00Z"}, False),
    _case("DateGreaterThan", "2020-01-01T00:00:00Z", {K: "not a date"}, False),
]
BOOL_BINARY_IP = [
    _case("Bool", "true", {K: "true"}, True),
    _case("Bool", True, {K: True}, True),
    _case("Bool", "TRUE", {K: "true"}, True),
    _case("Bool", "true", {K: "false"}, False),
    _case("Bool", "false", {}, False),
    _case("BinaryEquals", "QmluYXJ5VmFsdWU=", {K: "QmluYXJ5VmFsdWU="}, True),
    _case("BinaryEquals", "QmluYXJ5VmFsdWU=", {K: "T3RoZXI="}, False),
    _case("IpAddress", "203.0.113.0/24", {K: "203.0.113.7"}, True),
    _case("IpAddress", "203.0.113.0/24", {K: "203.0.114.7"}, False),
    _case("IpAddress", "203.0.113.7", {K: "203.0.113.7"}, True),  # a bare address is a /32
    _case("IpAddress", "203.0.113.7", {K: "203.0.113.8"}, False),
    _case("IpAddress", "2001:DB8:1234:5678::/64", {K: "2001:db8:1234:5678::1"}, True),
    _case("IpAddress", ["203.0.113.0/24", "2001:db8::/32"], {K: "2001:db8::9"}, True),
    _case("IpAddress", "0.0.0.0/0", {K: "::1"}, False),  # an IPv6 caller is not in an IPv4 range
    _case("IpAddress", "0.0.0.0/0", {K: "not-an-ip"}, False),
    _case("NotIpAddress", "10.0.0.0/8", {K: "203.0.113.7"}, True),
    _case("NotIpAddress", "10.0.0.0/8", {K: "10.1.2.3"}, False),
    _case("NotIpAddress", "10.0.0.0/8", {}, True),
]
ARN = [
    _case("ArnLike", "arn:aws:iam::*:role/Admin*", {K: "arn:aws:iam::111122223333:role/AdminX"}, True),
    _case("ArnEquals", "arn:aws:iam::*:role/Admin*", {K: "arn:aws:iam::111122223333:role/AdminX"}, True),
    _case(
        "ArnLike",
        "arn:aws:someservice:*:111122223333:finance/*",
        {K: "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc"},
        False,
    ),
    _case(
        "StringLike",
        "arn:aws:someservice:*:111122223333:finance/*",
        {K: "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc"},
        True,
    ),
    _case("ArnLike", "arn:aws:iam::*:role/admin", {K: "arn:aws:iam::111122223333:role/Admin"}, False),
    _case("ArnLike", "arn:aws:iam::*:role/*", {K: "not-an-arn"}, False),
    _case("ArnNotLike", "arn:aws:iam::*:role/Admin*", {K: "arn:aws:iam::111122223333:role/Dev"}, True),
    _case("ArnNotEquals", "arn:aws:iam::*:role/Admin*", {K: "arn:aws:iam::111122223333:role/Admin1"}, False),
    _case("ArnNotLike", "arn:aws:iam::*:role/Admin*", {}, True),
]
NULL_AND_IF_EXISTS = [
    _case("Null", "true", {}, True),
    _case("Null", "true", {K: "x"}, False),
    _case("Null", "true", {K: ""}, True),
    _case("Null", "false", {K: "x"}, True),
    _case("Null", False, {}, False),
    _case("StringEqualsIfExists", "red", {}, True),
    _case("StringEqualsIfExists", "red", {K: "red"}, True),
    _case("StringEqualsIfExists", "red", {K: "blue"}, False),
    _case("StringNotEqualsIfExists", "red", {}, True),
    _case("StringNotEqualsIfExists", "red", {K: "red"}, False),
    _case("NumericLessThanIfExists", "5", {}, True),
    _case("IpAddressIfExists", "10.0.0.0/8", {K: "192.0.2.1"}, False),
]
T = "aws:TagKeys"
SETS = [
    _case("ForAnyValue:StringEquals", ["a", "b"], {T: ["b", "z"]}, True, key=T),
    _case("ForAnyValue:StringEquals", ["a", "b"], {T: ["y", "z"]}, False, key=T),
    _case("ForAnyValue:StringEquals", ["a"], {T: []}, False, key=T),
    _case("ForAnyValue:StringEquals", ["a"], {}, False, key=T),
    _case("ForAnyValue:StringEquals", [""], {T: ""}, False, key=T),
    _case("ForAllValues:StringEquals", ["a", "b"], {T: ["a", "b"]}, True, key=T),
    _case("ForAllValues:StringEquals", ["a", "b"], {T: ["a", "z"]}, False, key=T),
    _case("ForAllValues:StringEquals", ["a"], {T: []}, True, key=T),
    _case("ForAllValues:StringEquals", ["a"], {}, True, key=T),
    _case("ForAllValues:StringEquals", ["a"], {T: ""}, True, key=T),
    _case("ForAllValues:StringNotEquals", ["a", "b"], {T: ["y", "z"]}, True, key=T),
    _case("ForAllValues:StringNotEquals", ["a", "b"], {T: ["a", "z"]}, False, key=T),
    _case("ForAnyValue:StringNotEquals", ["a", "b"], {T: ["a", "z"]}, True, key=T),
    _case("ForAnyValue:StringNotEquals", ["a", "b"], {T: ["a", "b"]}, False, key=T),
    _case("ForAnyValue:StringLike", ["team-*"], {T: ["x", "team-1"]}, True, key=T),
    _case("ForAnyValue:StringEqualsIfExists", ["a"], {}, True, key=T),
    _case("ForAllValues:StringEquals", ["a"], {T: "a"}, True, key=T),  # a single value is a one-element set
    # Without a qualifier a multi-valued key matches if any value does; negated: if none does.
    _case("StringEquals", ["a"], {T: ["a", "z"]}, True, key=T),
    _case("StringNotEquals", ["a"], {T: ["a", "z"]}, False, key=T),
]


@pytest.mark.parametrize(("condition", "context", "expected"), STRING + NUMERIC + DATE)
def test_string_numeric_and_date_operators(
    condition: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert condition_holds(condition, context) is expected


@pytest.mark.parametrize(("condition", "context", "expected"), BOOL_BINARY_IP + ARN)
def test_bool_binary_ip_and_arn_operators(
    condition: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert condition_holds(condition, context) is expected


@pytest.mark.parametrize(("condition", "context", "expected"), NULL_AND_IF_EXISTS)
def test_null_and_if_exists_operators(
    condition: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert condition_holds(condition, context) is expected


@pytest.mark.parametrize(("condition", "context", "expected"), SETS)
def test_set_operators_and_their_empty_set_rules(
    condition: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert condition_holds(condition, context) is expected


def test_keys_under_one_operator_are_anded() -> None:
    condition = {"StringEquals": {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "2"}}
    assert condition_holds(condition, {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "2"})
    assert not condition_holds(condition, {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "3"})


def test_operators_in_a_block_are_anded() -> None:
    condition = {"StringEquals": {K: "red"}, "Bool": {"aws:SecureTransport": "true"}}
    assert condition_holds(condition, {K: "red", "aws:SecureTransport": True})
    assert not condition_holds(condition, {K: "red", "aws:SecureTransport": False})


def test_condition_key_names_are_case_insensitive_on_both_sides() -> None:
    assert condition_holds({"IpAddress": {"AWS:SourceIP": "10.0.0.0/8"}}, {"aws:sourceip": "10.0.0.1"})


def test_operator_names_are_matched_without_regard_to_case() -> None:
    assert condition_holds({"stringequals": {K: "red"}}, {K: "red"})


def test_string_value_variable_is_substituted_from_the_context() -> None:
    condition = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert condition_holds(condition, {"aws:ResourceTag/team": "red", K: "red"})
    assert not condition_holds(condition, {"aws:ResourceTag/team": "red", K: "blue"})


def test_unresolvable_variable_makes_a_positive_value_match_nothing() -> None:
    condition = {"StringEquals": {"aws:ResourceTag/team": ["${aws:PrincipalTag/team}", "shared"]}}
    assert not condition_holds(condition, {"aws:ResourceTag/team": "red"})
    assert condition_holds(condition, {"aws:ResourceTag/team": "shared"})


def test_unresolvable_variable_makes_a_negated_operator_not_apply() -> None:
    condition = {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert not condition_holds(condition, {"aws:ResourceTag/team": "red"})


def test_variable_default_value_is_used_when_the_key_is_absent() -> None:
    condition = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username, 'nobody'}"}}
    assert condition_holds(condition, {"aws:ResourceTag/owner": "nobody"})


def test_special_star_variable_matches_a_literal_star_in_string_like() -> None:
    condition = {"StringLike": {K: "a${*}b"}}
    assert condition_holds(condition, {K: "a*b"})
    assert not condition_holds(condition, {K: "axxb"})


def test_variables_are_literal_text_in_version_2008() -> None:
    condition = {"StringEquals": {K: "${aws:username}"}}
    assert condition_holds(condition, {K: "${aws:username}", "aws:username": "bob"}, version="2008-10-17")
    assert not condition_holds(condition, {K: "bob", "aws:username": "bob"}, version="2008-10-17")


def test_arn_operator_values_accept_variables() -> None:
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::${aws:username}-*"}}
    assert condition_holds(condition, {"aws:SourceArn": "arn:aws:s3:::bob-data", "aws:username": "bob"})


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"StringEqualz": {K: "x"}}, "Invalid Condition type"),
        ({"NullIfExists": {K: "true"}}, "Invalid Condition type"),
        ({"ForAllValues:Null": {K: "true"}}, "Invalid Condition type"),
        ({"StringEquals": {"team": "x"}}, "prefaced by a vendor"),
        ({"NumericEquals": {K: "ten"}}, "not a valid numeric"),
        ({"NumericEquals": {K: "${aws:EpochTime}"}}, "not a valid numeric"),
        ({"DateLessThan": {K: "yesterday"}}, "not a valid date"),
        ({"IpAddress": {K: "10.0.0.300/8"}}, "not a valid IP"),
        ({"BinaryEquals": {K: "***"}}, "not valid base64"),
        ({"Bool": {K: "yes"}}, "true or false"),
        ({"Null": {K: "maybe"}}, "true or false"),
        ({"StringEquals": {K: []}}, "at least one value"),
        ({"StringEquals": {K: {"nested": "x"}}}, "not a string"),
        ({"StringEquals": {K: None}}, "not a string"),
        ({"StringEquals": {}}, "must be an object"),
        ({"StringEquals": "x"}, "must be an object"),
    ],
)
def test_malformed_conditions_are_rejected_with_a_reason(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedPolicyDocumentError, match=message):
        identity(stmt(Condition=condition))


@pytest.mark.parametrize("key", ["kms:EncryptionContext:purpose", "aws:RequestTag/team"])
def test_key_policy_rejects_for_all_values_on_single_valued_keys(key: str) -> None:
    text = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*",'
        f'"Resource":"*","Condition":{{"ForAllValues:StringEquals":{{"{key}":"x"}}}}}}]}}'
    )
    with pytest.raises(
        MalformedPolicyDocumentError, match=r"^OverlyPermissiveCondition: Using the ForAllValues"
    ):
        parse_policy(text, PolicyKind.RESOURCE)


def test_identity_policy_may_use_for_all_values_on_encryption_context() -> None:
    policy = identity(stmt(Condition={"ForAllValues:StringEquals": {"kms:EncryptionContext:purpose": "x"}}))
    assert policy.condition_keys == ("kms:EncryptionContext:purpose",)
