"""Service-linked roles through boto3 against a live server: AWS KMS's two roles, their path,
trust and AWS managed policy, protection from the ordinary role APIs, and deletion tasks."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import document, allow, error_of
from tests.support import Account, Server

MRK_ROLE = "AWSServiceRoleForKeyManagementServiceMultiRegionKeys"
CKS_ROLE = "AWSServiceRoleForKeyManagementServiceCustomKeyStores"
MRK_POLICY = "arn:aws:iam::aws:policy/aws-service-role/AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy"


@pytest.fixture
def owner(server: Server) -> Account:
    return server.create_account("slr")


def test_kms_service_linked_roles_have_aws_path_trust_and_policy(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    role = iam.create_service_linked_role(AWSServiceName="cks.kms.amazonaws.com")["Role"]
    assert role["RoleName"] == CKS_ROLE and role["Path"] == "/aws-service-role/cks.kms.amazonaws.com/"
    assert role["Arn"] == f"arn:aws:iam::{owner.account_id}:role/aws-service-role/cks.kms.amazonaws.com/{CKS_ROLE}"
    assert role["RoleId"].startswith("AROA")
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "cks.kms.amazonaws.com"}
    iam.create_service_linked_role(AWSServiceName="mrk.kms.amazonaws.com", Description="mine")
    attached = iam.list_attached_role_policies(RoleName=MRK_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [MRK_POLICY]
    assert iam.get_role(RoleName=MRK_ROLE)["Role"]["Description"] == "mine"
    assert iam.get_policy(PolicyArn=MRK_POLICY)["Policy"]["Path"] == "/aws-service-role/"


def test_unknown_services_suffixes_and_second_roles_are_invalid_input(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    with pytest.raises(ClientError) as exc:
        iam.create_service_linked_role(AWSServiceName="nothing.amazonaws.com")
    assert error_of(exc)[0] == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        iam.create_service_linked_role(AWSServiceName="mrk.kms.amazonaws.com", CustomSuffix="x")
    assert error_of(exc) == ("InvalidInput", "Custom suffix is not allowed for mrk.kms.amazonaws.com")
    iam.create_service_linked_role(AWSServiceName="mrk.kms.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        iam.create_service_linked_role(AWSServiceName="mrk.kms.amazonaws.com")
    assert error_of(exc) == ("InvalidInput", (
        f"Service role name {MRK_ROLE} has been taken in this account, please try a different suffix."
    ))


def test_ordinary_role_apis_cannot_change_or_delete_a_service_linked_role(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    iam.create_service_linked_role(AWSServiceName="cks.kms.amazonaws.com")
    protected = f"Cannot perform the operation on the protected role '{CKS_ROLE}' - this role is only modifiable by AWS"
    attempts = [
        lambda: iam.delete_role(RoleName=CKS_ROLE),
        lambda: iam.update_assume_role_policy(RoleName=CKS_ROLE, PolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})),
        lambda: iam.put_role_policy(RoleName=CKS_ROLE, PolicyName="p", PolicyDocument=document(allow("kms:*"))),
        lambda: iam.attach_role_policy(RoleName=CKS_ROLE, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"),
        lambda: iam.detach_role_policy(RoleName=CKS_ROLE, PolicyArn=MRK_POLICY),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as exc:
            attempt()
        assert error_of(exc) == ("UnmodifiableEntity", protected)
    iam.update_role_description(RoleName=CKS_ROLE, Description="still editable")
    name = "ordinary-user"
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=name, PolicyArn=MRK_POLICY)
    assert error_of(exc) == ("PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role.")


def test_deleting_a_service_linked_role_is_a_task_whose_status_can_be_read(server: Server, owner: Account) -> None:
    # (Keystead has no multi-Region keys yet, so the KMS roles are never in use when deleted.)
    iam = server.client("iam", owner)
    iam.create_service_linked_role(AWSServiceName="mrk.kms.amazonaws.com")
    task = iam.delete_service_linked_role(RoleName=MRK_ROLE)["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/mrk.kms.amazonaws.com/{MRK_ROLE}/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=MRK_ROLE)
    assert error_of(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.get_service_linked_role_deletion_status(DeletionTaskId=task + "x")
    assert error_of(exc)[0] == "NoSuchEntity"
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    with pytest.raises(ClientError) as exc:
        iam.delete_service_linked_role(RoleName="plain")
    assert error_of(exc) == ("InvalidInput", "Role plain is not a service-linked role.")
