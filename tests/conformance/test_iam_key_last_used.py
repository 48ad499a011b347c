"""GetAccessKeyLastUsed through boto3 against a live server: uses are recorded in batches."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import error_of, user_with_key
from tests.support import Account, Server


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("lastused")


def _last_used(iam, key_id: str, deadline: float = 5.0) -> dict:
    """Poll until the batch holding the use has been flushed (about a second)."""
    stop = time.monotonic() + deadline
    while True:
        used = iam.get_access_key_last_used(AccessKeyId=key_id)
        if "LastUsedDate" in used["AccessKeyLastUsed"] or time.monotonic() > stop:
            return used
        time.sleep(0.2)


def test_an_unused_key_reports_n_a_and_a_used_one_its_service_region_and_time(
    server: Server, owner: Account
) -> None:
    iam = server.client("iam", owner)
    name, creds = user_with_key(server, owner)
    fresh = iam.get_access_key_last_used(AccessKeyId=creds.access_key_id)
    assert fresh["UserName"] == name
    assert fresh["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    before = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(ClientError):
        server.client("kms", creds).list_keys()  # authenticated, then denied
    used = _last_used(iam, creds.access_key_id)["AccessKeyLastUsed"]
    assert used["ServiceName"] == "kms" and used["Region"] == "us-east-1"
    assert before <= used["LastUsedDate"] <= datetime.now(UTC) + timedelta(seconds=1)


def test_an_unknown_key_is_no_such_entity(server: Server, owner: Account) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("iam", owner).get_access_key_last_used(AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert error_of(exc) == ("NoSuchEntity", "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.")
