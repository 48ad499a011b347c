"""Inline and managed IAM policies through boto3: documents, versions, attachments, limits."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique
from tests.support import Account, Server

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("iampolicies")


def test_inline_policy_documents_round_trip_for_users_groups_and_roles(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    text = document(allow("kms:Encrypt"))
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=text)
    iam.put_group_policy(GroupName=group, PolicyName="p", PolicyDocument=text)
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=text)
    assert iam.get_user_policy(UserName=user, PolicyName="p")["PolicyDocument"] == json.loads(text)
    assert iam.get_group_policy(GroupName=group, PolicyName="p")["PolicyDocument"] == json.loads(text)
    assert iam.get_role_policy(RoleName=role, PolicyName="p")["PolicyDocument"] == json.loads(text)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["p"]
    iam.delete_role_policy(RoleName=role, PolicyName="p")
    with pytest.raises(ClientError) as exc:
        iam.get_role_policy(RoleName=role, PolicyName="p")
    assert error_of(exc) == ("NoSuchEntity", "The role policy with name p cannot be found.")


def test_malformed_documents_are_refused_and_nothing_is_written(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    user = unique("u")
    iam.create_user(UserName=user)
    for bad in ("{not json", document({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
                document({"Effect": "Permit", "Action": "kms:*", "Resource": "*"})):
        with pytest.raises(ClientError) as exc:
            iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument=bad)
        assert error_of(exc)[0] == "MalformedPolicyDocument"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_inline_policies_of_a_user_share_a_2048_character_quota(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    user = unique("u")
    iam.create_user(UserName=user)
    actions = [f"kms:Action{i:04d}" for i in range(120)]
    iam.put_user_policy(UserName=user, PolicyName="one", PolicyDocument=document(allow(actions[:60])))
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=user, PolicyName="two", PolicyDocument=document(allow(actions[60:])))
    assert error_of(exc) == ("LimitExceeded", f"Maximum policy size of 2048 bytes exceeded for user {user}")


def test_managed_policy_versions_default_and_limits(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("mp")
    policy = iam.create_policy(PolicyName=name, Path="/team/", PolicyDocument=document(allow("kms:Encrypt")),
                               Description="d")["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{owner.account_id}:policy/team/{name}"
    assert policy["PolicyId"].startswith("ANPA") and policy["DefaultVersionId"] == "v1"
    for i in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow(f"kms:Op{i}")))
        assert version["PolicyVersion"]["VersionId"] == f"v{i}"
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("kms:Op6")))
    assert error_of(exc)[0] == "LimitExceeded"
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(exc) == ("DeleteConflict", "Cannot delete the default version of a policy.")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["IsDefaultVersion"] is True and got["Document"]["Statement"][0]["Action"] == "kms:Op3"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    versions = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert versions == ["v5", "v4", "v3", "v2"]
    # Version numbers are never reused.
    iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("kms:X")))[
        "PolicyVersion"]["VersionId"] == "v6"


def test_delete_policy_refuses_while_attached_or_versioned(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    arn = iam.create_policy(PolicyName=unique("mp"), PolicyDocument=document(allow("kms:Encrypt")))["Policy"]["Arn"]
    user = unique("u")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc)[0] == "DeleteConflict"
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("kms:Decrypt")))
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc)[0] == "DeleteConflict"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=arn)
    assert error_of(exc) == ("NoSuchEntity", f"Policy {arn} was not found.")


def test_aws_managed_policies_are_listed_attachable_and_read_only(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "AWSKeyManagementServicePowerUser"} <= names
    admin = iam.get_policy(PolicyArn=ADMIN)["Policy"]
    assert admin["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK"
    version = iam.get_policy_version(PolicyArn=ADMIN, VersionId=admin["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"]["Statement"][0] == {"Effect": "Allow", "Action": "*", "Resource": "*"}
    role = unique("r")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner.account_id}:root"}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    local = [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    assert ADMIN not in local
    assert ADMIN in [p["Arn"] for p in iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]]
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=ADMIN, PolicyDocument=document(allow("kms:*")))
    assert error_of(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert error_of(exc) == ("NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is "
                             "not attachable.")
    iam.detach_role_policy(RoleName=role, PolicyArn=ADMIN)


def test_at_most_ten_managed_policies_per_user(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    user = unique("u")
    iam.create_user(UserName=user)
    for i in range(10):
        arn = iam.create_policy(PolicyName=unique(f"m{i}"), PolicyDocument=document(allow("kms:Encrypt")))[
            "Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=ADMIN)
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")
