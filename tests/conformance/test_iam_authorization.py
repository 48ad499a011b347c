"""IAM policies authorize IAM users end to end: inline, managed, groups, versions, boundaries,
and KMS calls under the default key policy. Every change takes effect at once."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("iamauthz")


def denied(call: object, *args: object, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)  # type: ignore[operator]
    return error_of(exc)


def test_a_user_without_policies_is_denied_with_aws_message(server: Server, owner: Account) -> None:
    name, creds = user_with_key(server, owner)
    code, message = denied(server.client("iam", creds).list_users)
    assert code == "AccessDenied"
    assert message == (
        f"User: {creds.arn} is not authorized to perform: iam:ListUsers on resource: * "
        "because no identity-based policy allows the iam:ListUsers action"
    )


def test_inline_policy_grants_at_once_and_deleting_it_revokes_at_once(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    iam = server.client("iam", creds)
    admin.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=document(allow("iam:ListUsers")))
    assert any(u["UserName"] == name for u in iam.list_users()["Users"])
    admin.delete_user_policy(UserName=name, PolicyName="list")
    assert denied(iam.list_users)[0] == "AccessDenied"


def test_managed_policy_through_a_group_and_its_versions(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    iam = server.client("iam", creds)
    policy_arn = admin.create_policy(PolicyName=unique("p"), PolicyDocument=document(allow("iam:ListGroups")))[
        "Policy"]["Arn"]
    group = unique("g")
    admin.create_group(GroupName=group)
    admin.attach_group_policy(GroupName=group, PolicyArn=policy_arn)
    assert denied(iam.list_groups)[0] == "AccessDenied"
    admin.add_user_to_group(GroupName=group, UserName=name)
    iam.list_groups()
    # A new default version replaces what the policy allows.
    admin.create_policy_version(PolicyArn=policy_arn, PolicyDocument=document(allow("iam:ListRoles")),
                                SetAsDefault=True)
    assert denied(iam.list_groups)[0] == "AccessDenied"
    iam.list_roles()
    admin.set_default_policy_version(PolicyArn=policy_arn, VersionId="v1")
    iam.list_groups()
    admin.remove_user_from_group(GroupName=group, UserName=name)
    assert denied(iam.list_groups)[0] == "AccessDenied"


def test_explicit_deny_wins_over_administrator_access(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    admin.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam = server.client("iam", creds)
    iam.create_user(UserName=unique("made-by-admin"))
    admin.put_user_policy(UserName=name, PolicyName="nocreate", PolicyDocument=document(
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}))
    code, message = denied(iam.create_user, UserName=unique("x"))
    assert code == "AccessDenied" and message.endswith("with an explicit deny in an identity-based policy")
    admin.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert denied(iam.list_users)[0] == "AccessDenied"


def test_permissions_boundary_limits_but_never_grants(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    iam = server.client("iam", creds)
    admin.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    admin.put_user_permissions_boundary(
        UserName=name, PermissionsBoundary="arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser")
    iam.list_users()  # allowed by both
    code, message = denied(iam.list_policies)
    assert code == "AccessDenied" and message.endswith("because no permissions boundary allows the "
                                                        "iam:ListPolicies action")
    admin.delete_user_permissions_boundary(UserName=name)
    iam.list_policies(Scope="AWS")


def test_resource_arn_with_path_scopes_what_a_user_may_manage(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    admin.put_user_policy(UserName=name, PolicyName="team", PolicyDocument=document(
        allow(["iam:CreateUser", "iam:GetUser"], f"arn:aws:iam::{owner.account_id}:user/team/*")))
    iam = server.client("iam", creds)
    member = unique("member")
    iam.create_user(UserName=member, Path="/team/")
    assert iam.get_user(UserName=member)["User"]["Path"] == "/team/"
    code, message = denied(iam.create_user, UserName=unique("outsider"))
    assert code == "AccessDenied" and "on resource: arn:aws:iam::" in message


def test_kms_honours_iam_policies_under_the_default_key_policy(server: Server, owner: Account) -> None:
    root_kms = server.client("kms", owner)
    key_id = root_kms.create_key()["KeyMetadata"]["KeyId"]
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    kms = server.client("kms", creds)
    code, _ = denied(kms.encrypt, KeyId=key_id, Plaintext=b"x")
    assert code == "AccessDeniedException"
    admin.put_user_policy(UserName=name, PolicyName="enc", PolicyDocument=document(allow("kms:Encrypt")))
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)
    assert denied(kms.decrypt, CiphertextBlob=root_kms.encrypt(KeyId=key_id, Plaintext=b"y")["CiphertextBlob"])[
        0] == "AccessDeniedException"
    admin.delete_user_policy(UserName=name, PolicyName="enc")
    assert denied(kms.encrypt, KeyId=key_id, Plaintext=b"x")[0] == "AccessDeniedException"


def test_key_policy_may_name_an_existing_user_but_not_a_missing_one(server: Server, owner: Account) -> None:
    name, creds = user_with_key(server, owner)
    statement = {"Effect": "Allow", "Principal": {"AWS": creds.arn}, "Action": "kms:*", "Resource": "*"}
    root_stmt = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner.account_id}:root"},
                 "Action": "kms:*", "Resource": "*"}
    key_id = server.client("kms", owner).create_key(Policy=document(root_stmt, statement))["KeyMetadata"]["KeyId"]
    # The key policy names the user directly: no IAM policy is needed.
    server.client("kms", creds).encrypt(KeyId=key_id, Plaintext=b"x")
    ghost = dict(statement, Principal={"AWS": f"arn:aws:iam::{owner.account_id}:user/ghost-{name}"})
    with pytest.raises(ClientError) as exc:
        server.client("kms", owner).create_key(Policy=document(root_stmt, ghost))
    assert error_of(exc)[0] == "MalformedPolicyDocumentException"


def test_inactive_and_deleted_keys_stop_authenticating_at_once(server: Server, owner: Account) -> None:
    admin = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    admin.put_user_policy(UserName=name, PolicyName="get", PolicyDocument=document(allow("iam:GetUser")))
    iam = server.client("iam", creds)
    iam.get_user()
    admin.update_access_key(UserName=name, AccessKeyId=creds.access_key_id, Status="Inactive")
    assert denied(iam.get_user)[0] == "InvalidClientTokenId"
    admin.update_access_key(UserName=name, AccessKeyId=creds.access_key_id, Status="Active")
    iam.get_user()
    admin.delete_access_key(UserName=name, AccessKeyId=creds.access_key_id)
    assert denied(iam.get_user)[0] == "InvalidClientTokenId"
