"""Encoded authorization failure messages (EC2 UnauthorizedOperation) and STS
DecodeAuthorizationMessage, which reveals them only to callers allowed to decode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.sts_helpers import make_user
from tests.support import Account, Server

MARKER = "Encoded authorization failure message: "
DECODE = {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _denied_describe(server: Server, user: Account) -> tuple[str, str]:
    """(plain message, encoded message) of a denied ec2:DescribeVpcEndpoints."""
    with pytest.raises(ClientError) as info:
        server.client("ec2", user).describe_vpc_endpoints()
    error = info.value.response["Error"]
    assert error["Code"] == "UnauthorizedOperation"
    plain, _, encoded = error["Message"].partition(MARKER)
    assert encoded, error["Message"]
    return plain, encoded


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_ec2_denial_keeps_awss_reason_and_appends_an_encoded_message(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    plain, encoded = _denied_describe(server, user)
    assert plain == (
        f"You are not authorized to perform this operation. User: {user.arn} is not authorized to perform: "
        "ec2:DescribeVpcEndpoints on resource: * because no identity-based policy allows the "
        "ec2:DescribeVpcEndpoints action. "
    )
    assert user.arn not in encoded and "DescribeVpcEndpoints" not in encoded  # sealed, not just encoded


def test_decoding_an_implicit_deny_shows_the_request_context(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    _, encoded = _denied_describe(server, user)
    decoded = json.loads(server.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["matchedStatements"] == {"items": []} and decoded["failures"] == {"items": []}
    context = decoded["context"]
    assert context["principal"]["arn"] == user.arn and context["principal"]["id"].startswith("AIDA")
    assert context["action"] == "ec2:DescribeVpcEndpoints" and context["resource"] == "*"
    conditions = {c["key"]: [v["value"] for v in c["values"]["items"]] for c in context["conditions"]["items"]}
    assert conditions["aws:PrincipalArn"] == [user.arn]
    assert conditions["aws:RequestedRegion"] == ["us-east-1"]


def test_decoding_an_explicit_deny_names_the_matched_statement(server: Server) -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Sid": "NoDescribe", "Effect": "Deny", "Action": "ec2:DescribeVpcEndpoints", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        DECODE,
    )
    _, user = make_user(server, server.accounts[0], policy)
    _, encoded = _denied_describe(server, user)
    decoded = json.loads(server.client("sts", user).decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    deny = [s for s in decoded["matchedStatements"]["items"] if s["effect"] == "DENY"]
    assert len(deny) == 1 and deny[0]["statementId"] == "NoDescribe"
    assert deny[0]["actions"] == {"items": [{"value": "ec2:DescribeVpcEndpoints"}]}
    assert deny[0]["conditions"]["items"] == [
        {"key": "Bool:aws:SecureTransport", "values": {"items": [{"value": "false"}]}}
    ]


def test_decoding_needs_sts_decode_authorization_message(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    _, encoded = _denied_describe(server, user)
    with pytest.raises(ClientError) as info:
        server.client("sts", user).decode_authorization_message(EncodedMessage=encoded)
    code, message = _error(info)
    assert code == "AccessDenied"
    assert message == f"User: {user.arn} is not authorized to perform: sts:DecodeAuthorizationMessage on resource: *"


def test_forged_and_other_accounts_messages_are_invalid(server: Server) -> None:
    _, user = make_user(server, server.accounts[0], None)
    _, encoded = _denied_describe(server, user)
    other = server.create_account("decoder")
    session_token = server.client("sts").get_session_token()["Credentials"]["SessionToken"]
    for caller, message in ((other, encoded), (None, "bm90IGEgbWVzc2FnZQ=="), (None, session_token[:10240])):
        with pytest.raises(ClientError) as info:
            server.client("sts", caller).decode_authorization_message(EncodedMessage=message)
        assert _error(info) == ("InvalidAuthorizationMessageException", "The encoded authorization message is not valid.")
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
