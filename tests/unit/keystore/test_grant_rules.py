"""Grant values and CreateGrant's rules: principals, operations per key type, constraints."""

from __future__ import annotations

from typing import Any

import pytest

from keystead.errors import InvalidArnError, InvalidGrantIdError, UnsupportedOperationError, ValidationError
from keystead.keystore.grants import (
    EQUALS,
    SUBSET,
    Grant,
    GrantConstraint,
    check_grant_id,
    check_principal,
    child_within_parent,
    new_grant_id,
    parse_constraint,
    parse_new_grant,
)
from keystead.storage.testing import T0


def request(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "grantee_principal": "arn:aws:iam::111122223333:role/app", "operations": ["Encrypt"]
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("principal", [
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/division/team/alice",
    "arn:aws:iam::111122223333:role/service-role/app",
    "arn:aws:sts::111122223333:assumed-role/app/session-1",
    "arn:aws:sts::111122223333:federated-user/bob",
])
def test_account_user_role_session_and_federated_principals_are_accepted(principal: str) -> None:
    assert check_principal(principal) == principal


@pytest.mark.parametrize("principal", [
    "111122223333", "alice", "*", "arn:aws:iam::111122223333:group/admins",
    "arn:aws:iam::111122223333:user/*", "arn:aws:iam::12345:root", "arn:aws:sts::111122223333:root",
    "arn:aws:iam::111122223333:assumed-role/app/s", "arn:aws:kms:us-east-1:111122223333:key/x",
    "arn:aws:iam:us-east-1:111122223333:root",
])
def test_groups_wildcards_services_and_malformed_arns_are_invalid_principals(principal: str) -> None:
    with pytest.raises(InvalidArnError):
        check_principal(principal)


def test_operations_must_suit_the_key_type() -> None:
    assert parse_new_grant(request(operations=["Encrypt", "Decrypt", "Encrypt"]), "SYMMETRIC_DEFAULT",
                           "ENCRYPT_DECRYPT").operations == ("Encrypt", "Decrypt")
    assert parse_new_grant(request(operations=["Sign", "GetPublicKey"]), "ECC_NIST_P256", "SIGN_VERIFY")
    assert parse_new_grant(request(operations=["GenerateMac"]), "HMAC_256", "GENERATE_VERIFY_MAC")
    for operations, spec, usage in (
        (["Sign"], "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
        (["GenerateDataKey"], "RSA_2048", "ENCRYPT_DECRYPT"),
        (["Encrypt"], "ECC_NIST_P256", "SIGN_VERIFY"),
        (["PutKeyPolicy"], "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
        ([], "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    ):
        with pytest.raises(ValidationError):
            parse_new_grant(request(operations=operations), spec, usage)


def test_constraints_are_only_for_symmetric_encryption_keys() -> None:
    constraints = {"encryption_context_subset": {"a": "b"}}
    parsed = parse_new_grant(request(constraints=constraints), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert parsed.constraint == GrantConstraint(SUBSET, {"a": "b"})
    with pytest.raises(ValidationError):
        parse_new_grant(
            request(operations=["Decrypt"], constraints=constraints), "RSA_2048", "ENCRYPT_DECRYPT"
        )


def test_a_constraint_has_one_kind_and_at_most_eight_pairs() -> None:
    assert parse_constraint(None) is None and parse_constraint({}) is None
    with pytest.raises(ValidationError):
        parse_constraint({"encryption_context_subset": {}, "encryption_context_equals": {}})
    with pytest.raises(ValidationError):
        parse_constraint({"encryption_context_equals": {str(n): "v" for n in range(9)}})
    with pytest.raises(UnsupportedOperationError):
        parse_constraint({"source_arn": "arn:aws:s3:::bucket"})


def test_service_principal_grantees_are_unsupported_and_a_grantee_is_required() -> None:
    with pytest.raises(UnsupportedOperationError):
        parse_new_grant({"grantee_service_principal": "s3.amazonaws.com", "operations": ["Encrypt"]},
                        "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    with pytest.raises(ValidationError):
        parse_new_grant({"operations": ["Encrypt"]}, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")


def test_equals_needs_the_exact_context_and_subset_needs_its_pairs_case_sensitively() -> None:
    equals = GrantConstraint(EQUALS, {"a": "1", "b": "2"})
    assert equals.satisfied_by({"b": "2", "a": "1"})
    assert not equals.satisfied_by({"a": "1"})
    assert not equals.satisfied_by({"a": "1", "b": "2", "c": "3"})
    subset = GrantConstraint(SUBSET, {"a": "1"})
    assert subset.satisfied_by({"a": "1", "c": "3"})
    for refused in ({"A": "1"}, {"a": "X"}, {}):
        assert not subset.satisfied_by(refused)


def parent(operations: tuple[str, ...], constraint: GrantConstraint | None = None) -> Grant:
    return Grant(new_grant_id(), "k", "us-east-1", "111122223333", "g", operations, constraint=constraint,
                 creation_date=T0)


def test_a_child_grant_may_narrow_but_never_widen_its_parent() -> None:
    p = parent(("Encrypt", "Decrypt", "CreateGrant"), GrantConstraint(SUBSET, {"a": "1"}))
    assert child_within_parent(p, ["Decrypt"], GrantConstraint(SUBSET, {"a": "1", "b": "2"}))
    assert child_within_parent(p, ["Decrypt"], GrantConstraint(EQUALS, {"a": "1"}))
    assert not child_within_parent(p, ["Decrypt", "DescribeKey"], GrantConstraint(SUBSET, {"a": "1"}))
    assert not child_within_parent(p, ["Decrypt"], None)
    assert not child_within_parent(p, ["Decrypt"], GrantConstraint(SUBSET, {"b": "2"}))
    strict = parent(("Decrypt", "CreateGrant"), GrantConstraint(EQUALS, {"a": "1"}))
    assert child_within_parent(strict, ["Decrypt"], GrantConstraint(EQUALS, {"a": "1"}))
    assert not child_within_parent(strict, ["Decrypt"], GrantConstraint(SUBSET, {"a": "1"}))
    assert child_within_parent(parent(("Decrypt", "CreateGrant")), ["Decrypt"], None)


def test_grants_round_trip_through_their_storage_row() -> None:
    grant = Grant(new_grant_id(), "k", "us-east-1", "111122223333", "arn:aws:iam::111122223333:root",
                  ("Decrypt", "Encrypt"), retiring="arn:aws:iam::444455556666:root",
                  constraint=GrantConstraint(EQUALS, {"a": "1"}), name="n", creation_date=T0)
    assert Grant.from_row(grant.to_row()) == grant


def test_grant_ids_are_64_hex_characters() -> None:
    check_grant_id(new_grant_id())
    for bad in ("", "x" * 64, new_grant_id().upper(), new_grant_id()[:-1]):
        with pytest.raises(InvalidGrantIdError):
            check_grant_id(bad)
