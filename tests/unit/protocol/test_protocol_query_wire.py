"""IAM and STS over awsQuery/XML: botocore's query serializer in, botocore's query parser out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest

from keystead.errors import (
    AccessDeniedError,
    EntityAlreadyExistsError,
    InternalError,
    KeysteadError,
    MissingParameterError,
    NoSuchEntityError,
    SerializationError,
    UnknownOperationError,
    UnsupportedMediaTypeError,
)
from keystead.protocol import ServiceCodec, operation_auth_type
from keystead.types import HttpRequest

POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
)


def _form(params: dict[str, str]) -> HttpRequest:
    headers = (("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),)
    return HttpRequest("POST", "/", "", headers, urlencode(params).encode())


def test_create_user_with_tags_parses_member_lists(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = wire.request(
        "iam",
        "CreateUser",
        {
            "UserName": "alice",
            "Path": "/eng/",
            "PermissionsBoundary": "arn:aws:iam::111122223333:policy/boundary",
            "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "cost center", "Value": ""}],
        },
    )
    call = codecs["iam"].parse(request)
    assert (call.service, call.operation) == ("iam", "CreateUser")
    assert call.params == {
        "user_name": "alice",
        "path": "/eng/",
        "permissions_boundary": "arn:aws:iam::111122223333:policy/boundary",
        "tags": [{"key": "team", "value": "payments"}, {"key": "cost center", "value": ""}],
    }


def test_put_user_policy_keeps_the_document_verbatim(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = wire.request(
        "iam", "PutUserPolicy", {"UserName": "alice", "PolicyName": "p1", "PolicyDocument": POLICY}
    )
    assert codecs["iam"].parse(request).params == {
        "user_name": "alice",
        "policy_name": "p1",
        "policy_document": POLICY,
    }


def test_assume_role_with_policy_arns_and_tags_parses(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = wire.request(
        "sts",
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::111122223333:role/app",
            "RoleSessionName": "session-1",
            "PolicyArns": [
                {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                {"arn": "arn:aws:iam::111122223333:policy/p"},
            ],
            "Policy": POLICY,
            "DurationSeconds": 900,
            "Tags": [{"Key": "project", "Value": "x"}],
            "TransitiveTagKeys": ["project"],
            "ExternalId": "ext-123",
        },
    )
    params = codecs["sts"].parse(request).params
    assert params["policy_arns"] == [
        {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        {"arn": "arn:aws:iam::111122223333:policy/p"},
    ]
    assert params["duration_seconds"] == 900
    assert params["tags"] == [{"key": "project", "value": "x"}]
    assert params["transitive_tag_keys"] == ["project"]
    assert params["policy"] == POLICY


def test_get_caller_identity_parses_from_post_and_from_get(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    for method in ("POST", "GET"):
        call = codecs["sts"].parse(wire.request("sts", "GetCallerIdentity", {}, method=method))
        assert (call.operation, call.params) == ("GetCallerIdentity", {})


def test_empty_list_serialized_as_bare_name_parses_to_empty_list(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    request = wire.request(
        "sts",
        "AssumeRole",
        {"RoleArn": "arn:aws:iam::111122223333:role/app", "RoleSessionName": "s1", "TransitiveTagKeys": []},
    )
    assert codecs["sts"].parse(request).params["transitive_tag_keys"] == []


def test_list_members_are_ordered_by_index_not_by_arrival(codecs: dict[str, ServiceCodec]) -> None:
    request = _form(
        {
            "Action": "CreateUser",
            "Version": "2010-05-08",
            "UserName": "bob",
            "Tags.member.2.Key": "second",
            "Tags.member.2.Value": "2",
            "Tags.member.1.Key": "first",
            "Tags.member.1.Value": "1",
        }
    )
    assert codecs["iam"].parse(request).params["tags"] == [
        {"key": "first", "value": "1"},
        {"key": "second", "value": "2"},
    ]


def test_unsigned_sts_operations_have_auth_type_none(codecs: dict[str, ServiceCodec]) -> None:
    assert operation_auth_type(codecs["sts"], "AssumeRoleWithWebIdentity") == "none"
    assert operation_auth_type(codecs["sts"], "AssumeRoleWithSAML") == "none"
    assert operation_auth_type(codecs["sts"], "AssumeRole") is None
    assert operation_auth_type(codecs["kms"], "Encrypt") is None


def test_create_user_result_round_trips_with_result_wrapper_and_request_id(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = {
        "user": {
            "path": "/",
            "user_name": "alice",
            "user_id": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "create_date": created,
            "tags": [{"key": "team", "value": "a&b <c>"}],
        }
    }
    response = codecs["iam"].render_result("CreateUser", result, "req-1")
    assert response.status == 200
    assert ("Content-Type", "text/xml") in response.headers
    assert (
        b'<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult>'
        in response.body
    )
    assert b"<CreateDate>2024-01-02T03:04:05Z</CreateDate>" in response.body
    assert b"<Tags><member><Key>team</Key>" in response.body
    parsed = wire.parse("iam", "CreateUser", response)
    assert parsed["User"]["Tags"] == [{"Key": "team", "Value": "a&b <c>"}]
    assert parsed["User"]["CreateDate"] == created


def test_assume_role_result_round_trips_with_millisecond_expiration(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    expiration = datetime(2024, 1, 2, 4, 4, 5, 359000, tzinfo=UTC)
    result = {
        "credentials": {
            "access_key_id": "ASIAEXAMPLE",
            "secret_access_key": "secret",
            "session_token": "token",
            "expiration": expiration,
        },
        "assumed_role_user": {
            "assumed_role_id": "AROAEXAMPLE:s",
            "arn": "arn:aws:sts::111122223333:assumed-role/app/s",
        },
        "packed_policy_size": 6,
        "source_identity": None,
    }
    response = codecs["sts"].render_result("AssumeRole", result, "req-2")
    assert b"<Expiration>2024-01-02T04:04:05.359Z</Expiration>" in response.body
    parsed = wire.parse("sts", "AssumeRole", response)
    assert parsed["Credentials"]["Expiration"] == expiration
    assert parsed["PackedPolicySize"] == 6
    assert "SourceIdentity" not in parsed


def test_get_caller_identity_result_round_trips(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    result = {
        "user_id": "AIDAEXAMPLE",
        "account": "111122223333",
        "arn": "arn:aws:iam::111122223333:user/alice",
    }
    response = codecs["sts"].render_result("GetCallerIdentity", result, "req-3")
    assert b'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in response.body
    assert wire.parse("sts", "GetCallerIdentity", response) == {
        "UserId": "AIDAEXAMPLE",
        "Account": "111122223333",
        "Arn": "arn:aws:iam::111122223333:user/alice",
    }


def test_policy_documents_are_returned_url_encoded_as_iam_does(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    result = {"user_name": "alice", "policy_name": "p1", "policy_document": POLICY}
    response = codecs["iam"].render_result("GetUserPolicy", result, "req-4")
    parsed = wire.parse("iam", "GetUserPolicy", response)
    assert parsed["PolicyDocument"] == quote(POLICY, safe="")
    assert json.loads(unquote(parsed["PolicyDocument"])) == json.loads(POLICY)


def test_maps_render_as_entries_that_botocore_reads_back(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    result = {"summary_map": {"Users": 3, "Groups": 1}}
    response = codecs["iam"].render_result("GetAccountSummary", result, "req-5")
    assert b"<SummaryMap><entry><key>Users</key><value>3</value></entry>" in response.body
    assert wire.parse("iam", "GetAccountSummary", response) == {"SummaryMap": {"Users": 3, "Groups": 1}}


def test_operation_without_output_renders_only_response_metadata(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    response = codecs["iam"].render_result("DeleteUser", {}, "req-6")
    assert b"<DeleteUserResponse" in response.body
    assert b"Result>" not in response.body
    assert b"<RequestId>req-6</RequestId>" in response.body


@pytest.mark.parametrize(
    ("service", "error", "status", "fault"),
    [
        ("iam", NoSuchEntityError("The user with name bob cannot be found."), 404, "Sender"),
        ("iam", EntityAlreadyExistsError("User with name alice already exists."), 409, "Sender"),
        ("sts", AccessDeniedError("User: arn is not authorized to perform: sts:AssumeRole"), 403, "Sender"),
        ("iam", InternalError(), 500, "Receiver"),
    ],
)
def test_errors_render_as_error_response_that_botocore_reads(
    wire: Any, codecs: dict[str, ServiceCodec], service: str, error: Any, status: int, fault: str
) -> None:
    response = codecs[service].render_error(error, "req-7")
    assert response.status == status
    assert b"<ErrorResponse xmlns=" in response.body
    parsed = wire.parse_error(service, response)
    assert parsed["Error"] == {"Type": fault, "Code": error.wire_code(True), "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-7"


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (
            {"Action": "Frobnicate", "Version": "2010-05-08"},
            UnknownOperationError,
            "Could not find operation Frobnicate for version 2010-05-08",
        ),
        (
            {"Action": "CreateUser", "Version": "2011-06-15", "UserName": "a"},
            UnknownOperationError,
            "Could not find operation CreateUser for version 2011-06-15",
        ),
        ({"Version": "2010-05-08"}, MissingParameterError, "The request must contain the parameter Action"),
        ({"Action": "ListUsers"}, MissingParameterError, "The request must contain the parameter Version"),
    ],
)
def test_bad_action_or_version_is_rejected_in_aws_words(
    codecs: dict[str, ServiceCodec], params: dict[str, str], error: type[KeysteadError], message: str
) -> None:
    with pytest.raises(error) as caught:
        codecs["iam"].parse(_form(params))
    assert caught.value.message == message
    assert UnknownOperationError().wire_code(True) == "InvalidAction"


@pytest.mark.parametrize(
    ("name", "value"),
    [("MaxItems", "ten"), ("MaxItems", "1.5"), ("Marker", None)],
)
def test_values_not_of_the_member_type_are_serialization_errors(
    codecs: dict[str, ServiceCodec], name: str, value: str | None
) -> None:
    if value is None:
        request = HttpRequest(
            "POST",
            "/",
            "",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"Action=ListUsers&Version=2010-05-08&Marker=%FF",
        )
    else:
        request = _form({"Action": "ListUsers", "Version": "2010-05-08", name: value})
    with pytest.raises(SerializationError):
        codecs["iam"].parse(request)


def test_query_body_with_another_content_type_is_unsupported(codecs: dict[str, ServiceCodec]) -> None:
    request = HttpRequest(
        "POST", "/", "", (("Content-Type", "application/json"),), b'{"Action": "ListUsers"}'
    )
    with pytest.raises(UnsupportedMediaTypeError):
        codecs["iam"].parse(request)


def test_booleans_and_integers_parse_from_query_text(codecs: dict[str, ServiceCodec]) -> None:
    request = _form(
        {
            "Action": "UpdateAccountPasswordPolicy",
            "Version": "2010-05-08",
            "RequireSymbols": "true",
            "AllowUsersToChangePassword": "False",
            "MinimumPasswordLength": "12",
        }
    )
    assert codecs["iam"].parse(request).params == {
        "require_symbols": True,
        "allow_users_to_change_password": False,
        "minimum_password_length": 12,
    }
