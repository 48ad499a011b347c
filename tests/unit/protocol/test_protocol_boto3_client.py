"""Real boto3 clients, whose HTTP layer is route -> parse -> fake handler -> render."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keystead.errors import NoSuchEntityError, NotFoundError
from keystead.protocol import OperationCall

MakeClient = Callable[[str, Callable[[OperationCall], Mapping[str, Any]]], Any]


def test_kms_encrypt_through_boto3_sees_params_and_gets_typed_result(client_for: MakeClient) -> None:
    seen: list[OperationCall] = []

    def handler(call: OperationCall) -> Mapping[str, Any]:
        seen.append(call)
        return {
            "ciphertext_blob": b"sealed:" + call.params["plaintext"],
            "key_id": "arn:aws:kms:us-east-1:111122223333:key/k",
        }

    kms = client_for("kms", handler)
    response = kms.encrypt(KeyId="alias/app", Plaintext=b"hello", EncryptionContext={"purpose": "test"})
    assert seen[0].params == {
        "key_id": "alias/app",
        "plaintext": b"hello",
        "encryption_context": {"purpose": "test"},
    }
    assert response["CiphertextBlob"] == b"sealed:hello"
    assert response["ResponseMetadata"]["RequestId"] == "11111111-2222-3333-4444-555555555555"


def test_kms_modelled_error_raises_client_error_with_its_code(client_for: MakeClient) -> None:
    def handler(call: OperationCall) -> Mapping[str, Any]:
        raise NotFoundError(f"Key '{call.params['key_id']}' does not exist")

    kms = client_for("kms", handler)
    with pytest.raises(kms.exceptions.NotFoundException) as caught:
        kms.describe_key(KeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    assert (
        caught.value.response["Error"]["Message"]
        == "Key '1234abcd-12ab-34cd-56ef-1234567890ab' does not exist"
    )


def test_kms_validation_failure_reaches_boto3_as_validation_exception(client_for: MakeClient) -> None:
    kms = client_for("kms", lambda call: {})
    with pytest.raises(ClientError) as caught:
        kms.list_keys(Limit=5000)  # botocore does not check ranges client-side; we must.
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].endswith(
        "at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
    )


def test_iam_get_user_policy_returns_the_document_as_a_dict_to_boto3(client_for: MakeClient) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}],
    }

    def handler(call: OperationCall) -> Mapping[str, Any]:
        return {
            "user_name": call.params["user_name"],
            "policy_name": "p",
            "policy_document": json.dumps(document),
        }

    iam = client_for("iam", handler)
    response = iam.get_user_policy(UserName="alice", PolicyName="p")
    # botocore's after-call handler URL-decodes and JSON-loads what we URL-encoded.
    assert response["PolicyDocument"] == document


def test_iam_modelled_error_raises_the_modelled_exception(client_for: MakeClient) -> None:
    def handler(call: OperationCall) -> Mapping[str, Any]:
        raise NoSuchEntityError(f"The user with name {call.params['user_name']} cannot be found.")

    iam = client_for("iam", handler)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="bob")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_sts_assume_role_round_trips_through_boto3(client_for: MakeClient) -> None:
    expiration = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def handler(call: OperationCall) -> Mapping[str, Any]:
        return {
            "credentials": {
                "access_key_id": "ASIAEXAMPLE",
                "secret_access_key": "s",
                "session_token": "t",
                "expiration": expiration,
            },
            "assumed_role_user": {
                "assumed_role_id": f"AROAEXAMPLE:{call.params['role_session_name']}",
                "arn": "arn:aws:sts::111122223333:assumed-role/app/s1",
            },
        }

    sts = client_for("sts", handler)
    response = sts.assume_role(
        RoleArn="arn:aws:iam::111122223333:role/app",
        RoleSessionName="s1",
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        Tags=[{"Key": "k", "Value": "v"}],
    )
    assert response["Credentials"]["Expiration"] == expiration
    assert response["AssumedRoleUser"]["AssumedRoleId"] == "AROAEXAMPLE:s1"


def test_sts_get_caller_identity_through_boto3(client_for: MakeClient) -> None:
    sts = client_for(
        "sts",
        lambda call: {
            "user_id": "AIDAEXAMPLE",
            "account": "111122223333",
            "arn": "arn:aws:iam::111122223333:user/a",
        },
    )
    assert sts.get_caller_identity()["Account"] == "111122223333"
