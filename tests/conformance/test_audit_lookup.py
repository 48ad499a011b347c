"""CloudTrail LookupEvents through boto3: attributes, time ranges, pagination, errors, and an
account only ever reading its own records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    return server.create_account("lookup")


@pytest.fixture(scope="module")
def history(server: Server, account: Account) -> dict[str, Any]:
    """A key with one CreateKey and seven Encrypt records in `account`."""
    kms = server.client("kms", account)
    key = kms.create_key()["KeyMetadata"]
    request_ids = [kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["ResponseMetadata"]["RequestId"] for _ in range(7)]
    return {"key": key, "encrypts": request_ids}


def lookup(server: Server, account: Account, key: str, value: str, **kw: Any) -> dict[str, Any]:
    attributes = [{"AttributeKey": key, "AttributeValue": value}]
    return server.client("cloudtrail", account).lookup_events(LookupAttributes=attributes, **kw)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_pages_come_newest_first_and_join_up_with_next_token(
    server: Server, account: Account, history: dict[str, Any]
) -> None:
    arn = history["key"]["Arn"]
    pages, token = [], None
    while True:
        kw = {"MaxResults": 3} | ({"NextToken": token} if token else {})
        page = lookup(server, account, "ResourceName", arn, **kw)
        pages.append(page["Events"])
        token = page.get("NextToken")
        if token is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    events = [e for p in pages for e in p]
    assert [e["EventName"] for e in events] == ["Encrypt"] * 7 + ["CreateKey"]
    request_ids = [json.loads(e["CloudTrailEvent"])["requestID"] for e in events[:7]]
    assert request_ids == list(reversed(history["encrypts"]))
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)


def test_each_lookup_attribute_filters_the_records(server: Server, account: Account, history: dict[str, Any]) -> None:
    arn = history["key"]["Arn"]
    first = lookup(server, account, "ResourceName", arn)["Events"][0]
    assert [e["EventId"] for e in lookup(server, account, "EventId", first["EventId"])["Events"]] == [first["EventId"]]
    assert first["Username"] == "root" and first["AccessKeyId"] == account.access_key_id
    assert first["Resources"] == [{"ResourceType": "AWS::KMS::Key", "ResourceName": arn}]
    names = {e["EventName"] for e in lookup(server, account, "EventName", "CreateKey")["Events"]}
    assert names == {"CreateKey"}
    mutations = lookup(server, account, "ReadOnly", "false")["Events"]
    assert mutations and all(e["ReadOnly"] == "false" for e in mutations)
    by_type = lookup(server, account, "ResourceType", "AWS::KMS::Key")["Events"]
    assert {e["EventId"] for e in by_type} >= {first["EventId"]}
    for key, value in (("Username", "root"), ("AccessKeyId", account.access_key_id), ("EventSource", "kms.amazonaws.com")):
        assert first["EventId"] in {e["EventId"] for e in lookup(server, account, key, value, MaxResults=50)["Events"]}


def test_a_time_range_selects_records_by_event_time(server: Server, account: Account, history: dict[str, Any]) -> None:
    arn = history["key"]["Arn"]
    now = datetime.now(timezone.utc)
    recent = lookup(server, account, "ResourceName", arn, StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1))
    assert len(recent["Events"]) == 8
    future = lookup(server, account, "ResourceName", arn, StartTime=now + timedelta(hours=1))
    assert future["Events"] == []


def test_an_account_never_sees_another_accounts_records(server: Server, account: Account, history: dict[str, Any]) -> None:
    other = server.create_account("lookup-other")
    event_id = lookup(server, account, "ResourceName", history["key"]["Arn"])["Events"][0]["EventId"]
    assert lookup(server, other, "EventId", event_id)["Events"] == []
    everything = server.client("cloudtrail", other).lookup_events(MaxResults=50)["Events"]
    assert all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == other.account_id for e in everything)


def test_lookup_events_is_itself_recorded_as_a_read_only_cloudtrail_call(server: Server, account: Account) -> None:
    server.client("cloudtrail", account).lookup_events(MaxResults=1)
    event = lookup(server, account, "EventSource", "cloudtrail.amazonaws.com", MaxResults=1)["Events"][0]
    assert event["EventName"] == "LookupEvents" and event["ReadOnly"] == "true"


def test_bad_lookups_get_cloudtrails_errors(server: Server, account: Account) -> None:
    cloudtrail = server.client("cloudtrail", account)
    two = [{"AttributeKey": "EventName", "AttributeValue": "A"}, {"AttributeKey": "Username", "AttributeValue": "B"}]
    with pytest.raises(ClientError) as exc:
        cloudtrail.lookup_events(LookupAttributes=two)
    assert error_code(exc) == "InvalidLookupAttributesException"
    now = datetime.now(timezone.utc)
    with pytest.raises(ClientError) as exc:
        cloudtrail.lookup_events(StartTime=now, EndTime=now - timedelta(hours=1))
    assert error_code(exc) == "InvalidTimeRangeException"
    with pytest.raises(ClientError) as exc:
        cloudtrail.lookup_events(NextToken="bm90IGEgdG9rZW4=")
    assert error_code(exc) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as exc:
        cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}])
    assert error_code(exc) == "InvalidLookupAttributesException"


def test_a_next_token_cannot_be_reused_with_other_filters(server: Server, account: Account, history: dict[str, Any]) -> None:
    page = lookup(server, account, "ResourceName", history["key"]["Arn"], MaxResults=1)
    with pytest.raises(ClientError) as exc:
        lookup(server, account, "EventName", "Encrypt", NextToken=page["NextToken"])
    assert error_code(exc) == "InvalidNextTokenException"
