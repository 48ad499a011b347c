"""MFA in STS: GetSessionToken and AssumeRole with SerialNumber + TokenCode (codes made with pyotp
from the device's Base32StringSeed), and policies that deny unless MFA is present."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.conformance.sts_helpers import KMS_ALL, make_role, make_user, session_client, trust, unique
from tests.support import Account, Server

DENY_UNLESS_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["kms:*", "sts:AssumeRole"], "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    ],
}


class Device:
    """An enabled virtual MFA device; `code(offset)` is the code of the current step + offset."""

    def __init__(self, serial: str, seed: str) -> None:
        self.serial = serial
        self.totp = pyotp.TOTP(seed)

    def code(self, offset: int = 0) -> str:
        return self.totp.at(time.time() + 30 * offset)


def _device_for(server: Server, user_arn: str) -> Device:
    iam = server.client("iam")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("phone"))["VirtualMFADevice"]
    device = Device(created["SerialNumber"], created["Base32StringSeed"].decode())
    # Enable with two past codes, so that current and future ones remain unused for STS.
    iam.enable_mfa_device(
        UserName=user_arn.rsplit("/", 1)[1], SerialNumber=device.serial,
        AuthenticationCode1=device.code(-3), AuthenticationCode2=device.code(-2),
    )
    return device


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _key(server: Server) -> str:
    return str(server.client("kms").create_key()["KeyMetadata"]["Arn"])


def _mfa_user(server: Server, policy: dict[str, Any]) -> tuple[str, Account, Device]:
    arn, user = make_user(server, server.accounts[0], policy)
    return arn, user, _device_for(server, arn)


def test_deny_unless_mfa_blocks_long_term_keys_and_plain_sessions_but_not_mfa_sessions(server: Server) -> None:
    _, user, device = _mfa_user(server, DENY_UNLESS_MFA)
    key = _key(server)
    with pytest.raises(ClientError) as info:
        server.client("kms", user).describe_key(KeyId=key)
    assert "with an explicit deny in an identity-based policy" in _error(info)[1]
    plain = server.client("sts", user).get_session_token()["Credentials"]
    with pytest.raises(ClientError):
        session_client(server, "kms", plain).describe_key(KeyId=key)
    mfa = server.client("sts", user).get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    session_client(server, "kms", mfa["Credentials"]).describe_key(KeyId=key)


def test_mfa_age_counts_seconds_since_the_code_was_checked(server: Server) -> None:
    recent = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*",
        "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}},
    }]}
    _, user, device = _mfa_user(server, recent)
    key = _key(server)
    mfa = server.client("sts", user).get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    session_client(server, "kms", mfa["Credentials"]).describe_key(KeyId=key)
    plain = server.client("sts", user).get_session_token()["Credentials"]
    with pytest.raises(ClientError):  # no MFA: the age is absent, NumericLessThan fails
        session_client(server, "kms", plain).describe_key(KeyId=key)


def test_assume_role_with_mfa_satisfies_a_trust_policy_that_requires_it(server: Server) -> None:
    user_arn, user, device = _mfa_user(server, DENY_UNLESS_MFA)
    role_arn = make_role(
        server, server.accounts[0], trust({"AWS": user_arn}, Bool={"aws:MultiFactorAuthPresent": "true"}),
        DENY_UNLESS_MFA,
    )
    sts = server.client("sts", user)
    with pytest.raises(ClientError) as info:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="no-mfa")
    assert _error(info)[0] == "AccessDenied"
    result = sts.assume_role(
        RoleArn=role_arn, RoleSessionName="with-mfa", SerialNumber=device.serial, TokenCode=device.code()
    )
    # The role session itself is MFA-authenticated: the role's deny-unless-MFA does not bite.
    session_client(server, "kms", result["Credentials"]).describe_key(KeyId=_key(server))


def test_a_code_is_accepted_only_once(server: Server) -> None:
    _, user, device = _mfa_user(server, KMS_ALL)
    sts = server.client("sts", user)
    code = device.code(1)
    sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    with pytest.raises(ClientError) as info:
        sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    assert _error(info) == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ")


def test_wrong_codes_foreign_devices_and_half_pairs_are_access_denied(server: Server) -> None:
    _, user, device = _mfa_user(server, KMS_ALL)
    other_arn, other = make_user(server, server.accounts[0], KMS_ALL)
    sts = server.client("sts", user)
    wrong = "000000" if device.code() != "000000" else "111111"
    with pytest.raises(ClientError) as info:
        sts.get_session_token(SerialNumber=device.serial, TokenCode=wrong)
    assert _error(info)[1].startswith("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    with pytest.raises(ClientError) as info:
        server.client("sts", other).get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    assert _error(info) == ("AccessDenied", (
        "MultiFactorAuthentication failed, unable to validate MFA code.  "
        "Please verify your MFA serial number is valid and associated with this user."
    ))
    with pytest.raises(ClientError) as info:
        sts.get_session_token(SerialNumber=device.serial)
    assert _error(info) == (
        "AccessDenied", "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
    )
    assert other_arn != user.arn


def test_root_cannot_present_an_iam_users_device(server: Server) -> None:
    _, _, device = _mfa_user(server, KMS_ALL)
    with pytest.raises(ClientError) as info:
        server.client("sts").get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    assert _error(info)[1].startswith("MultiFactorAuthentication failed, unable to validate MFA code.")

