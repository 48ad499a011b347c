"""Tags on customer managed policies through boto3 against a live server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import allow, document, error_of, unique, user_with_key
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("policytags")


def test_tag_untag_and_list_policy_tags_with_keys_that_ignore_case(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    arn = iam.create_policy(PolicyName=unique("tagged"), PolicyDocument=document(allow("kms:*")),
                            Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "A", "Value": "2"}, {"Key": "b", "Value": "3"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "A", "Value": "2"}, {"Key": "b", "Value": "3"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["B"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "A", "Value": "2"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "A", "Value": "2"}]


def test_policy_tags_are_checked_and_aws_managed_policies_cannot_be_tagged(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    arn = iam.create_policy(PolicyName=unique("limits"), PolicyDocument=document(allow("kms:*")))["Policy"]["Arn"]
    with pytest.raises(ClientError) as exc:
        iam.tag_policy(PolicyArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error_of(exc)[0] in ("LimitExceeded", "ValidationError")
    with pytest.raises(ClientError) as exc:
        iam.tag_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess", Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        iam.list_policy_tags(PolicyArn=f"arn:aws:iam::{owner.account_id}:policy/missing")
    assert error_of(exc)[0] == "NoSuchEntity"


def test_resource_tags_of_a_policy_decide_who_may_untag_it(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    arn = iam.create_policy(PolicyName=unique("guarded"), PolicyDocument=document(allow("kms:*")),
                            Tags=[{"Key": "owner", "Value": "alice"}])["Policy"]["Arn"]
    name, creds = user_with_key(server, owner)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document({
        "Effect": "Allow", "Action": ["iam:UntagPolicy", "iam:ListPolicyTags"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/owner": "bob"}},
    }))
    with pytest.raises(ClientError) as exc:
        server.client("iam", creds).untag_policy(PolicyArn=arn, TagKeys=["owner"])
    assert error_of(exc)[0] == "AccessDenied"
