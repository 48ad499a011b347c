"""IAM groups and roles through boto3 against a live server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import document, error_of, unique
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("iamgroups")


def trust(account: Account) -> str:
    return document({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.account_id}:root"},
                     "Action": "sts:AssumeRole"})


def test_groups_membership_and_listing(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    group, user = unique("devs"), unique("u")
    created = iam.create_group(GroupName=group, Path="/eng/")["Group"]
    assert created["GroupId"].startswith("AGPA") and created["Arn"].endswith(f":group/eng/{group}")
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]]
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName=group)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    renamed = unique("renamed")
    iam.update_group(GroupName=group, NewGroupName=renamed)
    iam.delete_group(GroupName=renamed)
    with pytest.raises(ClientError) as exc:
        iam.get_group(GroupName=renamed)
    assert error_of(exc) == ("NoSuchEntity", f"The group with name {renamed} cannot be found.")


def test_roles_with_trust_policy_session_duration_tags_and_boundary(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("app")
    role = iam.create_role(
        RoleName=name, Path="/svc/", AssumeRolePolicyDocument=trust(owner), Description="app role",
        MaxSessionDuration=7200, Tags=[{"Key": "env", "Value": "prod"}],
        PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess",
    )["Role"]
    assert role["RoleId"].startswith("AROA") and role["Arn"] == f"arn:aws:iam::{owner.account_id}:role/svc/{name}"
    got = iam.get_role(RoleName=name)["Role"]
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "app role"
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/PowerUserAccess"
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.update_role(RoleName=name, MaxSessionDuration=3600, Description="changed")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    got = iam.get_role(RoleName=name)["Role"]
    assert got["MaxSessionDuration"] == 3600 and got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"}
    iam.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "x"}])
    iam.untag_role(RoleName=name, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "x"}]
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]]
    iam.delete_role_permissions_boundary(RoleName=name)
    iam.delete_role(RoleName=name)


def test_trust_policies_are_validated(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    missing = f"arn:aws:iam::{owner.account_id}:user/ghost-{unique('x')}"
    for bad in (document({"Effect": "Allow", "Action": "sts:AssumeRole"}),
                document({"Effect": "Allow", "Principal": {"AWS": missing}, "Action": "sts:AssumeRole"})):
        with pytest.raises(ClientError) as exc:
            iam.create_role(RoleName=unique("bad"), AssumeRolePolicyDocument=bad)
        assert error_of(exc)[0] == "MalformedPolicyDocument"


def test_a_role_with_policies_cannot_be_deleted(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("r")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(owner))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.")
