"""KMS key tags through boto3 against a live server, including ABAC on aws:ResourceTag."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("tag-owner")


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in pairs.items()]


def test_tag_untag_and_list_round_trip(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Tags=tags(team="blue"))["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key_id, Tags=tags(team="red", env="prod"))
    listed = kms.list_resource_tags(KeyId=key_id)
    assert listed["Tags"] == tags(env="prod", team="red") and listed["Truncated"] is False
    kms.untag_resource(KeyId=key_id, TagKeys=["env", "absent"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == tags(team="red")


def test_list_resource_tags_paginates(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key_id, Tags=tags(**{f"k{i}": str(i) for i in range(5)}))
    page = kms.list_resource_tags(KeyId=key_id, Limit=2)
    assert len(page["Tags"]) == 2 and page["Truncated"] is True
    rest = kms.list_resource_tags(KeyId=key_id, Limit=10, Marker=page["NextMarker"])
    assert [t["TagKey"] for t in page["Tags"] + rest["Tags"]] == [f"k{i}" for i in range(5)]


def test_reserved_and_too_many_tags_are_tag_exceptions_and_change_nothing(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Tags=tags(keep="me"))["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=tags(**{"aws:thing": "x"}))
    assert error_of(exc)[0] == "TagException"
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=tags(**{f"t{i}": "v" for i in range(50)}))
    assert error_of(exc)[0] == "TagException"
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == tags(keep="me")


def test_tag_key_longer_than_128_is_a_validation_error(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=tags(**{"k" * 129: "v"}))
    assert error_of(exc)[0] == "ValidationException"


def test_tags_cannot_change_while_pending_deletion_but_can_be_listed(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key(Tags=tags(a="1"))["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    for call in (lambda: kms.tag_resource(KeyId=meta["KeyId"], Tags=tags(b="2")),
                 lambda: kms.untag_resource(KeyId=meta["KeyId"], TagKeys=["a"])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("KMSInvalidStateException", f"{meta['Arn']} is pending deletion.")
    assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == tags(a="1")


def test_resource_tag_conditions_follow_tag_changes_at_once(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/frozen": "yes"}}},
    ]})
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    kms.tag_resource(KeyId=key_id, Tags=tags(frozen="yes"))
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"
    kms.untag_resource(KeyId=key_id, TagKeys=["frozen"])
    kms.encrypt(KeyId=key_id, Plaintext=b"x")


def test_request_tag_and_tag_keys_conditions_apply_to_tag_resource(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:TagResource", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:UntagResource", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "owner"}}},
    ]})
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key_id, Tags=tags(env="dev", owner="me"))
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=tags(env="prod"))
    assert error_of(exc)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        kms.untag_resource(KeyId=key_id, TagKeys=["owner"])
    assert error_of(exc)[0] == "AccessDeniedException"
    kms.untag_resource(KeyId=key_id, TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == tags(owner="me")


def test_tag_operations_refuse_aliases_and_other_accounts(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId="alias/anything", Tags=tags(a="b"))
    assert error_of(exc)[0] == "NotFoundException"
    stranger = server.client("kms", server.create_account("tag-stranger"))
    with pytest.raises(ClientError) as exc:
        stranger.tag_resource(KeyId=meta["Arn"], Tags=tags(a="b"))
    assert error_of(exc)[0] == "AccessDeniedException"
