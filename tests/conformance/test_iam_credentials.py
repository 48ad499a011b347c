"""Access keys, login profiles, the password policy and account operations through boto3."""

from __future__ import annotations

import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.conformance.test_aws_cli import AWS
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("iamcreds")


def test_access_keys_are_at_most_two_and_their_secret_is_shown_once(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("u")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    last = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last["UserName"] == name and last["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(UserName=name, AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert error_of(exc) == ("NoSuchEntity", "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.")


def test_a_user_key_authenticates_as_the_user_for_sts(server: Server, owner: Account) -> None:
    name, creds = user_with_key(server, owner)
    identity = server.client("sts", creds).get_caller_identity()
    assert identity["Arn"] == creds.arn and identity["UserId"].startswith("AIDA")


def test_a_user_manages_its_own_keys_when_allowed(server: Server, owner: Account) -> None:
    name, creds = user_with_key(server, owner)
    server.client("iam", owner).put_user_policy(UserName=name, PolicyName="own", PolicyDocument=document(
        allow(["iam:*AccessKey*"], f"arn:aws:iam::{owner.account_id}:user/${{aws:username}}")))
    iam = server.client("iam", creds)
    new = iam.create_access_key()["AccessKey"]
    assert new["UserName"] == name
    assert {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]} == {
        creds.access_key_id, new["AccessKeyId"]}
    iam.delete_access_key(AccessKeyId=new["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        iam.list_access_keys(UserName=unique("someone-else"))
    assert error_of(exc)[0] == "AccessDenied"


def test_login_profiles_follow_the_account_password_policy(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    with pytest.raises(ClientError) as exc:
        iam.get_account_password_policy()
    assert error_of(exc) == ("NoSuchEntity",
                             f"The Password Policy with domain name {owner.account_id} cannot be found.")
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True,
                                       AllowUsersToChangePassword=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireNumbers"] is True
    name, creds = user_with_key(server, owner)
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=name, Password="short1")
    assert error_of(exc)[0] == "PasswordPolicyViolation"
    profile = iam.create_login_profile(UserName=name, Password="long-enough-pw-1", PasswordResetRequired=True)
    assert profile["LoginProfile"]["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=name, Password="long-enough-pw-1")
    assert error_of(exc)[0] == "EntityAlreadyExists"
    # AllowUsersToChangePassword lets the user change its own password without an IAM policy.
    user_iam = server.client("iam", creds)
    with pytest.raises(ClientError) as exc:
        user_iam.change_password(OldPassword="wrong-password-9", NewPassword="another-long-pw-2")
    assert error_of(exc)[0] == "AccessDenied"
    user_iam.change_password(OldPassword="long-enough-pw-1", NewPassword="another-long-pw-2")
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete entity, must delete login profile first.")
    iam.delete_login_profile(UserName=name)
    iam.delete_account_password_policy()


def test_account_alias_summary_and_authorization_details(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    alias = unique("corp")
    iam.create_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    other = server.create_account("aliasother")
    with pytest.raises(ClientError) as exc:
        server.client("iam", other).create_account_alias(AccountAlias=alias)
    assert error_of(exc)[0] == "EntityAlreadyExists"
    iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []
    name = unique("u")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document(allow("kms:Encrypt")))
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] >= 1 and summary["AccessKeysPerUserQuota"] == 2
    details = iam.get_account_authorization_details(Filter=["User"])
    mine = [u for u in details["UserDetailList"] if u["UserName"] == name]
    assert mine and mine[0]["UserPolicyList"][0]["PolicyName"] == "p"
    assert mine[0]["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "kms:Encrypt"


def test_the_aws_cli_manages_users_policies_and_keys(server: Server, owner: Account) -> None:
    env = dict(os.environ, AWS_ACCESS_KEY_ID=owner.access_key_id, AWS_SECRET_ACCESS_KEY=owner.secret_access_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_PROFILE", None)

    def aws(*args: str) -> str:
        out = subprocess.run([AWS, "--endpoint-url", server.endpoint, "--output", "text", *args],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    name = unique("cli")
    assert aws("iam", "create-user", "--user-name", name, "--query", "User.UserName") == name
    aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "p",
        "--policy-document", document(allow("kms:Encrypt")))
    assert aws("iam", "list-user-policies", "--user-name", name, "--query", "PolicyNames[0]") == "p"
    aws("iam", "attach-user-policy", "--user-name", name, "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert aws("iam", "list-attached-user-policies", "--user-name", name,
               "--query", "AttachedPolicies[0].PolicyName") == "ReadOnlyAccess"
    key_id = aws("iam", "create-access-key", "--user-name", name, "--query", "AccessKey.AccessKeyId")
    assert key_id.startswith("AKIA")
    failed = subprocess.run([AWS, "--endpoint-url", server.endpoint, "iam", "get-user", "--user-name", "no-such"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert failed.returncode != 0 and "NoSuchEntity" in failed.stderr
