"""The `--imds` listener: IMDSv2 tokens, the metadata paths, and instance-profile role credentials
picked up by boto3's own instance-metadata credential provider (no other credentials around)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conformance.sts_helpers import unique
from tests.support import Server, free_port

INSTANCE_ID = "i-0123456789abcdef0"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class Imds:
    """A raw HTTP client for one IMDS listener."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, ttl: int = 60) -> str:
        status, body = self.call("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})
        assert status == 200
        return body

    def get(self, path: str) -> tuple[int, str]:
        return self.call("GET", path, {"X-aws-ec2-metadata-token": self.token()})


@pytest.fixture(scope="module")
def imds_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Imds]]]:
    """A server with three IMDS listeners: profiles `web` (instance id pinned), `stranger`, `later`."""
    tmp = Path(tmp_path_factory.mktemp("imds"))
    server = Server(data_dir=tmp / "data", port=free_port(), database_url=None)
    server.cli("init", "--data-dir", str(server.data_dir))
    account = server.create_account("imds")
    ports = {name: free_port() for name in ("web", "stranger", "later")}
    flags: list[str] = []
    for name, port in ports.items():
        pinned = f",instance-id={INSTANCE_ID}" if name == "web" else ""
        flags += ["--imds", f"listen=127.0.0.1:{port},account={account.account_id},instance-profile={name}{pinned}"]
    server.start(*flags)
    try:
        yield server, {name: Imds(port) for name, port in ports.items()}
    finally:
        server.stop()
        shutil.rmtree(tmp / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def web_role(imds_server) -> tuple[str, str]:
    """Profile `web` holding a role that trusts EC2 and may kms:Encrypt under one key; (role, key ARN)."""
    server, _ = imds_server
    allowed = server.client("kms").create_key()["KeyMetadata"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": allowed}]}
    return _profile_with_role(server, "web", EC2_TRUST, policy), allowed


def _profile_with_role(server: Server, profile: str, trust: dict[str, Any], policy: dict[str, Any]) -> str:
    iam = server.client("iam")
    role = unique("ec2-role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(policy))
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    return role


def _only_instance_metadata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str) -> None:
    """No credentials anywhere but the instance metadata service at `endpoint`."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)


def test_gets_without_a_session_token_are_unauthorized(imds_server) -> None:
    web = imds_server[1]["web"]
    assert web.call("GET", "/latest/meta-data/instance-id")[0] == 401
    assert web.call("GET", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": "forged"})[0] == 401
    assert web.get("/latest/meta-data/instance-id") == (200, INSTANCE_ID)


def test_token_ttl_must_be_between_one_second_and_six_hours(imds_server) -> None:
    web = imds_server[1]["web"]
    assert web.call("PUT", "/latest/api/token")[0] == 400
    for ttl in ("0", "21601", "abc"):
        assert web.call("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})[0] == 400
    assert web.token(21600)


def test_token_requests_through_a_proxy_are_refused(imds_server) -> None:
    web = imds_server[1]["web"]
    headers = {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"}
    assert web.call("PUT", "/latest/api/token", headers)[0] == 403


def test_a_token_from_one_instance_does_not_open_another(imds_server) -> None:
    listeners = imds_server[1]
    token = listeners["web"].token()
    assert listeners["stranger"].call(
        "GET", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": token}
    )[0] == 401


def test_identity_document_names_the_account_instance_and_region(imds_server) -> None:
    server, listeners = imds_server
    status, body = listeners["web"].get("/latest/dynamic/instance-identity/document")
    document = json.loads(body)
    assert status == 200
    assert document["accountId"] == server.accounts[0].account_id
    assert document["instanceId"] == INSTANCE_ID and document["region"] == "us-east-1"
    derived = listeners["stranger"].get("/latest/meta-data/instance-id")[1]
    assert derived.startswith("i-") and len(derived) == 19 and derived != INSTANCE_ID
    assert "iam/" in listeners["web"].get("/latest/meta-data/")[1].split("\n")


def test_profile_created_after_start_serves_its_roles_credentials(imds_server) -> None:
    server, listeners = imds_server
    later = listeners["later"]
    assert later.get("/latest/meta-data/iam/security-credentials/")[0] == 404  # no profile yet
    role = _profile_with_role(server, "later", EC2_TRUST, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"},
    ]})
    assert later.get("/latest/meta-data/iam/security-credentials/") == (200, role)
    status, body = later.get(f"/latest/meta-data/iam/security-credentials/{role}")
    creds = json.loads(body)
    assert status == 200 and creds["Code"] == "Success" and creds["Type"] == "AWS-HMAC"
    assert creds["AccessKeyId"].startswith("ASIA") and creds["Expiration"].endswith("Z")
    again = json.loads(later.get(f"/latest/meta-data/iam/security-credentials/{role}")[1])
    assert again["AccessKeyId"] == creds["AccessKeyId"]  # cached until close to expiry
    assert later.get("/latest/meta-data/iam/security-credentials/other-role")[0] == 404
    info = json.loads(later.get("/latest/meta-data/iam/info")[1])
    assert info["Code"] == "Success" and info["InstanceProfileId"].startswith("AIPA")
    assert info["InstanceProfileArn"].endswith(":instance-profile/later")


def test_boto3_instance_metadata_provider_gets_credentials_that_the_roles_policy_governs(
    imds_server, web_role, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server, listeners = imds_server
    role, allowed = web_role
    other = server.client("kms").create_key()["KeyMetadata"]["Arn"]
    _only_instance_metadata(monkeypatch, tmp_path, listeners["web"].base + "/")
    session = boto3.Session(region_name="us-east-1")
    assert session.get_credentials().method == "iam-role"
    identity = session.client("sts", endpoint_url=server.endpoint).get_caller_identity()
    account = server.accounts[0].account_id
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role}/{INSTANCE_ID}"
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(f":{INSTANCE_ID}")
    kms = session.client("kms", endpoint_url=server.endpoint)
    kms.encrypt(KeyId=allowed, Plaintext=b"from the instance")
    with pytest.raises(ClientError) as info:
        kms.encrypt(KeyId=other, Plaintext=b"from the instance")
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"assumed-role/{role}/{INSTANCE_ID} is not authorized to perform: kms:Encrypt" in str(info.value)


def test_role_that_does_not_trust_ec2_yields_ec2s_error_document_until_it_does(imds_server) -> None:
    server, listeners = imds_server
    stranger = listeners["stranger"]
    user_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": server.accounts[0].arn}, "Action": "sts:AssumeRole"},
    ]}
    role = _profile_with_role(server, "stranger", user_only, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
    ]})
    document = json.loads(stranger.get(f"/latest/meta-data/iam/security-credentials/{role}")[1])
    assert document["Code"] == "AssumeRoleUnauthorizedAccess"
    assert document["Message"].startswith(f"EC2 cannot assume the role {role}.")
    assert "AccessKeyId" not in document
    assert json.loads(stranger.get("/latest/meta-data/iam/info")[1])["Code"] == "AssumeRoleUnauthorizedAccess"
    # Trusting EC2 afterwards takes effect on the next request: the trust policy is re-evaluated.
    iam = server.client("iam")
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(EC2_TRUST))
    fixed = json.loads(stranger.get(f"/latest/meta-data/iam/security-credentials/{role}")[1])
    assert fixed["Code"] == "Success" and fixed["AccessKeyId"].startswith("ASIA")
    # And taking the role out of the profile stops delivery at once.
    iam.remove_role_from_instance_profile(InstanceProfileName="stranger", RoleName=role)
    assert stranger.get("/latest/meta-data/iam/security-credentials/")[0] == 404
    assert stranger.get(f"/latest/meta-data/iam/security-credentials/{role}")[0] == 404
