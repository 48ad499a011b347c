"""VPC endpoint listeners and endpoint policies, end to end (boto3 and the AWS CLI, live servers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.network_support import (
    ENDPOINT_A,
    ENDPOINT_B,
    VPC_A,
    VPC_B,
    admin,
    another_node,
    client_at,
    endpoint_flag,
    policy,
    root,
)
from tests.support import Account, Server, free_port, running_server

ENDPOINT_C = "vpce-0c0c0c0c0c0c0c0c0"  # default policy; the runtime-modification tests use it
VPC_C = "vpc-0c0c0c0c"
AWS = str(Path(sys.executable).with_name("aws"))
B_POLICY = policy(
    {"Effect": "Allow", "Principal": "*", "Resource": "*",
     "Action": ["kms:CreateKey", "kms:DescribeKey", "kms:Decrypt", "kms:DisableKey"]},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:DisableKey", "Resource": "*"},
)
DENY_ENCRYPT = policy(
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"},
)


@dataclass
class Deployment:
    server: Server
    ports: dict[str, int]

    @property
    def owner(self) -> Account:
        return self.server.accounts[0]

    def kms_via(self, endpoint_id: str, account: Account | None = None) -> Any:
        return client_at(f"http://127.0.0.1:{self.ports[endpoint_id]}", "kms", account or self.owner)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = Path(tmp_path_factory.mktemp("network"))
    policy_file = tmp / "endpoint-b.json"
    policy_file.write_text(B_POLICY)
    ports = {ENDPOINT_A: free_port(), ENDPOINT_B: free_port(), ENDPOINT_C: free_port()}
    flags = (*endpoint_flag(ENDPOINT_A, VPC_A, ports[ENDPOINT_A]),
             *endpoint_flag(ENDPOINT_B, VPC_B, ports[ENDPOINT_B], policy=str(policy_file)),
             *endpoint_flag(ENDPOINT_C, VPC_C, ports[ENDPOINT_C]))
    with running_server(tmp, None, *flags) as server:
        yield Deployment(server, ports)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"].get("Message", "")


def new_key(net: Deployment, key_policy: str | None = None) -> dict[str, Any]:
    kms = net.server.client("kms", net.owner)
    kwargs = {"Policy": key_policy} if key_policy else {}
    return kms.create_key(**kwargs)["KeyMetadata"]


def test_a_call_allowed_on_the_main_listener_is_denied_by_the_endpoint_policy(net: Deployment) -> None:
    key = new_key(net)
    assert net.server.client("kms", net.owner).encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    via_b = net.kms_via(ENDPOINT_B)
    assert via_b.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    with pytest.raises(ClientError) as exc:
        via_b.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(exc) == ("AccessDeniedException", (
        f"User: {root(net.owner)} is not authorized to perform: kms:Encrypt on resource: {key['Arn']} "
        "because no VPC endpoint policy allows the kms:Encrypt action"
    ))


def test_an_explicit_deny_in_the_endpoint_policy_wins_over_its_allow(net: Deployment) -> None:
    key = new_key(net)
    with pytest.raises(ClientError) as exc:
        net.kms_via(ENDPOINT_B).disable_key(KeyId=key["KeyId"])
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in a VPC endpoint policy")
    assert net.server.client("kms", net.owner).describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_the_default_endpoint_policy_allows_what_the_other_policies_allow(net: Deployment) -> None:
    key = new_key(net)
    via_a = net.kms_via(ENDPOINT_A)
    blob = via_a.encrypt(KeyId=key["KeyId"], Plaintext=b"through a")["CiphertextBlob"]
    assert via_a.decrypt(CiphertextBlob=blob)["Plaintext"] == b"through a"
    sts = client_at(f"http://127.0.0.1:{net.ports[ENDPOINT_A]}", "sts", net.owner)
    assert sts.get_caller_identity()["Account"] == net.owner.account_id


def test_a_key_policy_requiring_source_vpce_works_only_through_that_endpoint(net: Deployment) -> None:
    manage = dict(admin(net.owner), Action=["kms:Describe*", "kms:Get*", "kms:Put*", "kms:List*"])
    use = {"Sid": "OnlyViaA", "Effect": "Allow", "Principal": {"AWS": root(net.owner)}, "Action": "kms:Encrypt",
           "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": ENDPOINT_A}}}
    key = new_key(net, policy(manage, use))
    assert net.kms_via(ENDPOINT_A).encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    for kms in (net.server.client("kms", net.owner), net.kms_via(ENDPOINT_C)):
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
        assert error_of(exc)[1].endswith("because no resource-based policy allows the kms:Encrypt action")


def test_a_key_policy_on_source_vpc_names_the_endpoints_vpc(net: Deployment) -> None:
    manage = dict(admin(net.owner), Action=["kms:Describe*", "kms:Get*", "kms:Put*"])
    use = {"Effect": "Allow", "Principal": {"AWS": root(net.owner)}, "Action": "kms:GenerateDataKey",
           "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": VPC_C}}}
    key = new_key(net, policy(manage, use))
    assert net.kms_via(ENDPOINT_C).generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    for kms in (net.server.client("kms", net.owner), net.kms_via(ENDPOINT_A)):
        with pytest.raises(ClientError):
            kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")


def test_an_iam_policy_on_source_vpc_lets_a_user_in_only_through_that_vpc(net: Deployment) -> None:
    iam = net.server.client("iam", net.owner)
    iam.create_user(UserName="vpc-only")
    iam.put_user_policy(UserName="vpc-only", PolicyName="from-vpc-a", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceVpc": VPC_A}}}))
    created = iam.create_access_key(UserName="vpc-only")["AccessKey"]
    user = Account(net.owner.account_id, f"arn:aws:iam::{net.owner.account_id}:user/vpc-only",
                   created["AccessKeyId"], created["SecretAccessKey"])
    key_id = new_key(net)["KeyId"]  # the default key policy lets IAM policies of the account count

    def encrypt(kms: Any) -> Any:
        # A new access key can take a moment to reach every cache; retry only that.
        for _ in range(30):
            try:
                return kms.encrypt(KeyId=key_id, Plaintext=b"x")
            except ClientError as error:
                if error.response["Error"]["Code"] != "UnrecognizedClientException":
                    raise
                time.sleep(0.2)
        raise AssertionError("the access key never became usable")

    assert encrypt(net.kms_via(ENDPOINT_A, user))["CiphertextBlob"]
    for kms in (net.server.client("kms", user), net.kms_via(ENDPOINT_C, user)):
        with pytest.raises(ClientError) as exc:
            encrypt(kms)
        assert error_of(exc) == ("AccessDeniedException", (
            f"User: {user.arn} is not authorized to perform: kms:Encrypt on resource: "
            f"arn:aws:kms:us-east-1:{net.owner.account_id}:key/{key_id} "
            "because no identity-based policy allows the kms:Encrypt action"))
    # Managing endpoints takes ec2:* permissions of the owning account, which this user lacks.
    with pytest.raises(ClientError) as exc:
        net.server.client("ec2", user).modify_vpc_endpoint(VpcEndpointId=ENDPOINT_A, ResetPolicy=True)
    code, message = error_of(exc)
    assert code == "UnauthorizedOperation" and message.startswith(
        f"You are not authorized to perform this operation. User: {user.arn} is not authorized to perform: "
        f"ec2:ModifyVpcEndpoint on resource: arn:aws:ec2:us-east-1:{net.owner.account_id}:vpc-endpoint/{ENDPOINT_A} "
        "because no identity-based policy allows the ec2:ModifyVpcEndpoint action. Encoded authorization failure "
        "message: ")  # decoded by STS DecodeAuthorizationMessage (test_sts_decode.py)


def test_source_ip_is_absent_through_an_endpoint_and_vpc_source_ip_is_present(net: Deployment) -> None:
    manage = dict(admin(net.owner), Action=["kms:Describe*", "kms:Get*", "kms:Put*"])
    public = {"Effect": "Allow", "Principal": {"AWS": root(net.owner)}, "Action": "kms:Encrypt",
              "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}
    private = {"Effect": "Allow", "Principal": {"AWS": root(net.owner)}, "Action": "kms:GenerateDataKey",
               "Resource": "*", "Condition": {"IpAddress": {"aws:VpcSourceIp": "127.0.0.1/32"}}}
    key_id = new_key(net, policy(manage, public, private))["KeyId"]
    main, via_a = net.server.client("kms", net.owner), net.kms_via(ENDPOINT_A)
    assert main.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    assert via_a.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]
    with pytest.raises(ClientError):
        via_a.encrypt(KeyId=key_id, Plaintext=b"x")
    with pytest.raises(ClientError):
        main.generate_data_key(KeyId=key_id, KeySpec="AES_256")


def test_describe_vpc_endpoints_lists_the_declared_endpoints_of_the_owner(net: Deployment) -> None:
    ec2 = net.server.client("ec2", net.owner)
    endpoints = {e["VpcEndpointId"]: e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]}
    assert set(endpoints) == {ENDPOINT_A, ENDPOINT_B, ENDPOINT_C}
    b = endpoints[ENDPOINT_B]
    assert (b["VpcId"], b["ServiceName"], b["State"], b["VpcEndpointType"], b["OwnerId"]) == (
        VPC_B, "com.amazonaws.us-east-1.kms", "available", "Interface", net.owner.account_id)
    assert json.loads(b["PolicyDocument"]) == json.loads(B_POLICY)
    assert json.loads(endpoints[ENDPOINT_A]["PolicyDocument"])["Statement"] == [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    assert b["DnsEntries"][0]["DnsName"].startswith(ENDPOINT_B)
    only_a = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [VPC_A]}])["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in only_a] == [ENDPOINT_A]
    by_id = ec2.describe_vpc_endpoints(VpcEndpointIds=[ENDPOINT_C])["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in by_id] == [ENDPOINT_C]


def test_unknown_and_malformed_endpoint_ids_are_ec2_errors(net: Deployment) -> None:
    ec2 = net.server.client("ec2", net.owner)
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpc_endpoints(VpcEndpointIds=["vpce-0123456789abcdef0"])
    assert error_of(exc) == ("InvalidVpcEndpointId.NotFound",
                             "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as exc:
        ec2.modify_vpc_endpoint(VpcEndpointId="endpoint-1", ResetPolicy=True)
    assert error_of(exc)[0] == "InvalidVpcEndpointId.Malformed"
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpc_endpoints(Filters=[{"Name": "colour", "Values": ["blue"]}])
    assert error_of(exc) == ("InvalidParameterValue", "The filter 'colour' is invalid")
    with pytest.raises(ClientError) as exc:
        ec2.describe_instances()
    assert error_of(exc)[0] == "UnsupportedOperation"


def test_another_account_neither_sees_nor_modifies_the_endpoints(net: Deployment) -> None:
    stranger = net.server.create_account("stranger")
    ec2 = net.server.client("ec2", stranger)
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    with pytest.raises(ClientError) as exc:
        ec2.modify_vpc_endpoint(VpcEndpointId=ENDPOINT_C, PolicyDocument=DENY_ENCRYPT)
    assert error_of(exc)[0] == "InvalidVpcEndpointId.NotFound"


def test_bad_modifications_are_rejected_without_a_change(net: Deployment) -> None:
    ec2 = net.server.client("ec2", net.owner)
    cases = [
        ({"PolicyDocument": "{not json"}, "InvalidPolicyDocument"),
        ({"PolicyDocument": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}, "InvalidPolicyDocument"),
        ({"PolicyDocument": DENY_ENCRYPT, "ResetPolicy": True}, "InvalidParameterCombination"),
        ({"AddSubnetIds": ["subnet-01234567"]}, "InvalidParameterValue"),
        ({"PolicyDocument": DENY_ENCRYPT, "DryRun": True}, "DryRunOperation"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as exc:
            ec2.modify_vpc_endpoint(VpcEndpointId=ENDPOINT_A, **kwargs)
        assert error_of(exc)[0] == code, kwargs
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[ENDPOINT_A])["VpcEndpoints"][0]
    assert json.loads(described["PolicyDocument"])["Statement"][0]["Action"] == "*"
    assert len(json.loads(described["PolicyDocument"])["Statement"]) == 1


def test_modify_vpc_endpoint_takes_effect_on_the_next_request(net: Deployment) -> None:
    key_id = new_key(net)["KeyId"]
    ec2, via_c = net.server.client("ec2", net.owner), net.kms_via(ENDPOINT_C)
    assert via_c.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]  # caches the default policy
    assert ec2.modify_vpc_endpoint(VpcEndpointId=ENDPOINT_C, PolicyDocument=DENY_ENCRYPT)["Return"] is True
    try:
        with pytest.raises(ClientError) as exc:
            via_c.encrypt(KeyId=key_id, Plaintext=b"x")
        assert error_of(exc)[1].endswith("with an explicit deny in a VPC endpoint policy")
        described = ec2.describe_vpc_endpoints(VpcEndpointIds=[ENDPOINT_C])["VpcEndpoints"][0]
        assert json.loads(described["PolicyDocument"]) == json.loads(DENY_ENCRYPT)
    finally:
        assert ec2.modify_vpc_endpoint(VpcEndpointId=ENDPOINT_C, ResetPolicy=True)["Return"] is True
    assert via_c.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]


def aws_cli(url: str, account: Account, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_PROFILE", None)
    return subprocess.run([AWS, "--endpoint-url", url, "--output", "json", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def eventually(check: Any, within: float) -> float:
    """Seconds until `check()` is true, failing after `within` seconds."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < within, "not seen in time"
        time.sleep(0.1)
    return time.monotonic() - start


def test_aws_cli_modify_vpc_endpoint_reaches_a_second_node_on_the_same_database(net: Deployment) -> None:
    key_id = new_key(net)["KeyId"]
    second_port = free_port()
    node = another_node(net.server, *endpoint_flag(ENDPOINT_C, VPC_C, second_port))
    try:
        via_c2 = client_at(f"http://127.0.0.1:{second_port}", "kms", net.owner)
        assert via_c2.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]  # node 2 caches the default

        def denied() -> bool:
            try:
                via_c2.encrypt(KeyId=key_id, Plaintext=b"x")
            except ClientError:
                return True
            return False

        out = aws_cli(net.server.endpoint, net.owner, "ec2", "modify-vpc-endpoint",
                      "--vpc-endpoint-id", ENDPOINT_C, "--policy-document", DENY_ENCRYPT)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {"Return": True}
        assert eventually(denied, within=5) < 2.5  # the documented bound is one poll interval (1 s)
        out = aws_cli(net.server.endpoint, net.owner, "ec2", "modify-vpc-endpoint",
                      "--vpc-endpoint-id", ENDPOINT_C, "--reset-policy")
        assert out.returncode == 0, out.stderr
        eventually(lambda: not denied(), within=5)
        described = aws_cli(f"http://127.0.0.1:{node.port}", net.owner, "ec2", "describe-vpc-endpoints",
                            "--vpc-endpoint-ids", ENDPOINT_C)
        assert json.loads(described.stdout)["VpcEndpoints"][0]["VpcId"] == VPC_C
    finally:
        node.stop()


def test_endpoint_listeners_are_served_by_every_worker(net: Deployment) -> None:
    key_id = new_key(net)["KeyId"]
    main_port, b_port = free_port(), free_port()
    node = Server(data_dir=net.server.data_dir, port=main_port, database_url=None, accounts=net.server.accounts)
    node.start("--workers", "2", *endpoint_flag(ENDPOINT_B, VPC_B, b_port))
    try:
        via_b = client_at(f"http://127.0.0.1:{b_port}", "kms", net.owner)
        main = node.client("kms", net.owner)
        for _ in range(8):  # new connections each time land on either worker
            assert main.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
            assert via_b.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
            with pytest.raises(ClientError) as exc:
                via_b.encrypt(KeyId=key_id, Plaintext=b"x")
            assert error_of(exc)[1].endswith("because no VPC endpoint policy allows the kms:Encrypt action")
    finally:
        node.stop()
