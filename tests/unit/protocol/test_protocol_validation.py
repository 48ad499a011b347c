"""Model constraints are enforced on input, with AWS's ValidationException wording."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from keystead.errors import ValidationError
from keystead.protocol import ServiceCodec
from keystead.types import HttpRequest


def _kms(operation: str, body: dict[str, Any]) -> HttpRequest:
    headers = (("X-Amz-Target", f"TrentService.{operation}"), ("Content-Type", "application/x-amz-json-1.1"))
    return HttpRequest("POST", "/", "", headers, json.dumps(body).encode())


def _query(params: dict[str, str]) -> HttpRequest:
    headers = (("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),)
    return HttpRequest("POST", "/", "", headers, urlencode(params).encode())


def _message(codec: ServiceCodec, request: HttpRequest) -> str:
    with pytest.raises(ValidationError) as caught:
        codec.parse(request)
    return caught.value.message


def test_key_id_longer_than_2048_reports_the_length_limit(codecs: dict[str, ServiceCodec]) -> None:
    key_id = "k" * 2049
    assert _message(codecs["kms"], _kms("DescribeKey", {"KeyId": key_id})) == (
        f"1 validation error detected: Value '{key_id}' at 'keyId' failed to satisfy constraint: "
        "Member must have length less than or equal to 2048"
    )


def test_empty_key_id_reports_the_minimum_length(codecs: dict[str, ServiceCodec]) -> None:
    assert _message(codecs["kms"], _kms("DescribeKey", {"KeyId": ""})) == (
        "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_missing_required_members_are_reported_as_null_in_model_order(
    codecs: dict[str, ServiceCodec],
) -> None:
    assert _message(codecs["kms"], _kms("Encrypt", {})) == (
        "2 validation errors detected: "
        "Value null at 'keyId' failed to satisfy constraint: Member must not be null; "
        "Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
    )


def test_limit_outside_its_range_reports_value_bounds(codecs: dict[str, ServiceCodec]) -> None:
    assert _message(codecs["kms"], _kms("ListKeys", {"Limit": 1001})) == (
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"
    )
    assert "Member must have value greater than or equal to 1" in _message(
        codecs["kms"], _kms("ListKeys", {"Limit": 0})
    )


def test_enum_violation_lists_the_allowed_values(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(
        codecs["kms"], _kms("Encrypt", {"KeyId": "k", "Plaintext": "AA==", "EncryptionAlgorithm": "ROT13"})
    )
    assert message == (
        "1 validation error detected: Value 'ROT13' at 'encryptionAlgorithm' failed to satisfy constraint: "
        "Member must satisfy enum value set: "
        "[SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"
    )


def test_pattern_violation_quotes_the_model_pattern(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(
        codecs["kms"], _kms("CreateAlias", {"AliasName": "alias/bad name", "TargetKeyId": "k"})
    )
    assert message == (
        "1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
    )


def test_sensitive_plaintext_is_never_echoed(codecs: dict[str, ServiceCodec]) -> None:
    plaintext = "QUFB" * 1366  # base64 of 4098 bytes, two over the limit
    message = _message(codecs["kms"], _kms("Encrypt", {"KeyId": "k", "Plaintext": plaintext}))
    assert message == (
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )
    assert "QUFB" not in message and "AAA" not in message


def test_nested_list_structure_paths_use_index_then_member(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(
        codecs["kms"],
        _kms("CreateKey", {"Tags": [{"TagKey": "ok", "TagValue": "v"}, {"TagKey": "", "TagValue": "v"}]}),
    )
    assert message == (
        "1 validation error detected: Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_list_of_scalars_reports_all_element_constraints_at_the_list(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(
        codecs["kms"], _kms("Encrypt", {"KeyId": "k", "Plaintext": "AA==", "GrantTokens": ["a", ""]})
    )
    assert message == (
        "1 validation error detected: Value '[a, ]' at 'grantTokens' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must have length less than or equal to 8192, "
        "Member must have length greater than or equal to 1]"
    )


def test_list_length_limit_counts_elements(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(
        codecs["kms"], _kms("Encrypt", {"KeyId": "k", "Plaintext": "AA==", "GrantTokens": ["t"] * 11})
    )
    assert (
        "at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10"
        in message
    )


def test_iam_user_name_pattern_and_length_are_both_reported(codecs: dict[str, ServiceCodec]) -> None:
    name = "bad name!" * 8
    message = _message(
        codecs["iam"], _query({"Action": "CreateUser", "Version": "2010-05-08", "UserName": name})
    )
    assert message == (
        f"2 validation errors detected: Value '{name}' at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64; "
        f"Value '{name}' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_iam_missing_user_name_is_a_validation_error_with_query_code(codecs: dict[str, ServiceCodec]) -> None:
    with pytest.raises(ValidationError) as caught:
        codecs["iam"].parse(_query({"Action": "CreateUser", "Version": "2010-05-08"}))
    assert caught.value.message == (
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert caught.value.wire_code(True) == "ValidationError"


def test_iam_tag_value_uses_java_unicode_classes(codecs: dict[str, ServiceCodec]) -> None:
    ok = {
        "Action": "TagUser",
        "Version": "2010-05-08",
        "UserName": "u",
        "Tags.member.1.Key": "Straße 1",
        "Tags.member.1.Value": "日本 é:/=+-@",
    }
    assert codecs["iam"].parse(_query(ok)).params["tags"] == [{"key": "Straße 1", "value": "日本 é:/=+-@"}]
    bad = dict(ok, **{"Tags.member.1.Value": "a$b"})
    assert _message(codecs["iam"], _query(bad)) == (
        "1 validation error detected: Value 'a$b' at 'tags.1.member.value' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
    )


def test_sts_duration_seconds_below_minimum_is_reported(codecs: dict[str, ServiceCodec]) -> None:
    params = {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": "arn:aws:iam::111122223333:role/r",
        "RoleSessionName": "s1",
        "DurationSeconds": "899",
    }
    assert _message(codecs["sts"], _query(params)) == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_at_most_ten_violations_are_reported(codecs: dict[str, ServiceCodec]) -> None:
    tags = [{"TagKey": "", "TagValue": "v"} for _ in range(12)]
    message = _message(codecs["kms"], _kms("CreateKey", {"Tags": tags}))
    assert message.startswith("10 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10


def test_null_list_element_must_not_be_null(codecs: dict[str, ServiceCodec]) -> None:
    message = _message(codecs["kms"], _kms("CreateKey", {"Tags": [None]}))
    assert message == (
        "1 validation error detected: Value null at 'tags.1.member' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_string_length_counts_utf16_code_units_like_java(codecs: dict[str, ServiceCodec]) -> None:
    # 128 emoji are 256 UTF-16 code units: over TagKey's limit of 128 although len() is 128.
    key = "\U0001f600" * 128
    message = _message(codecs["kms"], _kms("CreateKey", {"Tags": [{"TagKey": key, "TagValue": "v"}]}))
    assert "Member must have length less than or equal to 128" in message


def test_valid_request_passes_validation_unchanged(codecs: dict[str, ServiceCodec]) -> None:
    call = codecs["kms"].parse(
        _kms(
            "CreateAlias",
            {"AliasName": "alias/app-key_1", "TargetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        )
    )
    assert call.params == {
        "alias_name": "alias/app-key_1",
        "target_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab",
    }
