"""Key rotation through boto3 against a live server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server, kms_request


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("rotation-owner")


def test_enable_rotation_reports_period_and_next_date(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    status = kms.get_key_rotation_status(KeyId=meta["KeyId"])
    assert status == {**status, "KeyRotationEnabled": False, "KeyId": meta["Arn"]}
    assert "RotationPeriodInDays" not in status
    kms.enable_key_rotation(KeyId=meta["KeyId"])
    status = kms.get_key_rotation_status(KeyId=meta["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365
    expected = datetime.now(timezone.utc) + timedelta(days=365)
    assert abs(status["NextRotationDate"] - expected) < timedelta(minutes=1)
    kms.enable_key_rotation(KeyId=meta["KeyId"], RotationPeriodInDays=90)
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["RotationPeriodInDays"] == 90
    kms.disable_key_rotation(KeyId=meta["KeyId"])
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is False


@pytest.mark.parametrize("days", [89, 2561])
def test_rotation_period_out_of_range_is_a_validation_error(server: Server, owner: Account, days: int) -> None:
    # boto3 checks the model's range itself, so send the request raw, as another SDK might.
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    response = kms_request(server, owner, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": days})
    assert response.status_code == 400
    assert response.json()["__type"] == "ValidationException"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


def test_rotate_on_demand_keeps_old_ciphertexts_decryptable(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    old_blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    original = meta["CurrentKeyMaterialId"]
    assert kms.rotate_key_on_demand(KeyId=meta["KeyId"])["KeyId"] == meta["Arn"]
    current = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert current != original and len(current) == 64
    new_blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old_blob)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"after"
    rotations = kms.list_key_rotations(KeyId=meta["KeyId"])["Rotations"]
    assert [(r["KeyMaterialId"], r["RotationType"], r["KeyMaterialState"]) for r in rotations] == [
        (current, "ON_DEMAND", "CURRENT")
    ]
    assert rotations[0]["KeyId"] == meta["Arn"] and rotations[0]["RotationDate"]
    everything = kms.list_key_rotations(KeyId=meta["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert [r["KeyMaterialId"] for r in everything] == [original, current]
    assert everything[0]["KeyMaterialState"] == "NON_CURRENT" and "RotationDate" not in everything[0]


def test_list_key_rotations_paginates(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key_id)
    page = kms.list_key_rotations(KeyId=key_id, Limit=2)
    assert len(page["Rotations"]) == 2 and page["Truncated"] is True
    rest = kms.list_key_rotations(KeyId=key_id, Limit=2, Marker=page["NextMarker"])
    assert len(rest["Rotations"]) == 1 and rest["Truncated"] is False


def test_on_demand_rotation_is_limited_to_twenty_five(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(25):
        kms.rotate_key_on_demand(KeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.rotate_key_on_demand(KeyId=key_id)
    assert error_of(exc)[0] == "LimitExceededException"


def test_disabled_key_rotation_operations_are_disabled_exceptions(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=meta["KeyId"])
    for call in (lambda: kms.enable_key_rotation(KeyId=meta["KeyId"]),
                 lambda: kms.disable_key_rotation(KeyId=meta["KeyId"]),
                 lambda: kms.rotate_key_on_demand(KeyId=meta["KeyId"])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("DisabledException", f"{meta['Arn']} is disabled.")
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is False


def test_keys_with_imported_material_cannot_rotate(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    for call in (lambda: kms.enable_key_rotation(KeyId=meta["KeyId"]),
                 lambda: kms.get_key_rotation_status(KeyId=meta["KeyId"]),
                 lambda: kms.rotate_key_on_demand(KeyId=meta["KeyId"])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (
            "UnsupportedOperationException", f"{meta['Arn']} origin is EXTERNAL which is not valid for this operation."
        )
