"""Every request leaves a CloudTrail record, read back through CloudTrail's LookupEvents (boto3,
live server): the fields, the redaction, failures, cross-account copies, failed authentication."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server

Event = dict[str, Any]


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("audit-owner")


@pytest.fixture(scope="module")
def caller(server: Server) -> Account:
    return server.create_account("audit-caller")


def records(server: Server, account: Account, key: str, value: str, **kw: Any) -> list[Event]:
    """The account's CloudTrail records matching one lookup attribute, newest first."""
    cloudtrail = server.client("cloudtrail", account)
    events = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **kw)["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def only(events: list[Event], name: str) -> Event:
    matching = [e for e in events if e["eventName"] == name]
    assert len(matching) == 1, [e["eventName"] for e in events]
    return matching[0]


def test_encrypt_is_recorded_with_every_cloudtrail_field_and_without_plaintext(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key = kms.create_key()["KeyMetadata"]
    response = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"never-in-the-trail", EncryptionContext={"dept": "x"})
    event = only(records(server, owner, "ResourceName", key["Arn"]), "Encrypt")
    assert event["requestID"] == response["ResponseMetadata"]["RequestId"]
    assert event["userIdentity"] == {
        "type": "Root", "principalId": owner.account_id, "arn": owner.arn,
        "accountId": owner.account_id, "accessKeyId": owner.access_key_id,
    }
    assert event["eventVersion"] == "1.11" and event["eventType"] == "AwsApiCall"
    assert event["eventSource"] == "kms.amazonaws.com" and event["awsRegion"] == "us-east-1"
    assert event["sourceIPAddress"] == "127.0.0.1" and event["userAgent"].startswith("Boto3/")
    assert event["requestParameters"] == {"keyId": key["KeyId"], "encryptionContext": {"dept": "x"}}
    assert event["responseElements"] is None and event["readOnly"] is True
    assert event["resources"] == [{"accountId": owner.account_id, "type": "AWS::KMS::Key", "ARN": key["Arn"]}]
    assert event["recipientAccountId"] == owner.account_id and event["managementEvent"] is True
    assert len(event["eventID"]) == 36 and event["eventTime"].endswith("Z")
    assert "errorCode" not in event and "never-in-the-trail" not in json.dumps(event)


def test_a_mutation_records_its_response_elements_without_absent_members(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key = kms.create_key(Description="audited")["KeyMetadata"]
    event = only(records(server, owner, "ResourceName", key["Arn"]), "CreateKey")
    assert event["readOnly"] is False
    assert event["requestParameters"] == {"description": "audited"}
    metadata = event["responseElements"]["keyMetadata"]
    assert metadata["keyId"] == key["KeyId"] and metadata["arn"] == key["Arn"]
    assert "deletionDate" not in metadata


def test_a_failed_call_records_the_error_code_and_message_the_client_got(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="alias/audit-missing")
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    events = [e for e in records(server, owner, "EventName", "DescribeKey") if e["requestID"] == request_id]
    assert len(events) == 1
    assert events[0]["errorCode"] == "NotFoundException"
    assert events[0]["errorMessage"] == exc.value.response["Error"]["Message"]


def test_a_request_that_fails_validation_after_signing_is_recorded(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId="k" * 3000, Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    event = [e for e in records(server, owner, "EventName", "Encrypt") if e["requestID"] == request_id][0]
    assert event["errorCode"] == "ValidationException" and event["userIdentity"]["type"] == "Root"


def cross_account_key(server: Server, owner: Account, caller: Account) -> dict[str, Any]:
    statements = [
        {"Effect": "Allow", "Principal": {"AWS": owner.arn}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": caller.arn}, "Action": "kms:Encrypt", "Resource": "*"},
    ]
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return server.client("kms", owner).create_key(Policy=policy)["KeyMetadata"]


def test_a_cross_account_call_is_recorded_in_both_accounts_with_a_shared_event_id(
    server: Server, owner: Account, caller: Account
) -> None:
    key = cross_account_key(server, owner, caller)
    response = server.client("kms", caller).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    request_id = response["ResponseMetadata"]["RequestId"]
    in_owner = [e for e in records(server, owner, "ResourceName", key["Arn"]) if e["requestID"] == request_id]
    in_caller = [e for e in records(server, caller, "ResourceName", key["Arn"]) if e["requestID"] == request_id]
    assert len(in_owner) == 1 and len(in_caller) == 1
    (mine, theirs) = (in_caller[0], in_owner[0])
    assert mine["recipientAccountId"] == caller.account_id and theirs["recipientAccountId"] == owner.account_id
    assert mine["userIdentity"]["accountId"] == theirs["userIdentity"]["accountId"] == caller.account_id
    assert mine["sharedEventID"] == theirs["sharedEventID"] and mine["eventID"] != theirs["eventID"]


def test_a_cross_account_call_denied_access_is_recorded_only_in_the_callers_account(
    server: Server, owner: Account, caller: Account
) -> None:
    key = cross_account_key(server, owner, caller)
    with pytest.raises(ClientError) as exc:
        server.client("kms", caller).describe_key(KeyId=key["Arn"])
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    in_caller = [e for e in records(server, caller, "EventName", "DescribeKey") if e["requestID"] == request_id]
    in_owner = [e for e in records(server, owner, "EventName", "DescribeKey") if e["requestID"] == request_id]
    assert in_owner == [] and len(in_caller) == 1
    assert in_caller[0]["errorCode"] == "AccessDeniedException"


def test_a_bad_signature_is_recorded_in_the_account_of_the_presented_access_key(server: Server, owner: Account) -> None:
    forged = server.client("kms", owner, secret_access_key="wrong" * 8)
    with pytest.raises(ClientError) as exc:
        forged.list_keys()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    events = [e for e in records(server, owner, "AccessKeyId", owner.access_key_id) if e["requestID"] == request_id]
    assert len(events) == 1
    assert events[0]["errorCode"] == "InvalidSignatureException" and events[0]["eventName"] == "ListKeys"
    assert events[0]["recipientAccountId"] == owner.account_id


def test_an_unknown_access_key_is_recorded_outside_every_account(server: Server, owner: Account) -> None:
    stranger = server.client("kms", owner, access_key_id="AKIAAAAAAAAAAAAAAAAA")
    with pytest.raises(ClientError) as exc:
        stranger.list_keys()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert records(server, owner, "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA") == []
    exported = server.cli("audit", "export", "--data-dir", str(server.data_dir), "--format", "jsonl").stdout
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    matching = [json.loads(line) for line in exported.splitlines() if request_id in line]
    assert len(matching) == 1 and matching[0]["recipientAccountId"] is None
    assert matching[0]["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAAAAAAAAAAAAAAAAA"}
