"""Key policies enforced end to end by the policy engine (through boto3, live server)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def root(account: Account) -> str:
    return f"arn:aws:iam::{account.account_id}:root"


def admin_statement(account: Account) -> dict[str, Any]:
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root(account)}, "Action": "kms:*", "Resource": "*"}


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("owner")


@pytest.fixture(scope="module")
def other(server: Server) -> Account:
    return server.create_account("other")


def test_root_has_no_implicit_access_when_the_key_policy_leaves_the_account_out(
    server: Server, owner: Account, other: Account
) -> None:
    kms = server.client("kms", owner)
    only_other = policy({"Effect": "Allow", "Principal": {"AWS": root(other)}, "Action": "kms:*", "Resource": "*"})
    key = kms.create_key(Policy=only_other, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=key["KeyId"])
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert message == (
        f"User: {root(owner)} is not authorized to perform: kms:DescribeKey on resource: {key['Arn']} "
        "because no resource-based policy allows the kms:DescribeKey action"
    )
    # The account named in the policy can use it, by key ARN, across accounts.
    other_kms = server.client("kms", other)
    blob = other_kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    assert other_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_explicit_deny_in_the_key_policy_wins(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    deny_encrypt = {"Sid": "NoEncrypt", "Effect": "Deny", "Principal": {"AWS": root(owner)},
                    "Action": "kms:Encrypt", "Resource": "*"}
    key_id = kms.create_key(Policy=policy(admin_statement(owner), deny_encrypt))["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in a resource-based policy")
    assert kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]


def test_encryption_context_conditions(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    admin = dict(admin_statement(owner), Action=["kms:Describe*", "kms:Put*", "kms:Get*", "kms:List*"])
    use = {"Sid": "UseWithDept", "Effect": "Allow", "Principal": {"AWS": root(owner)},
           "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
           "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "finance"}}}
    key_id = kms.create_key(Policy=policy(admin, use))["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext={"dept": "finance"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "finance"})["Plaintext"] == b"p"
    for context in ({}, {"dept": "sales"}):
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=context)
        assert error_of(exc)[0] == "AccessDeniedException"


def test_source_ip_conditions(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    from_loopback = dict(admin_statement(owner), Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})
    key_ok = kms.create_key(Policy=policy(from_loopback))["KeyMetadata"]["KeyId"]
    assert kms.encrypt(KeyId=key_ok, Plaintext=b"x")["CiphertextBlob"]
    from_elsewhere = dict(admin_statement(owner), Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    key_denied = kms.create_key(Policy=policy(from_elsewhere), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_denied["KeyId"], Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"


def test_resource_tag_conditions(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    admin = dict(admin_statement(owner), Action=["kms:Describe*", "kms:Put*", "kms:Get*"])
    tagged_use = {"Effect": "Allow", "Principal": {"AWS": root(owner)}, "Action": "kms:Encrypt", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}
    prod = kms.create_key(Policy=policy(admin, tagged_use), Tags=[{"TagKey": "env", "TagValue": "prod"}])
    dev = kms.create_key(Policy=policy(admin, tagged_use), Tags=[{"TagKey": "env", "TagValue": "dev"}])
    assert kms.encrypt(KeyId=prod["KeyMetadata"]["KeyId"], Plaintext=b"x")
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=dev["KeyMetadata"]["KeyId"], Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"


def test_lockout_safety_check(server: Server, owner: Account, other: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    use_only = policy({"Effect": "Allow", "Principal": {"AWS": root(owner)}, "Action": "kms:Encrypt", "Resource": "*"})
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=use_only)
    assert error_of(exc) == (
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    )
    with pytest.raises(ClientError) as exc:
        kms.create_key(Policy=use_only)
    assert error_of(exc)[0] == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=use_only, BypassPolicyLockoutSafetyCheck=True)
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="default")
    assert error_of(exc)[0] == "AccessDeniedException"


def test_principals_that_do_not_exist_are_rejected(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    ghost = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*",
             "Resource": "*"}
    with pytest.raises(ClientError) as exc:
        kms.create_key(Policy=policy(admin_statement(owner), ghost))
    assert error_of(exc) == (
        "MalformedPolicyDocumentException", "Policy contains a statement with one or more invalid principals."
    )


def test_cross_account_needs_the_key_policy(server: Server, owner: Account, other: Account) -> None:
    key = server.client("kms", owner).create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        server.client("kms", other).describe_key(KeyId=key["Arn"])
    assert error_of(exc)[0] == "AccessDeniedException"
    shared = policy(admin_statement(owner), {"Effect": "Allow", "Principal": {"AWS": root(other)},
                                             "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"})
    server.client("kms", owner).put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=shared)
    other_kms = server.client("kms", other)
    assert other_kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert other_kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError) as exc:
        other_kms.decrypt(CiphertextBlob=server.client("kms", owner).encrypt(KeyId=key["KeyId"], Plaintext=b"y")[
            "CiphertextBlob"])
    assert error_of(exc)[0] == "AccessDeniedException"
    # A bare key id resolves in the caller's own account only.
    with pytest.raises(ClientError) as exc:
        other_kms.describe_key(KeyId=key["KeyId"])
    assert error_of(exc)[0] == "NotFoundException"


def test_principal_star_with_caller_account_condition(server: Server, owner: Account, other: Account) -> None:
    kms = server.client("kms", owner)
    star = {"Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": other.account_id}}}
    key = kms.create_key(Policy=policy(admin_statement(owner), star))["KeyMetadata"]
    assert server.client("kms", other).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    third = server.create_account("third")
    with pytest.raises(ClientError) as exc:
        server.client("kms", third).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"
