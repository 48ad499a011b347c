"""STS temporary credentials end to end: GetSessionToken, GetFederationToken, GetCallerIdentity,
GetAccessKeyInfo, and the session token checks (tampered, expired, missing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from keystead.clock import FixedClock
from keystead.config import Settings
from keystead.identity.sessions import SessionTokens
from keystead.identity.session_principals import token_session_principal
from keystead.server.runtime import open_runtime
from keystead.types import Principal, PrincipalType
from tests.conformance.sts_helpers import KMS_ALL, make_user, session_client

KMS_AND_FEDERATION = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:*", "sts:GetFederationToken"], "Resource": "*"}]}
from tests.support import Server


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_get_session_token_gives_asia_credentials_that_act_as_the_user(server: Server) -> None:
    user_arn, user = make_user(server, server.accounts[0], KMS_ALL)
    creds = server.client("sts", user).get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    remaining = creds["Expiration"] - datetime.now(UTC)
    assert timedelta(seconds=850) < remaining <= timedelta(seconds=900)
    identity = session_client(server, "sts", creds).get_caller_identity()
    assert identity["Arn"] == user_arn
    assert identity["UserId"].startswith("AIDA")
    kms = session_client(server, "kms", creds)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)


def test_get_session_token_for_root_is_capped_at_one_hour(server: Server) -> None:
    creds = server.client("sts").get_session_token(DurationSeconds=129600)["Credentials"]
    assert creds["Expiration"] - datetime.now(UTC) <= timedelta(seconds=3600)
    identity = session_client(server, "sts", creds).get_caller_identity()
    assert identity["Arn"] == server.accounts[0].arn


def test_session_credentials_cannot_get_another_session_token(server: Server) -> None:
    creds = server.client("sts").get_session_token()["Credentials"]
    with pytest.raises(ClientError) as info:
        session_client(server, "sts", creds).get_session_token()
    assert _code(info) == "AccessDenied"
    assert info.value.response["Error"]["Message"] == "Cannot call GetSessionToken with session credentials"


def test_tampered_session_token_is_invalid_client_token_id(server: Server) -> None:
    creds = dict(server.client("sts").get_session_token()["Credentials"])
    token = creds["SessionToken"]
    middle = len(token) // 2
    creds["SessionToken"] = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(ClientError) as info:
        session_client(server, "sts", creds).get_caller_identity()
    assert _code(info) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as info:
        session_client(server, "kms", creds).list_keys()
    assert _code(info) == "UnrecognizedClientException"


def test_session_token_of_another_access_key_is_rejected(server: Server) -> None:
    first = server.client("sts").get_session_token()["Credentials"]
    second = server.client("sts").get_session_token()["Credentials"]
    mixed = dict(first, SessionToken=second["SessionToken"])
    with pytest.raises(ClientError) as info:
        session_client(server, "sts", mixed).get_caller_identity()
    assert _code(info) == "InvalidClientTokenId"


def test_temporary_key_without_its_session_token_is_rejected(server: Server) -> None:
    creds = server.client("sts").get_session_token()["Credentials"]
    client = server.client(
        "kms", access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"]
    )
    with pytest.raises(ClientError) as info:
        client.list_keys()
    assert _code(info) == "UnrecognizedClientException"
    assert info.value.response["Error"]["Message"] == "The security token included in the request is invalid."


def _expired_credentials(server: Server) -> dict[str, str]:
    # Another node (this test process, sharing the data directory) issued them two hours ago.
    runtime = open_runtime(Settings(data_dir=server.data_dir, database_url=server.database_url))
    try:
        issued_at = datetime.now(UTC) - timedelta(hours=2)
        tokens = SessionTokens(runtime.db, runtime.keyring, FixedClock(issued_at))
        account = server.accounts[0]
        root = Principal(PrincipalType.ROOT, account.account_id, account.arn, account.account_id,
                         identity_arn=account.arn)
        import asyncio

        principal = token_session_principal(root, issued_at, issued_at + timedelta(hours=1), mfa=False)
        issued = asyncio.run(tokens.issue(principal))
    finally:
        runtime.db.dispose()
    return {"AccessKeyId": issued.access_key_id, "SecretAccessKey": issued.secret_access_key,
            "SessionToken": issued.session_token}


def test_expired_session_token_is_expired_token(server: Server) -> None:
    creds = _expired_credentials(server)
    with pytest.raises(ClientError) as info:
        session_client(server, "sts", creds).get_caller_identity()
    assert _code(info) == "ExpiredToken"
    assert info.value.response["Error"]["Message"] == "The security token included in the request is expired"
    with pytest.raises(ClientError) as info:
        session_client(server, "kms", creds).list_keys()
    assert _code(info) == "ExpiredTokenException"


def test_federation_token_grants_only_what_user_and_session_policy_both_allow(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], KMS_AND_FEDERATION)
    kms_root = server.client("kms")
    key_id = kms_root.create_key()["KeyMetadata"]["KeyId"]
    session_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "sts:GetCallerIdentity"], "Resource": "*"}]}
    sts = server.client("sts", user)
    result = sts.get_federation_token(Name="bob-fed", Policy=json.dumps(session_policy), DurationSeconds=900)
    account_id = server.accounts[0].account_id
    assert result["FederatedUser"] == {
        "FederatedUserId": f"{account_id}:bob-fed",
        "Arn": f"arn:aws:sts::{account_id}:federated-user/bob-fed",
    }
    assert 0 < result["PackedPolicySize"] <= 100
    kms = session_client(server, "kms", result["Credentials"])
    kms.encrypt(KeyId=key_id, Plaintext=b"ok")
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId=key_id)
    assert _code(info) == "AccessDeniedException"
    assert f"arn:aws:sts::{account_id}:federated-user/bob-fed" in info.value.response["Error"]["Message"]


def test_federation_token_without_session_policy_grants_nothing(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], KMS_AND_FEDERATION)
    key_id = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    creds = server.client("sts", user).get_federation_token(Name="nopolicy")["Credentials"]
    with pytest.raises(ClientError) as info:
        session_client(server, "kms", creds).encrypt(KeyId=key_id, Plaintext=b"x")
    assert _code(info) == "AccessDeniedException"


def test_federation_token_needs_permission(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    with pytest.raises(ClientError) as info:
        server.client("sts", user).get_federation_token(Name="denied")
    assert _code(info) == "AccessDenied"
    assert "sts:GetFederationToken" in info.value.response["Error"]["Message"]


def test_malformed_session_policy_is_malformed_policy_document(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], KMS_AND_FEDERATION)
    with pytest.raises(ClientError) as info:
        server.client("sts", user).get_federation_token(Name="bad", Policy='{"Statement": "nope"}')
    assert _code(info) == "MalformedPolicyDocument"


def test_get_access_key_info_names_the_owning_account(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    sts = server.client("sts")
    assert sts.get_access_key_info(AccessKeyId=user.access_key_id)["Account"] == server.accounts[0].account_id
    creds = sts.get_session_token()["Credentials"]
    own = session_client(server, "sts", creds).get_access_key_info(AccessKeyId=creds["AccessKeyId"])
    assert own["Account"] == server.accounts[0].account_id
