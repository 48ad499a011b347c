"""SigV4 authentication and request handling as boto3 and raw signed requests see it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from tests.support import Account, Server, kms_request


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def test_wrong_secret_is_invalid_signature(server: Server) -> None:
    kms = server.client("kms", secret_access_key="x" * 40)
    with pytest.raises(ClientError) as exc:
        kms.list_keys()
    code, message = error_of(exc)
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_unrecognized_client(server: Server) -> None:
    kms = server.client("kms", access_key_id="AKIAIOSFODNN7EXAMPLE")
    with pytest.raises(ClientError) as exc:
        kms.list_keys()
    assert error_of(exc) == ("UnrecognizedClientException", "The security token included in the request is invalid.")


def test_unknown_access_key_on_sts_uses_query_spelling(server: Server) -> None:
    sts = server.client("sts", access_key_id="AKIAIOSFODNN7EXAMPLE")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error_of(exc)[0] == "InvalidClientTokenId"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_session_token_for_a_long_term_key_is_rejected(server: Server) -> None:
    kms = server.client("kms", session_token="FQoGZXIvYXdzEXAMPLE")
    with pytest.raises(ClientError) as exc:
        kms.list_keys()
    assert error_of(exc)[0] == "UnrecognizedClientException"


def test_stale_signature_is_expired(server: Server) -> None:
    account = server.accounts[0]
    response = kms_request(server, account, "ListKeys", {}, at=datetime.now(timezone.utc) - timedelta(minutes=6))
    assert response.status_code == 400
    body = response.json()
    assert body["__type"] == "InvalidSignatureException"
    assert body["message"].startswith("Signature expired:")


def test_signature_from_the_future_is_not_yet_current(server: Server) -> None:
    response = kms_request(
        server, server.accounts[0], "ListKeys", {}, at=datetime.now(timezone.utc) + timedelta(minutes=6)
    )
    assert response.json()["message"].startswith("Signature not yet current:")


def test_signature_within_skew_is_accepted(server: Server) -> None:
    response = kms_request(
        server, server.accounts[0], "ListKeys", {}, at=datetime.now(timezone.utc) - timedelta(minutes=4)
    )
    assert response.status_code == 200


def test_missing_authentication_is_reported(server: Server) -> None:
    response = httpx.post(
        server.endpoint + "/", content=b"{}",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"},
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert response.headers["x-amzn-RequestId"]


def test_wrong_region_scope_is_rejected(server: Server) -> None:
    kms = server.client("kms", region="eu-west-3")
    with pytest.raises(ClientError) as exc:
        kms.list_keys()
    code, message = error_of(exc)
    assert code == "InvalidSignatureException"
    assert "eu-west-3" in message


def test_every_response_has_a_request_id(server: Server) -> None:
    kms = server.client("kms")
    assert kms.list_keys()["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="alias/none")
    assert exc.value.response["ResponseMetadata"]["RequestId"]


def test_get_caller_identity_names_the_root_user(server: Server) -> None:
    account = server.accounts[0]
    identity = server.client("sts").get_caller_identity()
    assert identity["Account"] == account.account_id
    assert identity["Arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert identity["UserId"] == account.account_id


def test_presigned_get_caller_identity_url_works(server: Server) -> None:
    account = server.accounts[0]
    sts = server.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert f"<Arn>arn:aws:iam::{account.account_id}:root</Arn>" in response.text
    tampered = url.replace("Action=GetCallerIdentity", "Action=GetCallerIdentity&Extra=1")
    assert httpx.get(tampered).status_code == 403


def test_another_account_cannot_use_a_key_it_was_not_granted(server: Server) -> None:
    owner_kms = server.client("kms")
    key = owner_kms.create_key()["KeyMetadata"]
    stranger = server.create_account("stranger")
    with pytest.raises(ClientError) as exc:
        server.client("kms", stranger).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert message.startswith(f"User: arn:aws:iam::{stranger.account_id}:root is not authorized to perform: kms:Encrypt")


def test_unknown_operation_and_malformed_json(server: Server) -> None:
    account: Account = server.accounts[0]
    unknown = kms_request(server, account, "MakeCoffee", {})
    assert unknown.status_code == 400 and unknown.json()["__type"] == "UnknownOperationException"
    malformed = kms_request(server, account, "ListKeys", b"{not json")
    assert malformed.status_code == 400 and malformed.json()["__type"] == "SerializationException"


def test_raw_request_helper_signs_like_botocore() -> None:
    # Guards the helper itself: a prepared AWSRequest keeps its body.
    request = AWSRequest(method="POST", url="http://127.0.0.1/", data=b"{}")
    assert request.prepare().body == b"{}"
