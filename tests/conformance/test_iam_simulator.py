"""The IAM policy simulator through boto3 against a live server: its decisions are the ones the
server enforces, with AWS's result shape (matched statements, missing context, details)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.support import Account, Server

KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:GenerateDataKey"]


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("simulator")


def _user_arn(owner: Account, name: str) -> str:
    return f"arn:aws:iam::{owner.account_id}:user/{name}"


def _really_allowed(kms: Any, action: str, key_arn: str, blob: bytes) -> bool:
    """Call KMS as the user; True unless the server answers AccessDeniedException."""
    calls = {
        "kms:Encrypt": lambda: kms.encrypt(KeyId=key_arn, Plaintext=b"p"),
        "kms:Decrypt": lambda: kms.decrypt(CiphertextBlob=blob),
        "kms:DescribeKey": lambda: kms.describe_key(KeyId=key_arn),
        "kms:ScheduleKeyDeletion": lambda: kms.schedule_key_deletion(KeyId=key_arn, PendingWindowInDays=7),
        "kms:GenerateDataKey": lambda: kms.generate_data_key(KeyId=key_arn, KeySpec="AES_256"),
    }
    try:
        calls[action]()
    except ClientError as error:
        if error.response["Error"]["Code"] == "AccessDeniedException":
            return False
        raise
    return True


def _decisions(results: list[dict[str, Any]]) -> dict[str, str]:
    return {r["EvalActionName"]: r["EvalDecision"] for r in results}


def test_simulated_decisions_for_a_user_match_what_kms_enforces(server: Server, owner: Account) -> None:
    iam, kms = server.client("iam", owner), server.client("kms", owner)
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"secret")["CiphertextBlob"]
    name, creds = user_with_key(server, owner)
    iam.put_user_policy(UserName=name, PolicyName="use", PolicyDocument=document(
        allow(["kms:Encrypt", "kms:Describe*", "kms:ScheduleKeyDeletion"], key["Arn"]),
        {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
    ))
    results = iam.simulate_principal_policy(
        PolicySourceArn=_user_arn(owner, name), ActionNames=KMS_ACTIONS, ResourceArns=[key["Arn"]]
    )["EvaluationResults"]
    assert _decisions(results) == {
        "kms:Encrypt": "allowed", "kms:Decrypt": "implicitDeny", "kms:DescribeKey": "allowed",
        "kms:ScheduleKeyDeletion": "explicitDeny", "kms:GenerateDataKey": "implicitDeny",
    }
    user_kms = server.client("kms", creds)
    for action, decision in _decisions(results).items():
        assert _really_allowed(user_kms, action, key["Arn"], blob) == (decision == "allowed"), action


def test_a_key_policy_that_does_not_trust_the_account_is_simulated_as_kms_enforces_it(
    server: Server, owner: Account
) -> None:
    iam, kms = server.client("iam", owner), server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    key_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AdminOnly", "Effect": "Allow", "Principal": {"AWS": root},
        "Action": ["kms:Describe*", "kms:Get*", "kms:Put*", "kms:List*"], "Resource": "*",
    }]})
    key = kms.create_key(Policy=key_policy)["KeyMetadata"]
    name, creds = user_with_key(server, owner)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=document(allow("kms:*", key["Arn"])))
    results = iam.simulate_principal_policy(
        PolicySourceArn=_user_arn(owner, name), ActionNames=["kms:Encrypt", "kms:DescribeKey"],
        ResourceArns=[key["Arn"]], ResourcePolicy=key_policy,
    )["EvaluationResults"]
    assert _decisions(results) == {"kms:Encrypt": "implicitDeny", "kms:DescribeKey": "allowed"}
    user_kms = server.client("kms", creds)
    assert not _really_allowed(user_kms, "kms:Encrypt", key["Arn"], b"")
    assert _really_allowed(user_kms, "kms:DescribeKey", key["Arn"], b"")


def test_matched_statements_name_the_policy_and_where_the_statement_sits(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("matched")
    iam.create_user(UserName=name)
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},\n' \
           '    {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}\n  ]\n}'
    iam.put_user_policy(UserName=name, PolicyName="inline-one", PolicyDocument=text)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    results = iam.simulate_principal_policy(
        PolicySourceArn=_user_arn(owner, name), ActionNames=["kms:Decrypt", "kms:ListKeys"]
    )["EvaluationResults"]
    decrypt, list_keys = results
    assert decrypt["EvalDecision"] == "explicitDeny" and decrypt["EvalResourceName"] == "*"
    assert decrypt["MatchedStatements"] == [{
        "SourcePolicyId": "inline-one", "SourcePolicyType": "user",
        "StartPosition": {"Line": 5, "Column": 5}, "EndPosition": {"Line": 5, "Column": 65},
    }]
    sources = {(m["SourcePolicyId"], m["SourcePolicyType"]) for m in list_keys["MatchedStatements"]}
    assert sources == {("inline-one", "user"), ("ReadOnlyAccess", "aws-managed")}
    assert "ResourceSpecificResults" not in list_keys


def test_typed_context_entries_decide_conditions_and_absent_keys_are_reported(
    server: Server, owner: Account
) -> None:
    iam = server.client("iam", owner)
    policy = document({
        "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "true"}},
    })

    def simulate(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=["kms:Encrypt"], ContextEntries=entries
        )["EvaluationResults"][0]

    ip = {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"}
    tls = {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["true"], "ContextKeyType": "boolean"}
    assert simulate([ip, tls])["EvalDecision"] == "allowed"
    outside = simulate([{**ip, "ContextKeyValues": ["192.168.0.1"]}, tls])
    assert outside["EvalDecision"] == "implicitDeny"
    missing = simulate([ip])
    assert missing["EvalDecision"] == "implicitDeny" and missing["MissingContextValues"] == ["aws:SecureTransport"]
    with pytest.raises(ClientError) as exc:
        simulate([{**ip, "ContextKeyValues": ["not-an-address"]}])
    assert error_of(exc)[0] == "InvalidInput"


def test_a_permissions_boundary_limits_the_simulated_user_and_says_so(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    boundary = iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=document(allow("kms:Describe*")))
    name = unique("bounded")
    iam.create_user(UserName=name, PermissionsBoundary=boundary["Policy"]["Arn"])
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=document(allow("kms:*")))
    results = iam.simulate_principal_policy(
        PolicySourceArn=_user_arn(owner, name), ActionNames=["kms:DescribeKey", "kms:Encrypt"]
    )["EvaluationResults"]
    assert _decisions(results) == {"kms:DescribeKey": "allowed", "kms:Encrypt": "implicitDeny"}
    details = [r["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"] for r in results]
    assert details == [True, False]
    # A boundary given as input replaces the user's own.
    wider = iam.simulate_principal_policy(
        PolicySourceArn=_user_arn(owner, name), ActionNames=["kms:Encrypt"],
        PermissionsBoundaryPolicyInputList=[document(allow("kms:*"))],
    )["EvaluationResults"]
    assert wider[0]["EvalDecision"] == "allowed"


def test_several_resources_give_one_result_per_action_with_per_resource_decisions(
    server: Server, owner: Account
) -> None:
    iam = server.client("iam", owner)
    arn_a = f"arn:aws:kms:us-east-1:{owner.account_id}:key/a"
    arn_b = f"arn:aws:kms:us-east-1:{owner.account_id}:key/b"
    results = iam.simulate_custom_policy(
        PolicyInputList=[document(allow("kms:Encrypt", arn_a))], ActionNames=["kms:Encrypt"],
        ResourceArns=[arn_a, arn_b],
    )["EvaluationResults"]
    assert len(results) == 1 and results[0]["EvalDecision"] == "implicitDeny"
    per_resource = {r["EvalResourceName"]: r["EvalResourceDecision"] for r in results[0]["ResourceSpecificResults"]}
    assert per_resource == {arn_a: "allowed", arn_b: "implicitDeny"}


def test_service_control_policy_levels_can_only_restrict(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    results = iam.simulate_custom_policy(
        PolicyInputList=[document(allow("kms:*"))], ActionNames=["kms:Encrypt", "kms:Decrypt"],
        OrderedOrganizationPolicyInputList=[
            {"ServiceControlPolicyInputList": [document(allow("*"))]},
            {"ServiceControlPolicyInputList": [document(allow("kms:Encrypt")), document(allow("s3:*"))]},
        ],
    )["EvaluationResults"]
    assert _decisions(results) == {"kms:Encrypt": "allowed", "kms:Decrypt": "implicitDeny"}
    assert [r["OrganizationsDecisionDetail"]["AllowedByOrganizations"] for r in results] == [True, False]


def test_results_are_paginated_with_marker(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    actions = [f"kms:Action{n}" for n in range(5)]
    first = iam.simulate_custom_policy(PolicyInputList=[document(allow("kms:*"))], ActionNames=actions, MaxItems=3)
    assert first["IsTruncated"] and len(first["EvaluationResults"]) == 3
    rest = iam.simulate_custom_policy(
        PolicyInputList=[document(allow("kms:*"))], ActionNames=actions, Marker=first["Marker"]
    )
    assert not rest["IsTruncated"]
    names = [r["EvalActionName"] for r in first["EvaluationResults"] + rest["EvaluationResults"]]
    assert names == actions


def test_context_keys_are_listed_for_principal_and_custom_policies(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("keys")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="cond", PolicyDocument=document({
        "Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/${aws:username}",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }))
    custom = document({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
    keys = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=_user_arn(owner, name), PolicyInputList=[custom]
    )["ContextKeyNames"]
    assert keys == ["aws:MultiFactorAuthPresent", "aws:username", "kms:ViaService"]
    assert iam.get_context_keys_for_custom_policy(PolicyInputList=[custom])["ContextKeyNames"] == [
        "aws:MultiFactorAuthPresent"
    ]


def test_simulating_needs_permission_and_an_existing_entity(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    with pytest.raises(ClientError) as exc:
        server.client("iam", creds).simulate_principal_policy(
            PolicySourceArn=_user_arn(owner, name), ActionNames=["kms:Encrypt"]
        )
    assert error_of(exc) == ("AccessDenied", (
        f"User: {creds.arn} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: "
        f"{_user_arn(owner, name)} because no identity-based policy allows the iam:SimulatePrincipalPolicy action"
    ))
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=_user_arn(owner, "ghost"), ActionNames=["kms:Encrypt"])
    assert error_of(exc) == ("NoSuchEntity", "The user with name ghost cannot be found.")
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=['{"Statement": 3}'], ActionNames=["kms:Encrypt"])
    assert error_of(exc)[0] == "InvalidInput"
