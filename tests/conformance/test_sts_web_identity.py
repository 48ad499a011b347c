"""AssumeRoleWithWebIdentity against a real (tiny) OIDC issuer on 127.0.0.1, and IAM's OIDC
provider operations; ends with the SDK's own web identity credential provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conformance.oidc_issuer import OidcIssuer
from tests.conformance.sts_helpers import KMS_ALL, make_role, unique
from tests.support import Server

AUDIENCE = "sts.amazonaws.com"


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as running:
        yield running


@pytest.fixture(scope="module")
def provider_arn(server: Server, issuer: OidcIssuer) -> str:
    iam = server.client("iam")
    arn: str = iam.create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=[AUDIENCE], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    return arn


def _unsigned_sts(server: Server) -> Any:
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def _web_role(server: Server, provider_arn: str, sub: str = "repo:acme/app") -> str:
    host = provider_arn.split("oidc-provider/", 1)[1]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": AUDIENCE, f"{host}:sub": sub}},
    }]}
    return make_role(server, server.accounts[0], trust, KMS_ALL)


def test_oidc_provider_is_registered_and_readable(server: Server, issuer: OidcIssuer, provider_arn: str) -> None:
    account_id = server.accounts[0].account_id
    assert provider_arn == f"arn:aws:iam::{account_id}:oidc-provider/{issuer.url.split('://', 1)[1]}"
    iam = server.client("iam")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
    assert got["ClientIDList"] == [AUDIENCE]
    assert got["ThumbprintList"] == ["a" * 40]
    listed = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert provider_arn in listed
    with pytest.raises(ClientError) as info:
        iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=[AUDIENCE], ThumbprintList=["b" * 40])
    assert info.value.response["Error"]["Code"] == "EntityAlreadyExists"


def test_plain_http_provider_url_is_refused_unless_loopback(server: Server) -> None:
    with pytest.raises(ClientError) as info:
        server.client("iam").create_open_id_connect_provider(
            Url="http://issuer.example.com", ClientIDList=["x"], ThumbprintList=["c" * 40]
        )
    assert info.value.response["Error"]["Code"] == "InvalidInput"


def test_web_identity_token_buys_a_role_session(server: Server, issuer: OidcIssuer, provider_arn: str) -> None:
    role_arn = _web_role(server, provider_arn)
    result = _unsigned_sts(server).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="web-1", WebIdentityToken=issuer.token()
    )
    assert result["SubjectFromWebIdentityToken"] == "repo:acme/app"
    assert result["Audience"] == AUDIENCE
    assert result["Provider"] == issuer.url
    assert result["AssumedRoleUser"]["Arn"].endswith(f"/{role_arn.rsplit('/', 1)[1]}/web-1")
    creds = result["Credentials"]
    kms = server.client("kms", access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"],
                        session_token=creds["SessionToken"])
    key = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key, Plaintext=b"x")


@pytest.mark.parametrize(
    ("token_kwargs", "code"),
    [
        ({"sub": "repo:evil/app"}, "AccessDenied"),
        ({"aud": "someone-else"}, "InvalidIdentityToken"),
        ({"lifetime": -600}, "ExpiredTokenException"),
    ],
)
def test_bad_web_identity_tokens_are_refused(
    server: Server, issuer: OidcIssuer, provider_arn: str, token_kwargs: dict[str, Any], code: str
) -> None:
    role_arn = _web_role(server, provider_arn)
    with pytest.raises(ClientError) as info:
        _unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="web-2", WebIdentityToken=issuer.token(**token_kwargs)
        )
    assert info.value.response["Error"]["Code"] == code


def test_forged_signature_is_invalid_identity_token(server: Server, issuer: OidcIssuer, provider_arn: str) -> None:
    role_arn = _web_role(server, provider_arn)
    head, body, _ = issuer.token().split(".")
    with OidcIssuer() as impostor:  # same claims, signed by a key the issuer never published
        forged = f"{head}.{body}.{impostor.token().split('.')[2]}"
    with pytest.raises(ClientError) as info:
        _unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="web-3", WebIdentityToken=forged
        )
    assert info.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_sdk_web_identity_provider_works_untouched(
    server: Server, issuer: OidcIssuer, provider_arn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role_arn = _web_role(server, provider_arn)
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", role_arn)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", unique("sdk"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    session = boto3.Session(region_name="us-east-1")
    key = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    kms = session.client("kms")
    kms.encrypt(KeyId=key, Plaintext=b"x")
    denied_role = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]})
    server.client("iam").put_role_policy(RoleName=role_arn.rsplit("/", 1)[1], PolicyName="deny",
                                         PolicyDocument=denied_role)
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=blob)
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
