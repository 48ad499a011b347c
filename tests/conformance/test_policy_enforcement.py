"""Issue 3's end-to-end checks: key policies and IAM policies decide together, as AWS does.

Every case runs through boto3 against a live server with real IAM users and their own keys.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.support import Account, Server


def root(account: Account) -> str:
    return f"arn:aws:iam::{account.account_id}:root"


def key_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def admin(account: Account) -> dict[str, Any]:
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root(account)}, "Action": "kms:*",
            "Resource": "*"}


def denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    code, message = error_of(exc)
    assert code == "AccessDeniedException", (code, message)
    return message


@pytest.fixture(scope="module")
def acct_a(server: Server) -> Account:
    return server.create_account("policy-a")


@pytest.fixture(scope="module")
def acct_b(server: Server) -> Account:
    return server.create_account("policy-b")


def user_allowed(server: Server, account: Account, actions: list[str], resource: str = "*",
                 condition: dict[str, Any] | None = None) -> tuple[str, Account]:
    name, creds = user_with_key(server, account)
    statement = allow(actions, resource)
    if condition:
        statement["Condition"] = condition
    server.client("iam", account).put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=document(statement))
    return name, creds


def test_default_key_policy_lets_iam_policies_decide(server: Server, acct_a: Account) -> None:
    key = server.client("kms", acct_a).create_key()["KeyMetadata"]
    _, allowed = user_allowed(server, acct_a, ["kms:Encrypt"])
    _, nothing = user_with_key(server, acct_a)
    assert server.client("kms", allowed).encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    message = denied(server.client("kms", nothing).encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert message.endswith("because no identity-based policy allows the kms:Encrypt action")


def test_without_account_delegation_iam_policies_are_useless(server: Server, acct_a: Account) -> None:
    name, user = user_allowed(server, acct_a, ["kms:*"])
    only_root_admin = {"Effect": "Allow", "Principal": {"AWS": root(acct_a)}, "Action": "kms:*", "Resource": "*",
                       "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}}}
    key = server.client("kms", acct_a).create_key(Policy=key_policy(only_root_admin))["KeyMetadata"]
    message = denied(server.client("kms", user).encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert message.endswith("because no resource-based policy allows the kms:Encrypt action")


def test_key_policy_naming_a_user_needs_no_iam_policy(server: Server, acct_a: Account) -> None:
    name, user = user_with_key(server, acct_a)
    user_arn = f"arn:aws:iam::{acct_a.account_id}:user/{name}"
    direct = {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": ["kms:Encrypt", "kms:Decrypt"],
              "Resource": "*"}
    key = server.client("kms", acct_a).create_key(Policy=key_policy(admin(acct_a), direct))["KeyMetadata"]
    kms = server.client("kms", user)
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"direct")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"direct"
    denied(kms.describe_key, KeyId=key["KeyId"])


def test_explicit_deny_in_an_iam_policy_beats_the_key_policy(server: Server, acct_a: Account) -> None:
    name, user = user_with_key(server, acct_a)
    user_arn = f"arn:aws:iam::{acct_a.account_id}:user/{name}"
    direct = {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:Encrypt", "Resource": "*"}
    key = server.client("kms", acct_a).create_key(Policy=key_policy(admin(acct_a), direct))["KeyMetadata"]
    deny = {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": key["Arn"]}
    server.client("iam", acct_a).put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=document(deny))
    message = denied(server.client("kms", user).encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_explicit_deny_in_the_key_policy_beats_an_iam_allow(server: Server, acct_a: Account) -> None:
    name, user = user_allowed(server, acct_a, ["kms:Encrypt"])
    user_arn = f"arn:aws:iam::{acct_a.account_id}:user/{name}"
    deny = {"Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "kms:Encrypt", "Resource": "*"}
    key = server.client("kms", acct_a).create_key(Policy=key_policy(admin(acct_a), deny))["KeyMetadata"]
    message = denied(server.client("kms", user).encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_encryption_context_condition_in_an_iam_policy(server: Server, acct_a: Account) -> None:
    key = server.client("kms", acct_a).create_key()["KeyMetadata"]
    _, user = user_allowed(server, acct_a, ["kms:Encrypt"], condition={
        "StringEquals": {"kms:EncryptionContext:app": "billing"}})
    kms = server.client("kms", user)
    assert kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "billing"})
    denied(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "other"})
    denied(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_source_ip_condition_in_an_iam_policy(server: Server, acct_a: Account) -> None:
    key = server.client("kms", acct_a).create_key()["KeyMetadata"]
    _, local = user_allowed(server, acct_a, ["kms:Encrypt"], condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}})
    _, remote = user_allowed(server, acct_a, ["kms:Encrypt"], condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})
    assert server.client("kms", local).encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    denied(server.client("kms", remote).encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_principal_tags_match_resource_tags_abac(server: Server, acct_a: Account) -> None:
    kms_admin = server.client("kms", acct_a)
    blue = kms_admin.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]
    red = kms_admin.create_key(Tags=[{"TagKey": "team", "TagValue": "red"}])["KeyMetadata"]
    name, user = user_allowed(server, acct_a, ["kms:Encrypt"], condition={
        "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})
    server.client("iam", acct_a).tag_user(UserName=name, Tags=[{"Key": "team", "Value": "blue"}])
    kms = server.client("kms", user)
    assert kms.encrypt(KeyId=blue["KeyId"], Plaintext=b"x")
    denied(kms.encrypt, KeyId=red["KeyId"], Plaintext=b"x")


def test_request_alias_condition(server: Server, acct_a: Account) -> None:
    kms_admin = server.client("kms", acct_a)
    key = kms_admin.create_key()["KeyMetadata"]
    alias = unique("alias/app")
    kms_admin.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    _, user = user_allowed(server, acct_a, ["kms:Encrypt"], condition={"StringEquals": {"kms:RequestAlias": alias}})
    kms = server.client("kms", user)
    assert kms.encrypt(KeyId=alias, Plaintext=b"x")
    denied(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")


@pytest.mark.parametrize("key_policy_allows,iam_allows", [(True, True), (True, False), (False, True), (False, False)])
def test_cross_account_needs_both_sides(
    server: Server, acct_a: Account, acct_b: Account, key_policy_allows: bool, iam_allows: bool
) -> None:
    statements = [admin(acct_a)]
    if key_policy_allows:
        statements.append({"Effect": "Allow", "Principal": {"AWS": root(acct_b)}, "Action": "kms:Encrypt",
                           "Resource": "*"})
    key = server.client("kms", acct_a).create_key(Policy=key_policy(*statements))["KeyMetadata"]
    if iam_allows:
        _, user = user_allowed(server, acct_b, ["kms:Encrypt"], resource=key["Arn"])
    else:
        _, user = user_with_key(server, acct_b)
    kms = server.client("kms", user)
    if key_policy_allows and iam_allows:
        assert kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
    else:
        denied(kms.encrypt, KeyId=key["Arn"], Plaintext=b"x")


def test_iam_calls_are_authorized_too(server: Server, acct_a: Account) -> None:
    _, user = user_with_key(server, acct_a)
    with pytest.raises(ClientError) as exc:
        server.client("iam", user).create_user(UserName=unique("nope"))
    assert error_of(exc)[0] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
