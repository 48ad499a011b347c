"""KMS over awsJson1_1: requests from botocore's serializer, responses read by botocore's parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from keystead.errors import (
    InternalError,
    KMSInvalidStateError,
    NotFoundError,
    SerializationError,
    UnknownOperationError,
    UnsupportedMediaTypeError,
)
from keystead.protocol import ServiceCodec
from keystead.types import HttpRequest


def _replace_header(request: HttpRequest, name: str, value: str | None) -> HttpRequest:
    headers = tuple((k, v) for k, v in request.headers if k.lower() != name.lower())
    if value is not None:
        headers += ((name, value),)
    return HttpRequest(request.method, request.raw_path, request.query_string, headers, request.body)


def _with_body(request: HttpRequest, body: bytes) -> HttpRequest:
    return HttpRequest(request.method, request.raw_path, request.query_string, request.headers, body)


def test_encrypt_with_encryption_context_parses_to_snake_case_params(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    request = wire.request(
        "kms",
        "Encrypt",
        {
            "KeyId": "alias/app",
            "Plaintext": b"\x00secret\xff",
            "EncryptionContext": {"Department": "Finance", "mixedCase Key": "v"},
            "GrantTokens": ["token-1"],
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "DryRun": False,
        },
    )
    call = codecs["kms"].parse(request)
    assert call.service == "kms"
    assert call.operation == "Encrypt"
    assert call.params == {
        "key_id": "alias/app",
        "plaintext": b"\x00secret\xff",
        "encryption_context": {"Department": "Finance", "mixedCase Key": "v"},
        "grant_tokens": ["token-1"],
        "encryption_algorithm": "SYMMETRIC_DEFAULT",
        "dry_run": False,
    }


def test_create_key_with_tags_and_policy_parses_nested_structures(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    request = wire.request(
        "kms",
        "CreateKey",
        {
            "Policy": policy,
            "Description": "app key",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "Tags": [{"TagKey": "team", "TagValue": "payments"}, {"TagKey": "env", "TagValue": ""}],
            "BypassPolicyLockoutSafetyCheck": True,
            "MultiRegion": False,
        },
    )
    params = codecs["kms"].parse(request).params
    assert params["policy"] == policy
    assert params["tags"] == [
        {"tag_key": "team", "tag_value": "payments"},
        {"tag_key": "env", "tag_value": ""},
    ]
    assert params["bypass_policy_lockout_safety_check"] is True
    assert params["multi_region"] is False


def test_list_keys_with_no_params_and_an_empty_body_parses_to_empty_params(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    request = wire.request("kms", "ListKeys", {})
    assert codecs["kms"].parse(request).params == {}
    assert codecs["kms"].parse(_with_body(request, b"")).params == {}


def test_unknown_json_members_are_ignored(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = _with_body(wire.request("kms", "ListKeys", {}), b'{"Limit": 5, "Surprise": {"deep": [1]}}')
    assert codecs["kms"].parse(request).params == {"limit": 5}


def test_json_null_members_count_as_absent(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = _with_body(wire.request("kms", "ListKeys", {}), b'{"Limit": null, "Marker": "m"}')
    assert codecs["kms"].parse(request).params == {"marker": "m"}


def test_import_key_material_timestamp_becomes_an_aware_datetime(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    valid_to = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    request = wire.request(
        "kms",
        "ImportKeyMaterial",
        {"KeyId": "k", "ImportToken": b"t", "EncryptedKeyMaterial": b"m", "ValidTo": valid_to},
    )
    assert codecs["kms"].parse(request).params["valid_to"] == valid_to


def test_encrypt_result_round_trips_through_botocore_parser(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    result = {
        "ciphertext_blob": b"\x01\x02blob",
        "key_id": "arn:aws:kms:us-east-1:111122223333:key/k",
        "encryption_algorithm": "SYMMETRIC_DEFAULT",
    }
    response = codecs["kms"].render_result("Encrypt", result, "req-1")
    assert response.status == 200
    assert ("x-amzn-RequestId", "req-1") in response.headers
    assert ("Content-Type", "application/x-amz-json-1.1") in response.headers
    assert wire.parse("kms", "Encrypt", response) == {
        "CiphertextBlob": b"\x01\x02blob",
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }


def test_describe_key_result_renders_timestamps_as_epoch_seconds_and_omits_none(
    wire: Any, codecs: dict[str, ServiceCodec]
) -> None:
    created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    result = {
        "key_metadata": {
            "key_id": "k",
            "arn": "arn:aws:kms:us-east-1:111122223333:key/k",
            "creation_date": created,
            "enabled": True,
            "description": None,
            "key_state": "Enabled",
            "encryption_algorithms": ["SYMMETRIC_DEFAULT"],
        }
    }
    response = codecs["kms"].render_result("DescribeKey", result, "req-2")
    body = json.loads(response.body)
    assert body["KeyMetadata"]["CreationDate"] == int(created.timestamp())
    assert "Description" not in body["KeyMetadata"]
    parsed = wire.parse("kms", "DescribeKey", response)
    assert parsed["KeyMetadata"]["CreationDate"] == created
    assert parsed["KeyMetadata"]["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]


def test_operation_without_output_renders_an_empty_object(codecs: dict[str, ServiceCodec]) -> None:
    assert codecs["kms"].render_result("EnableKey", {}, "req-3").body == b"{}"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("Key 'arn:aws:kms:us-east-1:111122223333:key/x' does not exist"), 400),
        (KMSInvalidStateError("arn is pending deletion."), 409),
        (InternalError(), 500),
    ],
)
def test_errors_render_with_type_header_and_botocore_reads_code_and_message(
    wire: Any, codecs: dict[str, ServiceCodec], error: Any, status: int
) -> None:
    response = codecs["kms"].render_error(error, "req-4")
    assert response.status == status
    assert ("x-amzn-ErrorType", error.code) in response.headers
    assert json.loads(response.body) == {"__type": error.code, "message": error.message}
    parsed = wire.parse_error("kms", response)
    assert parsed["Error"]["Code"] == error.code
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["RequestId"] == "req-4"


def test_error_without_message_leaves_message_out_like_aws(codecs: dict[str, ServiceCodec]) -> None:
    response = codecs["kms"].render_error(UnknownOperationError(), "req-5")
    assert json.loads(response.body) == {"__type": "UnknownOperationException"}


def test_malformed_json_is_a_serialization_error(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = _with_body(wire.request("kms", "ListKeys", {}), b'{"Limit": ')
    with pytest.raises(SerializationError):
        codecs["kms"].parse(request)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "Start of list found where not expected"),
        (b'"text"', "Expected a JSON object as the request body"),
        (b'{"Limit": NaN}', "The request body is not valid JSON"),
        (b'{"Limit": "5"}', "class java.lang.String can not be converted to an Integer"),
        (b'{"Limit": true}', "class java.lang.Boolean can not be converted to an Integer"),
        (
            b'{"Marker": 5}',
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        (b'{"Marker": {"a": 1}}', "Start of structure or map found where not expected."),
    ],
)
def test_wrong_json_types_are_serialization_errors_in_coral_words(
    wire: Any, codecs: dict[str, ServiceCodec], body: bytes, message: str
) -> None:
    request = _with_body(wire.request("kms", "ListKeys", {}), body)
    with pytest.raises(SerializationError) as caught:
        codecs["kms"].parse(request)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("plaintext", "message"),
    [
        (
            "abc",
            "'abc' can not be converted to a Blob: "
            "Base64 encoded length is expected a multiple of 4 bytes but found: 3",
        ),
        ("ab*d", "'ab*d' can not be converted to a Blob: Invalid Base64 character: '*'"),
        ("ab=c", "'ab=c' can not be converted to a Blob: Invalid Base64 character: '='"),
        (12, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"),
    ],
)
def test_bad_base64_blob_is_a_serialization_error(
    wire: Any, codecs: dict[str, ServiceCodec], plaintext: object, message: str
) -> None:
    request = _with_body(
        wire.request("kms", "ListKeys", {}), json.dumps({"KeyId": "k", "Plaintext": plaintext}).encode()
    )
    request = _replace_header(request, "X-Amz-Target", "TrentService.Encrypt")
    with pytest.raises(SerializationError) as caught:
        codecs["kms"].parse(request)
    assert caught.value.message == message


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_wrong_content_type_is_unsupported_media_type(
    wire: Any, codecs: dict[str, ServiceCodec], content_type: str | None
) -> None:
    request = _replace_header(wire.request("kms", "ListKeys", {}), "Content-Type", content_type)
    with pytest.raises(UnsupportedMediaTypeError):
        codecs["kms"].parse(request)
    assert UnsupportedMediaTypeError().wire_status(False) == 415


def test_json_1_0_content_type_with_charset_is_accepted(wire: Any, codecs: dict[str, ServiceCodec]) -> None:
    request = _replace_header(
        wire.request("kms", "ListKeys", {}), "Content-Type", "application/x-amz-json-1.0; charset=utf-8"
    )
    assert codecs["kms"].parse(request).operation == "ListKeys"


@pytest.mark.parametrize(
    "target", ["TrentService.Frobnicate", "DynamoDB_20120810.ListTables", "ListKeys", None]
)
def test_unknown_target_is_unknown_operation(
    wire: Any, codecs: dict[str, ServiceCodec], target: str | None
) -> None:
    request = _replace_header(wire.request("kms", "ListKeys", {}), "X-Amz-Target", target)
    with pytest.raises(UnknownOperationError):
        codecs["kms"].parse(request)
