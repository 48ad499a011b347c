"""Instance-profile credentials: EC2's trust check, caching, and re-issue before expiry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from keystead.clock import FixedClock
from keystead.crypto.keyring import Keyring
from keystead.identity.instance_credentials import REFRESH_BEFORE, SESSION_LIFETIME, InstanceCredentials
from keystead.identity.sessions import SessionTokens
from keystead.storage import Database
from keystead.storage.rows import IamRoleRow, InstanceProfileRow
from keystead.storage.testing import T0, sample_account

ACCOUNT = "111122223333"
INSTANCE = "i-0123456789abcdef0"


def _trust(principal: dict[str, str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
    ]})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def service(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[InstanceCredentials, Database]]:
    db = Database(f"sqlite:///{tmp_path / 'keystead.db'}", clock=clock)
    db.migrate()
    keyring = Keyring.open(b"\x07" * 32, {1: Keyring.seal_term(b"\x07" * 32, 1)})
    with db.transaction() as tx:
        tx.insert_account(sample_account(ACCOUNT))
        tx.insert_iam_entity(IamRoleRow(
            "AROAEXAMPLEROLE000001", ACCOUNT, "web", "web", "/", T0, _trust({"Service": "ec2.amazonaws.com"}),
            None, 3600,
        ))
        tx.insert_instance_profile(InstanceProfileRow(
            "AIPAEXAMPLEPROFILE001", ACCOUNT, "web-profile", "web-profile", "/", T0, "AROAEXAMPLEROLE000001",
        ))
    yield InstanceCredentials(db, SessionTokens(db, keyring, clock), clock), db
    db.dispose()


def _fetch(service: InstanceCredentials) -> object:
    async def run() -> object:
        profile = await service.profile(ACCOUNT, "WEB-PROFILE")  # names compare without case
        assert profile is not None and profile.role is not None
        return await service.credentials(profile, INSTANCE, "us-east-1")
    return asyncio.run(run())


def test_credentials_are_a_session_named_after_the_instance(service) -> None:
    result = _fetch(service[0])
    issued = result.credentials  # type: ignore[attr-defined]
    assert issued.principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/web/{INSTANCE}"
    assert issued.principal.principal_id == f"AROAEXAMPLEROLE000001:{INSTANCE}"
    assert issued.expiration == T0 + SESSION_LIFETIME


def test_credentials_are_reused_until_five_minutes_before_expiry(service, clock) -> None:
    first = _fetch(service[0]).credentials  # type: ignore[attr-defined]
    clock.set(T0 + SESSION_LIFETIME - REFRESH_BEFORE - timedelta(seconds=1))
    assert _fetch(service[0]).credentials.access_key_id == first.access_key_id  # type: ignore[attr-defined]
    clock.set(T0 + SESSION_LIFETIME - REFRESH_BEFORE + timedelta(seconds=1))
    renewed = _fetch(service[0]).credentials  # type: ignore[attr-defined]
    assert renewed.access_key_id != first.access_key_id
    assert renewed.expiration == clock.now() + SESSION_LIFETIME


def test_a_role_that_does_not_trust_ec2_gets_no_credentials(service) -> None:
    instance_credentials, db = service
    with db.transaction() as tx:
        tx.update_iam_entity(IamRoleRow, "AROAEXAMPLEROLE000001", assume_role_policy=_trust({"Service": "lambda.amazonaws.com"}))
    result = _fetch(instance_credentials)
    assert result.credentials is None  # type: ignore[attr-defined]
    assert result.failure_code == "AssumeRoleUnauthorizedAccess"  # type: ignore[attr-defined]
