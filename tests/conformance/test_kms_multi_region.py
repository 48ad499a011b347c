"""Multi-Region primary keys through boto3 against a live server (ReplicateKey is not implemented yet)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import user_with_key
from tests.support import Account, Server

MRK_ID = re.compile(r"^mrk-[0-9a-f]{32}$")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("mrk-owner")


def test_a_multi_region_key_gets_an_mrk_id_and_describes_itself_as_a_primary_without_replicas(
    server: Server, owner: Account
) -> None:
    kms = server.client("kms", owner)
    created = kms.create_key(MultiRegion=True, Description="global")["KeyMetadata"]
    assert MRK_ID.match(created["KeyId"])
    assert created["Arn"] == f"arn:aws:kms:us-east-1:{owner.account_id}:key/{created['KeyId']}"
    described = kms.describe_key(KeyId=created["Arn"])["KeyMetadata"]
    for meta in (created, described):
        assert meta["MultiRegion"] is True
        assert meta["MultiRegionConfiguration"] == {
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": created["Arn"], "Region": "us-east-1"},
            "ReplicaKeys": [],
        }


def test_a_single_region_key_has_a_uuid_id_and_no_multi_region_configuration(server: Server, owner: Account) -> None:
    meta = server.client("kms", owner).create_key()["KeyMetadata"]
    assert not meta["KeyId"].startswith("mrk-")
    assert meta["MultiRegion"] is False
    assert "MultiRegionConfiguration" not in meta


def test_a_multi_region_key_encrypts_and_decrypts_by_id_alias_and_without_a_key_id(
    server: Server, owner: Account
) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/mrk-round-trip", TargetKeyId=key_id)
    blob = kms.encrypt(KeyId="alias/mrk-round-trip", Plaintext=b"everywhere")["CiphertextBlob"]
    opened = kms.decrypt(CiphertextBlob=blob)
    assert (opened["Plaintext"], opened["KeyId"].rsplit("/", 1)[1]) == (b"everywhere", key_id)
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], KeyId=key_id)["Plaintext"] == data_key["Plaintext"]


def test_asymmetric_and_hmac_multi_region_keys_sign_and_mac(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    signing = kms.create_key(MultiRegion=True, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert MRK_ID.match(signing["KeyId"])
    signature = kms.sign(KeyId=signing["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    verified = kms.verify(KeyId=signing["KeyId"], Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    assert verified["SignatureValid"] is True
    hmac = kms.create_key(MultiRegion=True, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    mac = kms.generate_mac(KeyId=hmac["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=hmac["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]


def test_a_key_policy_can_single_out_multi_region_primary_keys(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {
            "Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}},
        },
    )
    primary = kms.create_key(MultiRegion=True, Policy=document)["KeyMetadata"]
    single = kms.create_key(Policy=document)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "with an explicit deny in a resource-based policy" in exc.value.response["Error"]["Message"]
    # A single-Region key has no kms:MultiRegionKeyType, so StringEquals does not match it.
    assert kms.encrypt(KeyId=single["KeyId"], Plaintext=b"x")["CiphertextBlob"]


def test_an_iam_policy_can_forbid_creating_multi_region_keys(server: Server, owner: Account) -> None:
    name, user = user_with_key(server, owner)
    server.client("iam", owner).put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:CreateKey", "Resource": "*",
         "Condition": {"Bool": {"kms:MultiRegion": "true"}}},
    ))
    kms = server.client("kms", user)
    with pytest.raises(ClientError) as exc:
        kms.create_key(MultiRegion=True)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert kms.create_key()["KeyMetadata"]["MultiRegion"] is False
