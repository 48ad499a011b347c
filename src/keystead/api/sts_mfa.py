"""MFA for STS: GetSessionToken and AssumeRole with SerialNumber + TokenCode.

[IAM:id_credentials_mfa_configure-api-require] The caller names its own virtual MFA device and
types a current code. A valid pair makes the new session MFA-authenticated: requests signed with it
carry `aws:MultiFactorAuthPresent` = true and `aws:MultiFactorAuthAge` (seconds since the code was
checked); the AssumeRole call itself is evaluated with both, so a trust policy can demand MFA.
Each code is accepted once (RFC 6238 §5.2). AWS's three wordings are kept apart: one of the two
parameters missing, a device that is not the caller's, and a wrong code.
"""

from __future__ import annotations

from keystead.api.sts_common import Params, StsDeps
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError
from keystead.types import Principal, PrincipalType

MISSING_PART = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
WRONG_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "


def mfa_context() -> dict[str, str | list[str]]:
    """The MFA keys of a request that has just passed its MFA check (age: zero seconds)."""
    return {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "0"}


async def check_request_mfa(deps: StsDeps, caller: Principal, params: Params) -> bool:
    """Whether the request carries a valid MFA pair for the caller (False: it carries none).

    Raises:
        AccessDeniedError: only one of SerialNumber/TokenCode, a device that is not an enabled
            device of the calling IAM user, or a wrong or reused code.
    """
    serial, code = params.get("serial_number"), params.get("token_code")
    if serial is None and code is None:
        return False
    if serial is None or code is None:
        raise AccessDeniedError(MISSING_PART)
    # Virtual MFA devices belong to IAM users; a role session or the root user here has none.
    if caller.type is not PrincipalType.USER or deps.mfa is None:
        raise AccessDeniedError(UNKNOWN_DEVICE)
    user_id = caller.principal_id

    def owned() -> bool:
        with deps.db.reader() as tx:
            device = tx.get_mfa_device(serial)
        return device is not None and device.account_id == caller.account_id and device.user_id == user_id

    if not await run_blocking(owned):
        raise AccessDeniedError(UNKNOWN_DEVICE)
    if not await deps.mfa.verify_mfa_code_async(caller.account_id, serial, code, user_id):
        raise AccessDeniedError(WRONG_CODE)
    return True
