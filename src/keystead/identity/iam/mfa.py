"""Virtual MFA devices: TOTP seeds (RFC 6238: SHA-1, 6 digits, 30-second steps), their QR codes,
and checking the codes users type.

[IAM:id_credentials_mfa_enable_virtual] A seed is shown once, at creation (Base32StringSeed and
a QR code of its otpauth:// URI); storage holds it only wrapped under the keyring, bound to the
purpose label MFA_SEED_PURPOSE. Enabling (and resynchronising) needs two consecutive codes. A
code, once accepted, is never accepted again: each device keeps the last accepted time step
(`last_counter`), and only a later step passes (RFC 6238 §5.2).

`MfaCodes.verify_mfa_code` is what STS calls for GetSessionToken / AssumeRole with
SerialNumber + TokenCode. Everything here touching the database is blocking: call it through
`run_blocking` (or the `*_async` wrappers).
"""

from __future__ import annotations

import hmac
import io
from datetime import datetime

import pyotp
import qrcode
from qrcode.image.pure import PyPNGImage

from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.errors import InvalidAuthenticationCodeError
from keystead.storage import Database

MFA_SEED_PURPOSE = "iam-mfa-seed"
STEP_SECONDS = 30
# Codes up to this many steps away from our clock are accepted (authenticator apps drift).
SIGN_IN_WINDOW = 1
ENABLE_WINDOW = 10
ISSUER = "Amazon Web Services"


def new_seed() -> str:
    """A fresh 160-bit TOTP seed, Base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def provisioning_uri(seed: str, device_name: str, account_label: str) -> str:
    """The otpauth:// URI an authenticator app scans (label "<device>@<account>", as AWS shows it)."""
    return pyotp.TOTP(seed).provisioning_uri(name=f"{device_name}@{account_label}", issuer_name=ISSUER)


def qr_code_png(uri: str) -> bytes:
    """A PNG image of a QR code for `uri` (pure Python: qrcode + pypng)."""
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=PyPNGImage).save(buffer)
    return buffer.getvalue()


def current_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _matches(seed: str, step: int, code: str) -> bool:
    return hmac.compare_digest(pyotp.TOTP(seed).generate_otp(step), code)


def consecutive_codes_step(seed: str, code1: str, code2: str, now: datetime, after: int | None = None) -> int:
    """The time step of `code2` when `code1`, `code2` are two consecutive codes near `now`.

    Raises:
        InvalidAuthenticationCodeError: they are not (or not later than step `after`).
    """
    here = current_step(now)
    for step in range(here - ENABLE_WINDOW, here + ENABLE_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if _matches(seed, step, code1) and _matches(seed, step + 1, code2):
            return step + 1
    raise InvalidAuthenticationCodeError("Authentication code for device is not valid.")


def accepted_step(seed: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step `code` belongs to near `now`, if it is later than step `after`."""
    here = current_step(now)
    for step in range(here - SIGN_IN_WINDOW, here + SIGN_IN_WINDOW + 1):
        if (after is None or step > after) and _matches(seed, step, code):
            return step
    return None


class MfaCodes:
    """Checks a code against a stored, enabled virtual MFA device (for STS and the console)."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock

    def seed_of(self, wrapped: bytes) -> str:
        """Raises: KeyringError: the wrapped seed does not open under this keyring and purpose."""
        return self._keyring.unwrap(wrapped, purpose=MFA_SEED_PURPOSE).decode()

    def wrap_seed(self, seed: str) -> bytes:
        return self._keyring.wrap(seed.encode(), purpose=MFA_SEED_PURPOSE)

    def verify_mfa_code(self, account_id: str, serial_number: str, code: str, user_id: str | None = None) -> bool:
        """True when `code` is a fresh code of the device `serial_number`, enabled in `account_id`
        (and for `user_id`, when given); an accepted code is used up. Blocking.

        Raises: nothing; a missing device, an unassigned one or a wrong code are all False.
        """
        if not (len(code) == 6 and code.isdigit()):
            return False
        with self._db.transaction() as tx:
            device = tx.get_mfa_device(serial_number)
            if device is None or device.account_id != account_id or device.user_id is None:
                return False
            if user_id is not None and device.user_id != user_id:
                return False
            step = accepted_step(self.seed_of(device.seed_wrapped), code, self._clock.now(), device.last_counter)
            # Conditional on the stored step, so two concurrent uses of one code cannot both pass.
            return step is not None and tx.advance_mfa_counter(serial_number, step)

    async def verify_mfa_code_async(
        self, account_id: str, serial_number: str, code: str, user_id: str | None = None
    ) -> bool:
        """`verify_mfa_code`, off the event loop."""
        return await run_blocking(self.verify_mfa_code, account_id, serial_number, code, user_id)
