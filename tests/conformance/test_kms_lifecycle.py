"""Key lifecycle through boto3 against a live server: description, scheduled deletion and its
cancellation, the key-state matrix (kms.md §5) for those operations, and GetKeyLastUsage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("lifecycle-owner")


def test_update_key_description_changes_describe_key(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Description="before")["KeyMetadata"]["KeyId"]
    kms.update_key_description(KeyId=key_id, Description="after")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "after"


def test_a_seven_day_pending_key_is_reported_and_cancellable(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    before = datetime.now(timezone.utc)
    response = kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    assert response["KeyId"] == meta["Arn"]
    assert response["KeyState"] == "PendingDeletion" and response["PendingWindowInDays"] == 7
    assert abs(response["DeletionDate"] - (before + timedelta(days=7))) < timedelta(minutes=1)
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and described["Enabled"] is False
    assert described["DeletionDate"] == response["DeletionDate"]
    assert described["PendingDeletionWindowInDays"] == 7
    assert kms.cancel_key_deletion(KeyId=meta["KeyId"])["KeyId"] == meta["Arn"]
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled"
    assert "DeletionDate" not in described and "PendingDeletionWindowInDays" not in described


def test_default_pending_window_is_thirty_days(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.schedule_key_deletion(KeyId=key_id)["PendingWindowInDays"] == 30


@pytest.mark.parametrize("days", [6, 31])
def test_pending_window_outside_seven_to_thirty_is_rejected(server: Server, owner: Account, days: int) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)
    code, message = error_of(exc)
    assert code == "ValidationException" and f"Value '{days}' at 'pendingWindowInDays'" in message
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_pending_deletion_state_matrix(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    key_id, key_arn = meta["KeyId"], meta["Arn"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    pending = ("KMSInvalidStateException", f"{key_arn} is pending deletion.")
    refused = {
        "ScheduleKeyDeletion": lambda: kms.schedule_key_deletion(KeyId=key_id),
        "UpdateKeyDescription": lambda: kms.update_key_description(KeyId=key_id, Description="x"),
        "EnableKey": lambda: kms.enable_key(KeyId=key_id),
        "DisableKey": lambda: kms.disable_key(KeyId=key_id),
        "Encrypt": lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),
        "Decrypt": lambda: kms.decrypt(CiphertextBlob=blob),
        "EnableKeyRotation": lambda: kms.enable_key_rotation(KeyId=key_id),
    }
    for name, call in refused.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == pending, name
    # Reads keep working in every state.
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    assert kms.get_key_last_usage(KeyId=key_id)["KeyId"] == key_arn


@pytest.mark.parametrize("state", ["Enabled", "Disabled"])
def test_cancel_key_deletion_of_a_key_not_pending_deletion_is_invalid_state(
    server: Server, owner: Account, state: str
) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    if state == "Disabled":
        kms.disable_key(KeyId=meta["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.cancel_key_deletion(KeyId=meta["KeyId"])
    assert error_of(exc) == ("KMSInvalidStateException", f"{meta['Arn']} is not pending deletion.")


def test_disabled_and_pending_import_keys_can_be_scheduled_for_deletion(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    assert kms.schedule_key_deletion(KeyId=disabled, PendingWindowInDays=7)["KeyState"] == "PendingDeletion"
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    assert kms.schedule_key_deletion(KeyId=external, PendingWindowInDays=7)["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=external)
    # An imported-material key without material goes back to waiting for its import.
    assert kms.describe_key(KeyId=external)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_schedule_key_deletion_needs_permission_in_the_key_policy(server: Server, owner: Account) -> None:
    import json

    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
         "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}}},
    ]})
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert error_of(exc)[0] == "AccessDeniedException"
    assert kms.schedule_key_deletion(KeyId=key_id)["PendingWindowInDays"] == 30


def test_get_key_last_usage_reports_the_last_cryptographic_operation(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    fresh = kms.get_key_last_usage(KeyId=meta["KeyId"])
    assert fresh["KeyId"] == meta["Arn"] and "KeyLastUsage" not in fresh
    assert fresh["KeyCreationDate"] == meta["CreationDate"]
    assert fresh["TrackingStartDate"] <= datetime.now(timezone.utc)
    kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    response = kms.generate_data_key(KeyId=meta["KeyId"], KeySpec="AES_256")
    usage = kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]
    assert usage["Operation"] == "GenerateDataKey"
    assert usage["KmsRequestId"] == response["ResponseMetadata"]["RequestId"]
    assert abs(usage["Timestamp"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    # Management calls are not usage.
    kms.describe_key(KeyId=meta["KeyId"])
    assert kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]["Operation"] == "GenerateDataKey"
