"""KMS aliases through boto3 against a live server: create, use, repoint, list, delete, authorize."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def unique(prefix: str = "alias/test-") -> str:
    return prefix + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("alias-owner")


def test_alias_names_a_key_in_crypto_operations_by_name_and_arn(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key = kms.create_key()["KeyMetadata"]
    name = unique()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:us-east-1:{owner.account_id}:{name}"
    blob = kms.encrypt(KeyId=name, Plaintext=b"by name")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["KeyId"] == key["Arn"]
    assert kms.encrypt(KeyId=alias_arn, Plaintext=b"x")["KeyId"] == key["Arn"]
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_list_aliases_shows_aws_shaped_entries_and_filters_by_key(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    names = sorted(unique() for _ in range(3))
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    listed = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in listed] == names
    entry = listed[0]
    assert entry["AliasArn"] == f"arn:aws:kms:us-east-1:{owner.account_id}:{names[0]}"
    assert entry["TargetKeyId"] == key_id
    assert entry["CreationDate"] and entry["LastUpdatedDate"]


def test_list_aliases_paginates(server: Server) -> None:
    account = server.create_account("alias-pager")
    kms = server.client("kms", account)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    names = {unique() for _ in range(5)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    first = kms.list_aliases(Limit=2)
    assert len(first["Aliases"]) == 2 and first["Truncated"] is True
    seen = [a["AliasName"] for p in kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 2})
            for a in p["Aliases"]]
    assert set(seen) == names and len(seen) == len(names)
    with pytest.raises(ClientError) as exc:
        kms.list_aliases(Marker="garbage!!")
    assert error_of(exc)[0] == "InvalidMarkerException"


def test_update_alias_repoints_and_delete_alias_removes(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    first = kms.create_key()["KeyMetadata"]
    second = kms.create_key()["KeyMetadata"]
    name = unique()
    kms.create_alias(AliasName=name, TargetKeyId=first["KeyId"])
    kms.update_alias(AliasName=name, TargetKeyId=second["Arn"])
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == second["Arn"]
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=name, Plaintext=b"x")
    assert error_of(exc)[0] == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        kms.delete_alias(AliasName=name)
    assert error_of(exc) == (
        "NotFoundException", f"Alias 'arn:aws:kms:us-east-1:{owner.account_id}:{name}' is not found."
    )


def test_duplicate_alias_is_already_exists(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    name = unique()
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    assert error_of(exc) == (
        "AlreadyExistsException",
        f"An alias with the name arn:aws:kms:us-east-1:{owner.account_id}:{name} already exists",
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("no-prefix", "ValidationException"),
        ("alias/aws/mine", "NotAuthorizedException"),
        ("alias/has:colon", "ValidationException"),
        ("alias/bad char", "ValidationException"),
    ],
)
def test_invalid_alias_names_are_rejected(server: Server, owner: Account, name: str, code: str) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    assert error_of(exc)[0] == code
    assert kms.list_aliases(KeyId=key_id)["Aliases"] == []


def test_alias_cannot_target_an_alias_or_a_key_pending_deletion(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key = kms.create_key()["KeyMetadata"]
    name = unique()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=unique(), TargetKeyId=name)
    assert error_of(exc)[0] == "ValidationException"
    doomed = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=unique(), TargetKeyId=doomed["KeyId"])
    assert error_of(exc) == ("KMSInvalidStateException", f"{doomed['Arn']} is pending deletion.")
    with pytest.raises(ClientError) as exc:
        kms.update_alias(AliasName=name, TargetKeyId=doomed["KeyId"])
    assert error_of(exc) == ("KMSInvalidStateException", f"{doomed['Arn']} is pending deletion.")
    # The alias of a key pending deletion can still be deleted.
    kms.delete_alias(AliasName=name)


def test_create_alias_needs_the_key_policy_to_allow_it(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:CreateAlias", "Resource": "*"},
    ]})
    key = kms.create_key(Policy=policy)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=unique(), TargetKeyId=key["KeyId"])
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert f"kms:CreateAlias on resource: {key['Arn']}" in message


def test_resource_aliases_condition_sees_the_keys_aliases(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/blocked-*"}}},
    ]})
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    name = unique("alias/blocked-")
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"
    kms.delete_alias(AliasName=name)
    kms.encrypt(KeyId=key_id, Plaintext=b"x")


def test_request_alias_condition_sees_the_alias_used(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    good = unique("alias/good-")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringNotEquals": {"kms:RequestAlias": good}}},
    ]})
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=good, TargetKeyId=key_id)
    other = unique()
    kms.create_alias(AliasName=other, TargetKeyId=key_id)
    kms.encrypt(KeyId=good, Plaintext=b"x")
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=other, Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"


def test_aliases_are_per_account(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key = kms.create_key()["KeyMetadata"]
    name = unique()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    stranger = server.client("kms", server.create_account("alias-stranger"))
    with pytest.raises(ClientError) as exc:
        stranger.encrypt(KeyId=name, Plaintext=b"x")
    assert error_of(exc)[0] == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        stranger.create_alias(AliasName=unique(), TargetKeyId=key["Arn"])
    assert error_of(exc)[0] == "NotFoundException"
