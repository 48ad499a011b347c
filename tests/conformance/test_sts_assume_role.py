"""AssumeRole end to end: trust policies, session policies and tags, chaining, cross-account,
and the SDK's own AssumeRole credential provider (role_arn + source_profile)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conformance.sts_helpers import KMS_ALL, make_role, make_user, session_client, trust, unique
from tests.support import Server

ASSUME_ANY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _key(server: Server, account: Any = None) -> str:
    return str(server.client("kms", account).create_key()["KeyMetadata"]["Arn"])


def test_assume_role_named_in_trust_policy_acts_with_role_policies(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    role_arn = make_role(server, account, trust({"AWS": user_arn}), KMS_ALL)
    result = server.client("sts", user).assume_role(RoleArn=role_arn, RoleSessionName="sess-1")
    role_name = role_arn.rsplit("/", 1)[1]
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.account_id}:assumed-role/{role_name}/sess-1"
    assert result["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert result["AssumedRoleUser"]["AssumedRoleId"].endswith(":sess-1")
    creds = result["Credentials"]
    identity = session_client(server, "sts", creds).get_caller_identity()
    assert identity["Arn"] == result["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == result["AssumedRoleUser"]["AssumedRoleId"]
    key = _key(server)
    session_client(server, "kms", creds).encrypt(KeyId=key, Plaintext=b"secret")


def test_account_trust_needs_assume_role_in_the_callers_policy(server: Server) -> None:
    account = server.accounts[0]
    role_arn = make_role(server, account, trust({"AWS": account.arn}), KMS_ALL)
    _, without = make_user(server, account, None)
    with pytest.raises(ClientError) as info:
        server.client("sts", without).assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert _code(info) == "AccessDenied"
    assert f"is not authorized to perform: sts:AssumeRole on resource: {role_arn}" in str(info.value)
    _, allowed = make_user(server, account, ASSUME_ANY)
    server.client("sts", allowed).assume_role(RoleArn=role_arn, RoleSessionName="s1")


def test_role_trusting_only_a_service_cannot_be_assumed_by_users(server: Server) -> None:
    account = server.accounts[0]
    role_arn = make_role(server, account, trust({"Service": "ec2.amazonaws.com"}), KMS_ALL)
    _, user = make_user(server, account, ASSUME_ANY)
    with pytest.raises(ClientError) as info:
        server.client("sts", user).assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert _code(info) == "AccessDenied"


def test_root_user_cannot_assume_roles(server: Server) -> None:
    account = server.accounts[0]
    role_arn = make_role(server, account, trust({"AWS": account.arn}))
    with pytest.raises(ClientError) as info:
        server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert info.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."


def test_unknown_role_is_access_denied_not_not_found(server: Server) -> None:
    account = server.accounts[0]
    _, user = make_user(server, account, ASSUME_ANY)
    missing = f"arn:aws:iam::{account.account_id}:role/{unique('nope')}"
    with pytest.raises(ClientError) as info:
        server.client("sts", user).assume_role(RoleArn=missing, RoleSessionName="s1")
    assert _code(info) == "AccessDenied"


def test_external_id_condition_in_trust_policy(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    role_arn = make_role(server, account, trust({"AWS": user_arn}, StringEquals={"sts:ExternalId": "xyz-123"}))
    sts = server.client("sts", user)
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="wrong-id")
    sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="xyz-123")


def test_session_policy_narrows_the_role(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    role_arn = make_role(server, account, trust({"AWS": user_arn}), KMS_ALL)
    key = _key(server)
    only_encrypt = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}
    result = server.client("sts", user).assume_role(
        RoleArn=role_arn, RoleSessionName="narrow", Policy=json.dumps(only_encrypt)
    )
    assert 0 < result["PackedPolicySize"] <= 100
    kms = session_client(server, "kms", result["Credentials"])
    kms.encrypt(KeyId=key, Plaintext=b"x")
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId=key)
    assert _code(info) == "AccessDeniedException"


def test_session_tags_need_tag_session_and_become_principal_tags(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    tagged_kms = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
    }]}
    no_tagging = make_role(server, account, trust({"AWS": user_arn}), tagged_kms)
    sts = server.client("sts", user)
    with pytest.raises(ClientError) as info:
        sts.assume_role(RoleArn=no_tagging, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "blue"}])
    assert "sts:TagSession" in str(info.value)
    role_arn = make_role(server, account, trust({"AWS": user_arn}, ["sts:AssumeRole", "sts:TagSession"]), tagged_kms)
    key = _key(server)
    blue = sts.assume_role(RoleArn=role_arn, RoleSessionName="b1", Tags=[{"Key": "team", "Value": "blue"}])
    session_client(server, "kms", blue["Credentials"]).encrypt(KeyId=key, Plaintext=b"x")
    red = sts.assume_role(RoleArn=role_arn, RoleSessionName="r1", Tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError):
        session_client(server, "kms", red["Credentials"]).encrypt(KeyId=key, Plaintext=b"x")


def test_source_identity_needs_set_source_identity_and_is_returned(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    plain = make_role(server, account, trust({"AWS": user_arn}))
    sts = server.client("sts", user)
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=plain, RoleSessionName="s1", SourceIdentity="alice")
    role_arn = make_role(server, account, trust({"AWS": user_arn}, ["sts:AssumeRole", "sts:SetSourceIdentity"]))
    result = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", SourceIdentity="alice")
    assert result["SourceIdentity"] == "alice"


def test_duration_is_bounded_by_max_session_duration(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    role_arn = make_role(server, account, trust({"AWS": user_arn}))
    with pytest.raises(ClientError) as info:
        server.client("sts", user).assume_role(RoleArn=role_arn, RoleSessionName="s1", DurationSeconds=7200)
    assert _code(info) == "ValidationError"
    assert "MaxSessionDuration" in info.value.response["Error"]["Message"]


def test_role_chaining_is_limited_to_one_hour(server: Server) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    first = make_role(server, account, trust({"AWS": user_arn}), ASSUME_ANY)
    second = make_role(server, account, trust({"AWS": first}), KMS_ALL, MaxSessionDuration=7200)
    creds = server.client("sts", user).assume_role(RoleArn=first, RoleSessionName="one")["Credentials"]
    chained_sts = session_client(server, "sts", creds)
    with pytest.raises(ClientError) as info:
        chained_sts.assume_role(RoleArn=second, RoleSessionName="two", DurationSeconds=7200)
    assert "role chaining" in info.value.response["Error"]["Message"]
    chained = chained_sts.assume_role(RoleArn=second, RoleSessionName="two")
    assert chained["AssumedRoleUser"]["Arn"].endswith(f"/{second.rsplit('/', 1)[1]}/two")


def test_cross_account_assumption_needs_both_sides(server: Server) -> None:
    home = server.accounts[0]
    other = server.create_account("other")
    role_arn = make_role(server, other, trust({"AWS": home.account_id}), KMS_ALL)
    _, without = make_user(server, home, None)
    with pytest.raises(ClientError):
        server.client("sts", without).assume_role(RoleArn=role_arn, RoleSessionName="x1")
    _, user = make_user(server, home, ASSUME_ANY)
    result = server.client("sts", user).assume_role(RoleArn=role_arn, RoleSessionName="x1")
    assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{other.account_id}:assumed-role/")
    key = _key(server, other)
    session_client(server, "kms", result["Credentials"]).encrypt(KeyId=key, Plaintext=b"x")
    # The role's account trusts the home account only: a third account is turned away.
    third = server.create_account("third")
    _, stranger = make_user(server, third, ASSUME_ANY)
    with pytest.raises(ClientError):
        server.client("sts", stranger).assume_role(RoleArn=role_arn, RoleSessionName="x1")


def test_sdk_assume_role_profile_works_untouched(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = server.accounts[0]
    user_arn, user = make_user(server, account, None)
    encrypt_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}
    role_arn = make_role(server, account, trust({"AWS": user_arn}), encrypt_only)
    config = tmp_path / "config"
    config.write_text(
        f"[profile base]\naws_access_key_id = {user.access_key_id}\n"
        f"aws_secret_access_key = {user.secret_access_key}\nregion = us-east-1\nendpoint_url = {server.endpoint}\n\n"
        f"[profile ops]\nrole_arn = {role_arn}\nsource_profile = base\nrole_session_name = sdk-session\n"
        f"region = us-east-1\nendpoint_url = {server.endpoint}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.Session(profile_name="ops")
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"].endswith(f"/{role_arn.rsplit('/', 1)[1]}/sdk-session")
    key = _key(server)
    kms = session.client("kms")
    kms.encrypt(KeyId=key, Plaintext=b"allowed")
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId=key)
    assert _code(info) == "AccessDeniedException"
