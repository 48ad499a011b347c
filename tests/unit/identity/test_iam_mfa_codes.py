"""The server-side TOTP checks STS relies on (verify_mfa_code), against a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from keystead.clock import FixedClock
from keystead.crypto.keyring import Keyring
from keystead.errors import InvalidAuthenticationCodeError
from keystead.identity.iam.mfa import MFA_SEED_PURPOSE, MfaCodes, consecutive_codes_step, current_step, new_seed
from keystead.storage import Database
from keystead.storage.rows import MfaDeviceRow
from keystead.storage.testing import T0, sample_account

ACCOUNT = "111122223333"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/phone"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def codes(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[MfaCodes, str, Database]]:
    db = Database(f"sqlite:///{tmp_path / 'keystead.db'}", clock=clock)
    db.migrate()
    keyring = Keyring.open(b"\x07" * 32, {1: Keyring.seal_term(b"\x07" * 32, 1)})
    mfa = MfaCodes(db, keyring, clock)
    seed = new_seed()
    with db.transaction() as tx:
        tx.insert_account(sample_account(ACCOUNT))
        tx.insert_mfa_device(MfaDeviceRow(SERIAL, ACCOUNT, mfa.wrap_seed(seed), "AIDAUSER", T0, T0))
    yield mfa, seed, db
    db.dispose()


def _code(seed: str, clock: FixedClock, offset: int = 0) -> str:
    return pyotp.TOTP(seed).generate_otp(current_step(clock.now()) + offset)


def test_a_current_code_is_accepted_once_and_never_again(codes, clock) -> None:
    mfa, seed, _ = codes
    code = _code(seed, clock)
    assert mfa.verify_mfa_code(ACCOUNT, SERIAL, code)
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, code)  # replay
    clock.set(clock.now() + timedelta(seconds=30))
    assert mfa.verify_mfa_code(ACCOUNT, SERIAL, _code(seed, clock))


def test_wrong_codes_other_accounts_other_users_and_unassigned_devices_fail(codes, clock) -> None:
    mfa, seed, db = codes
    code = _code(seed, clock)
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, "000000" if code != "000000" else "111111")
    assert not mfa.verify_mfa_code("999988887777", SERIAL, code)
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, code, user_id="AIDAOTHER")
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, "12345")
    with db.transaction() as tx:
        tx.update_mfa_device(SERIAL, user_id=None)
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, code)


def test_a_code_from_minutes_ago_is_too_old_to_sign_in(codes, clock) -> None:
    mfa, seed, _ = codes
    assert not mfa.verify_mfa_code(ACCOUNT, SERIAL, _code(seed, clock, offset=-4))


def test_enabling_takes_two_consecutive_codes_in_order(clock) -> None:
    seed = new_seed()
    first, second = _code(seed, clock, -1), _code(seed, clock)
    assert consecutive_codes_step(seed, first, second, clock.now()) == current_step(clock.now())
    with pytest.raises(InvalidAuthenticationCodeError):
        consecutive_codes_step(seed, second, first, clock.now())


def test_the_seed_is_stored_wrapped_under_its_own_purpose(codes) -> None:
    mfa, seed, db = codes
    with db.reader() as tx:
        wrapped = tx.get_mfa_device(SERIAL).seed_wrapped
    assert seed.encode() not in wrapped
    assert mfa.seed_of(wrapped) == seed and MFA_SEED_PURPOSE == "iam-mfa-seed"
