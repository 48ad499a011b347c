"""The first KMS slice through boto3 against a live server: keys, policies, listing, states."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support import Server

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def test_create_key_returns_aws_shaped_metadata(server: Server) -> None:
    kms = server.client("kms")
    account = server.accounts[0]
    meta = kms.create_key(Description="orders", Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]
    assert UUID.match(meta["KeyId"])
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{account.account_id}:key/{meta['KeyId']}"
    assert meta["AWSAccountId"] == account.account_id
    assert meta["Description"] == "orders"
    assert meta["Enabled"] is True and meta["KeyState"] == "Enabled"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["Origin"] == "AWS_KMS" and meta["KeyManager"] == "CUSTOMER"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["MultiRegion"] is False
    described = kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]
    assert described["KeyId"] == meta["KeyId"]
    assert described["CreationDate"] == meta["CreationDate"]


def test_default_key_policy_is_awss(server: Server) -> None:
    kms = server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Id"] == "key-default-1"
    [statement] = policy["Statement"]
    assert statement["Sid"] == "Enable IAM User Permissions"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{server.accounts[0].account_id}:root"}
    assert statement["Action"] == "kms:*" and statement["Resource"] == "*"
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]


def test_put_key_policy_replaces_the_policy(server: Server) -> None:
    kms = server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    root = f"arn:aws:iam::{server.accounts[0].account_id}:root"
    new_policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
                       "Resource": "*"}],
    })
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=new_policy)
    assert json.loads(kms.get_key_policy(KeyId=key_id)["Policy"])["Statement"][0]["Sid"] == "Root"


def test_malformed_key_policy_is_rejected_and_changes_nothing(server: Server) -> None:
    kms = server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    before = kms.get_key_policy(KeyId=key_id)["Policy"]
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy="{not json")
    assert error_of(exc)[0] == "MalformedPolicyDocumentException"
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == before


def test_unknown_policy_name_is_not_found(server: Server) -> None:
    kms = server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="other")
    assert error_of(exc)[0] == "NotFoundException"


def test_list_keys_paginates_with_markers(server: Server) -> None:
    account = server.create_account("lister")
    kms = server.client("kms", account)
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    seen: list[str] = []
    page = kms.list_keys(Limit=2)
    while True:
        assert len(page["Keys"]) <= 2
        seen += [k["KeyId"] for k in page["Keys"]]
        for entry in page["Keys"]:
            assert entry["KeyArn"].endswith(f":{account.account_id}:key/{entry['KeyId']}")
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        page = kms.list_keys(Limit=2, Marker=page["NextMarker"])
    assert sorted(seen) == sorted(created)
    paginated = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]]
    assert sorted(paginated) == sorted(created)


def test_invalid_marker_is_rejected(server: Server) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms").list_keys(Marker="not-a-marker!!")
    assert error_of(exc)[0] == "InvalidMarkerException"


def test_unknown_key_is_not_found(server: Server) -> None:
    kms = server.client("kms")
    missing = str(uuid.uuid4())
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=missing)
    code, message = error_of(exc)
    assert code == "NotFoundException"
    assert missing in message
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="alias/nope")
    assert error_of(exc)[0] == "NotFoundException"


def test_malformed_arn_is_invalid_arn(server: Server) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms").describe_key(KeyId="arn:aws:s3:::bucket")
    assert error_of(exc)[0] == "InvalidArnException"


def test_disabled_key_refuses_cryptography_until_enabled(server: Server) -> None:
    kms = server.client("kms")
    meta = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=meta["KeyId"])
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled" and described["Enabled"] is False
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    assert error_of(exc) == ("DisabledException", f"{meta['Arn']} is disabled.")
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error_of(exc)[0] == "DisabledException"
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_key_management_refuses_aliases(server: Server) -> None:
    kms = server.client("kms")
    with pytest.raises(ClientError) as exc:
        kms.enable_key(KeyId="alias/anything")
    assert error_of(exc)[0] == "NotFoundException"


def test_unsupported_specs_are_refused_clearly(server: Server) -> None:
    kms = server.client("kms")
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")
    assert error_of(exc)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="HMAC_256", KeyUsage="ENCRYPT_DECRYPT")
    assert error_of(exc)[0] == "ValidationException"
