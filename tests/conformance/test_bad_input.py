"""Bad input gets an AWS-style 4xx error, never a 500, and never a partial write."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Server, kms_request

OPERATIONS = [
    "CreateKey", "DescribeKey", "ListKeys", "Encrypt", "Decrypt", "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext", "EnableKey", "DisableKey", "GetKeyPolicy", "PutKeyPolicy",
    "ListKeyPolicies",
]
MEMBERS = ["KeyId", "Plaintext", "CiphertextBlob", "EncryptionContext", "Limit", "Marker", "Policy",
           "PolicyName", "KeySpec", "NumberOfBytes", "Tags", "Description", "KeyUsage", "GrantTokens"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(OPERATIONS), payload=st.dictionaries(st.sampled_from(MEMBERS), json_values, max_size=4))
def test_random_payloads_never_cause_a_server_error(server: Server, operation: str, payload: dict) -> None:
    response = kms_request(server, server.accounts[0], operation, payload)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["__type"]
        assert response.headers["x-amzn-ErrorType"]


@pytest.mark.parametrize("body", [b"[]", b"null", b'"text"', b"\xff\xfe", b"{" * 1000])
def test_non_object_bodies_are_serialization_errors(server: Server, body: bytes) -> None:
    response = kms_request(server, server.accounts[0], "ListKeys", body)
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"


def test_failed_create_key_writes_nothing(server: Server) -> None:
    account = server.create_account("atomic")
    kms = server.client("kms", account)
    bad_tags = [{"TagKey": "aws:reserved", "TagValue": "x"}]
    with pytest.raises(Exception):
        kms.create_key(Tags=bad_tags)
    with pytest.raises(Exception):
        kms.create_key(Policy="{}")
    assert kms.list_keys()["Keys"] == []


def test_validation_messages_follow_aws_format(server: Server) -> None:
    response = kms_request(server, server.accounts[0], "DescribeKey", {"KeyId": ""})
    body = response.json()
    assert body["__type"] == "ValidationException"
    assert body["message"].startswith("1 validation error detected: Value '' at 'keyId' failed to satisfy constraint")
    response = kms_request(server, server.accounts[0], "ListKeys", {"Limit": 0})
    assert "Member must have value greater than or equal to 1" in response.json()["message"]
    response = kms_request(server, server.accounts[0], "DescribeKey", {})
    assert "Member must not be null" in response.json()["message"]
    response = kms_request(server, server.accounts[0], "CreateKey", {"KeySpec": "AES_999"})
    assert "Member must satisfy enum value set" in response.json()["message"]
    assert json.loads(response.text)["__type"] == "ValidationException"
