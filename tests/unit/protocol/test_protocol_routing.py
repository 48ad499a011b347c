"""Requests find their service by shape alone, and unroutable ones get a sensible error envelope."""

from __future__ import annotations

from typing import Any

import pytest

from keystead.errors import MissingParameterError, UnknownOperationError
from keystead.protocol import ServiceCodec, codec_for_error, route
from keystead.types import HttpRequest


def _request(
    headers: dict[str, str], body: bytes = b"", query: str = "", method: str = "POST"
) -> HttpRequest:
    return HttpRequest(method, "/", query, tuple(headers.items()), body)


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("kms", "Encrypt", {"KeyId": "k", "Plaintext": b"x"}),
        ("iam", "ListUsers", {}),
        ("sts", "GetCallerIdentity", {}),
        (
            "sts",
            "AssumeRoleWithWebIdentity",
            {
                "RoleArn": "arn:aws:iam::111122223333:role/web",
                "RoleSessionName": "s1",
                "WebIdentityToken": "jwt-token-value",
            },
        ),
    ],
)
def test_botocore_requests_route_to_their_service(
    wire: Any, codecs: dict[str, ServiceCodec], service: str, operation: str, params: dict[str, Any]
) -> None:
    assert route(wire.request(service, operation, params), codecs) is codecs[service]


def test_presigned_style_get_routes_by_version_in_the_query_string(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    assert route(wire.request("sts", "GetCallerIdentity", {}, method="GET"), codecs) is codecs["sts"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
        {"Content-Type": "application/x-amz-json-1.1"},
    ],
)
def test_json_request_without_a_known_target_prefix_is_unknown_operation(
    codecs: dict[str, ServiceCodec], headers: dict[str, str]
) -> None:
    with pytest.raises(UnknownOperationError):
        route(_request(headers, b"{}"), codecs)


def test_query_request_with_an_unknown_version_is_invalid_action(codecs: dict[str, ServiceCodec]) -> None:
    with pytest.raises(UnknownOperationError) as caught:
        route(_request(FORM, b"Action=ListUsers&Version=2099-01-01"), codecs)
    assert caught.value.message == "Could not find operation ListUsers for version 2099-01-01"


@pytest.mark.parametrize("body", [b"Version=2010-05-08", b"Action=ListUsers", b""])
def test_query_request_without_action_or_version_is_missing_parameter(
    codecs: dict[str, ServiceCodec], body: bytes
) -> None:
    with pytest.raises(MissingParameterError):
        route(_request(FORM, body), codecs)


def test_routing_errors_render_in_the_envelope_the_client_expects(codecs: dict[str, ServiceCodec]) -> None:
    json_request = _request({"X-Amz-Target": "Nope.Op", "Content-Type": "application/x-amz-json-1.1"})
    assert codec_for_error(json_request, codecs) is codecs["kms"]
    signed_for_sts = _request(
        {
            **FORM,
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/sts/aws4_request, "
            "SignedHeaders=host, Signature=00",
        }
    )
    assert codec_for_error(signed_for_sts, codecs) is codecs["sts"]
    presigned_for_iam = _request(
        {},
        query="Action=X&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fiam%2Faws4_request",
        method="GET",
    )
    assert codec_for_error(presigned_for_iam, codecs) is codecs["iam"]
    unsigned_query = _request(FORM, b"Action=X")
    assert codec_for_error(unsigned_query, codecs).is_query
