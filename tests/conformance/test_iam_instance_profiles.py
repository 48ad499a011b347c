"""IAM instance profiles through boto3: create/get/list/delete, the one-role limit, tags,
and the conflicts that keep a profile and its role from being deleted while linked."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.support import Server

EC2_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def _role(iam: object, name: str | None = None) -> str:
    name = name or unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST)  # type: ignore[attr-defined]
    return name


def test_created_profile_has_an_aipa_id_an_arn_with_its_path_and_no_roles(server: Server) -> None:
    account = server.accounts[0]
    iam = server.client("iam")
    name = unique("ip")
    created = iam.create_instance_profile(InstanceProfileName=name, Path="/app/")["InstanceProfile"]
    assert created["InstanceProfileId"].startswith("AIPA") and len(created["InstanceProfileId"]) == 21
    assert created["Arn"] == f"arn:aws:iam::{account.account_id}:instance-profile/app/{name}"
    assert created["Roles"] == []
    fetched = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert fetched["InstanceProfileId"] == created["InstanceProfileId"]
    assert fetched["Path"] == "/app/"


def test_profile_names_are_unique_regardless_of_case(server: Server) -> None:
    iam = server.client("iam")
    name = unique("Ip")
    iam.create_instance_profile(InstanceProfileName=name)
    with pytest.raises(ClientError) as info:
        iam.create_instance_profile(InstanceProfileName=name.lower())
    assert error_of(info) == ("EntityAlreadyExists", f"Instance Profile {name.lower()} already exists.")


def test_missing_profile_is_no_such_entity(server: Server) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as info:
        iam.get_instance_profile(InstanceProfileName="no-such-profile")
    assert error_of(info) == ("NoSuchEntity", "Instance Profile no-such-profile cannot be found.")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_profile_holds_one_role_and_lists_it(server: Server) -> None:
    iam = server.client("iam")
    name, role, other = unique("ip"), _role(iam), _role(iam)
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    roles = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"]
    assert [r["RoleName"] for r in roles] == [role]
    assert roles[0]["AssumeRolePolicyDocument"] == json.loads(EC2_TRUST)
    with pytest.raises(ClientError) as info:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=other)
    assert error_of(info) == ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    for_role = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == [name]
    assert iam.list_instance_profiles_for_role(RoleName=other)["InstanceProfiles"] == []


def test_adding_a_missing_role_is_no_such_entity(server: Server) -> None:
    iam = server.client("iam")
    name = unique("ip")
    iam.create_instance_profile(InstanceProfileName=name)
    with pytest.raises(ClientError) as info:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="no-such-role")
    assert error_of(info) == ("NoSuchEntity", "The role with name no-such-role cannot be found.")


def test_linked_profile_and_role_cannot_be_deleted_until_the_role_is_removed(server: Server) -> None:
    iam = server.client("iam")
    name, role = unique("ip"), _role(iam)
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    for call in (lambda: iam.delete_instance_profile(InstanceProfileName=name), lambda: iam.delete_role(RoleName=role)):
        with pytest.raises(ClientError) as info:
            call()
        assert error_of(info) == (
            "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first."
        )
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    with pytest.raises(ClientError) as info:
        iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    assert error_of(info)[0] == "NoSuchEntity"
    iam.delete_role(RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    with pytest.raises(ClientError):
        iam.get_instance_profile(InstanceProfileName=name)


def test_list_instance_profiles_filters_by_path_and_paginates(server: Server) -> None:
    iam = server.client("iam")
    prefix = f"/{unique('p')}/"
    names = sorted(unique("ip") for _ in range(3))
    for name in names:
        iam.create_instance_profile(InstanceProfileName=name, Path=prefix)
    first = iam.list_instance_profiles(PathPrefix=prefix, MaxItems=2)
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == names[:2]
    assert first["IsTruncated"] is True
    rest = iam.list_instance_profiles(PathPrefix=prefix, Marker=first["Marker"])
    assert [p["InstanceProfileName"] for p in rest["InstanceProfiles"]] == names[2:]
    assert rest["IsTruncated"] is False


def test_profile_tags_are_set_at_creation_listed_and_removed(server: Server) -> None:
    iam = server.client("iam")
    name = unique("ip")
    created = iam.create_instance_profile(InstanceProfileName=name, Tags=[{"Key": "team", "Value": "a"}])
    assert created["InstanceProfile"]["Tags"] == [{"Key": "team", "Value": "a"}]
    iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "TEAM", "Value": "b"}, {"Key": "x", "Value": "1"}])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [
        {"Key": "TEAM", "Value": "b"}, {"Key": "x", "Value": "1"},
    ]
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["team"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [{"Key": "x", "Value": "1"}]


def test_adding_a_role_needs_pass_role_on_it(server: Server) -> None:
    account = server.accounts[0]
    iam = server.client("iam")
    name, role = unique("ip"), _role(iam)
    iam.create_instance_profile(InstanceProfileName=name)
    user_name, user = user_with_key(server, account)
    iam.put_user_policy(UserName=user_name, PolicyName="p", PolicyDocument=document(
        allow(["iam:AddRoleToInstanceProfile", "iam:GetInstanceProfile"])
    ))
    user_iam = server.client("iam", user)
    with pytest.raises(ClientError) as info:
        user_iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    code, message = error_of(info)
    assert code == "AccessDenied" and "iam:PassRole" in message
    iam.put_user_policy(UserName=user_name, PolicyName="pass", PolicyDocument=document(allow("iam:PassRole")))
    user_iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    assert user_iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"][0]["RoleName"] == role


def test_callers_without_permission_learn_nothing_about_profiles(server: Server) -> None:
    _, user = user_with_key(server, server.accounts[0])
    with pytest.raises(ClientError) as info:
        server.client("iam", user).get_instance_profile(InstanceProfileName="no-such-profile")
    assert error_of(info)[0] == "AccessDenied"
