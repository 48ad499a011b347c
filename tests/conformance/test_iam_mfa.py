"""Virtual MFA devices through boto3 against a live server: the seed and QR code, enabling with
two consecutive TOTP codes, listing, deactivating, deleting, and the server-side code check."""

from __future__ import annotations

import time

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import error_of, unique
from tests.support import Account, Server

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("mfa")


def _two_codes(seed: bytes) -> tuple[str, str]:
    totp = pyotp.TOTP(seed.decode())
    step = int(time.time()) // 30
    return totp.generate_otp(step - 1), totp.generate_otp(step)


def _device(iam, name: str | None = None, **kw: object) -> dict:
    return iam.create_virtual_mfa_device(VirtualMFADeviceName=name or unique("phone"), **kw)["VirtualMFADevice"]


def test_a_new_virtual_device_shows_its_seed_and_qr_code_once(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("phone")
    device = _device(iam, name, Path="/team/", Tags=[{"Key": "k", "Value": "v"}])
    assert device["SerialNumber"] == f"arn:aws:iam::{owner.account_id}:mfa/team/{name}"
    assert len(device["Base32StringSeed"]) == 32 and pyotp.TOTP(device["Base32StringSeed"].decode()).now()
    assert device["QRCodePNG"].startswith(PNG_SIGNATURE)
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    mine = [d for d in listed if d["SerialNumber"] == device["SerialNumber"]]
    assert mine == [{"SerialNumber": device["SerialNumber"]}]  # no seed, no QR code after creation
    assert iam.list_mfa_device_tags(SerialNumber=device["SerialNumber"])["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as exc:
        _device(iam, name, Path="/team/")
    assert error_of(exc) == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")


def test_enable_needs_two_consecutive_codes_then_the_device_is_the_users(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    user = unique("mfauser")
    iam.create_user(UserName=user)
    device = _device(iam)
    serial = device["SerialNumber"]
    code1, code2 = _two_codes(device["Base32StringSeed"])
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code2,
                              AuthenticationCode2=code1)
    assert error_of(exc) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2)
    devices = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [(user, serial)]
    assert iam.get_mfa_device(SerialNumber=serial, UserName=user)["UserName"] == user
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["User"]["UserName"] for d in assigned if d["SerialNumber"] == serial] == [user]
    other = unique("other")
    iam.create_user(UserName=other)
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=other, SerialNumber=serial, AuthenticationCode1=code1,
                              AuthenticationCode2=code2)
    assert error_of(exc) == ("EntityAlreadyExists", "MFA Device is already in use.")


def test_a_user_with_an_mfa_device_cannot_be_deleted_nor_the_device_while_in_use(
    server: Server, owner: Account
) -> None:
    iam = server.client("iam", owner)
    user = unique("keeper")
    iam.create_user(UserName=user)
    device = _device(iam)
    serial = device["SerialNumber"]
    code1, code2 = _two_codes(device["Base32StringSeed"])
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete entity, must delete MFA device first.")
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("DeleteConflict", "MFA Device is still in use.")
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.")


def test_creating_a_device_needs_permission(server: Server, owner: Account) -> None:
    from tests.conformance.iam_support import user_with_key

    _, creds = user_with_key(server, owner)
    with pytest.raises(ClientError) as exc:
        _device(server.client("iam", creds), "denied")
    code, message = error_of(exc)
    assert code == "AccessDenied" and "iam:CreateVirtualMFADevice" in message
