"""IAM users through boto3 against a live server: lifecycle, paths, tags, errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import error_of, unique, user_with_key
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("iamusers")


def test_create_get_and_list_a_user_with_a_path_and_tags(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("alice")
    created = iam.create_user(UserName=name, Path="/eng/", Tags=[{"Key": "team", "Value": "kms"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::{owner.account_id}:user/eng/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Path"] == "/eng/"
    got = iam.get_user(UserName=name.upper())["User"]
    assert got["UserName"] == name and got["Tags"] == [{"Key": "team", "Value": "kms"}]
    listed = iam.list_users(PathPrefix="/eng/")["Users"]
    assert [u["UserName"] for u in listed] == [name]


def test_user_names_are_unique_regardless_of_case(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("Bob")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name.lower())
    assert error_of(exc) == ("EntityAlreadyExists", f"User with name {name.lower()} already exists.")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_missing_user_is_no_such_entity_with_aws_wording(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="nobody-here")
    assert error_of(exc) == ("NoSuchEntity", "The user with name nobody-here cannot be found.")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_user_without_a_name_answers_for_the_caller(server: Server, owner: Account) -> None:
    root = server.client("iam", owner).get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{owner.account_id}:root" and root["UserId"] == owner.account_id
    name, creds = user_with_key(server, owner)
    server.client("iam", owner).put_user_policy(
        UserName=name, PolicyName="self", PolicyDocument='{"Version":"2012-10-17","Statement":'
        '{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}'
    )
    me = server.client("iam", creds).get_user()["User"]
    assert me["UserName"] == name and me["Arn"] == creds.arn


def test_rename_and_move_keeps_the_user_id_and_its_access_keys(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    user_id = iam.get_user(UserName=name)["User"]["UserId"]
    new_name = unique("renamed")
    iam.update_user(UserName=name, NewUserName=new_name, NewPath="/moved/")
    got = iam.get_user(UserName=new_name)["User"]
    assert got["UserId"] == user_id and got["Path"] == "/moved/"
    keys = iam.list_access_keys(UserName=new_name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [creds.access_key_id]
    assert keys[0]["UserName"] == new_name


def test_tag_untag_and_list_user_tags(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("tagged")
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "A", "Value": "3"}])  # keys ignore case
    iam.untag_user(UserName=name, TagKeys=["b"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "A", "Value": "3"}]
    with pytest.raises(ClientError) as exc:
        iam.tag_user(UserName=name, Tags=[{"Key": "aws:x", "Value": "1"}])
    assert error_of(exc)[0] == "InvalidInput"


def test_delete_user_refuses_while_keys_policies_or_groups_remain(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName=name, AccessKeyId=creds.access_key_id)
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc)[0] == "DeleteConflict"
    iam.remove_user_from_group(GroupName=group, UserName=name)
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError):
        iam.get_user(UserName=name)


def test_list_users_pages_with_marker_and_max_items(server: Server) -> None:
    account = server.create_account("paging")
    iam = server.client("iam", account)
    names = sorted(unique(f"p{i}") for i in range(5))
    for name in names:
        iam.create_user(UserName=name)
    first = iam.list_users(MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    seen = [u["UserName"] for u in first["Users"]]
    marker = first["Marker"]
    while marker:
        page = iam.list_users(MaxItems=2, Marker=marker)
        seen += [u["UserName"] for u in page["Users"]]
        marker = page.get("Marker") if page["IsTruncated"] else None
    assert seen == names
    paginated = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
                 for u in p["Users"]]
    assert paginated == names


def test_bad_input_is_a_4xx_in_aws_shape_never_a_500(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn="arn:aws:iam::123456789012:user/not-a-policy")
    assert error_of(exc)[0] == "InvalidInput"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as exc:
        iam.list_users(Marker="!!not-a-marker!!")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bad name with spaces")
    assert error_of(exc)[0] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=unique("b"), PermissionsBoundary="arn:aws:iam::aws:policy/Nope")
    assert error_of(exc)[0] == "NoSuchEntity"
