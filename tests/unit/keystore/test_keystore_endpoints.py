"""Unit: declared VPC endpoints, their stored policies and the per-node policy cache (SQLite, fake time)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystead.clock import FixedClock
from keystead.errors import InvalidParameterValueError, InvalidPolicyDocumentError
from keystead.keystore.endpoints import DEFAULT_ENDPOINT_POLICY, EndpointDeclaration, EndpointService
from keystead.storage import AccountRow, Database
from keystead.storage.testing import T0

ENDPOINT = "vpce-0a1b2c3d4e5f60718"
DENY_ALL = '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}'


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'k.db'}", clock=FixedClock(T0))
    database.migrate()
    with database.transaction() as tx:
        tx.insert_account(AccountRow("111122223333", "a", "a@example.com", None, T0))
    yield database
    database.dispose()


def service(db: Database, time: FakeMonotonic) -> EndpointService:
    return EndpointService(db, FixedClock(T0), monotonic=time)


def test_a_new_endpoint_belongs_to_the_only_account_and_has_the_default_policy(db: Database) -> None:
    (row,) = service(db, FakeMonotonic()).declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d")], "eu-west-1")
    assert (row.account_id, row.service_name, row.policy_document) == (
        "111122223333", "com.amazonaws.eu-west-1.kms", None)
    assert asyncio.run(service(db, FakeMonotonic()).policy_for(ENDPOINT)) is None
    assert "Allow" in DEFAULT_ENDPOINT_POLICY


def test_redeclaring_without_a_policy_keeps_the_stored_one(db: Database) -> None:
    endpoints = service(db, FakeMonotonic())
    endpoints.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d", policy_text=DENY_ALL)], "us-east-1")
    (row,) = endpoints.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d")], "us-east-1")
    assert (row.policy_document, row.row_version) == (DENY_ALL, 1)


def test_an_invalid_policy_file_or_unknown_owner_is_refused(db: Database) -> None:
    endpoints = service(db, FakeMonotonic())
    with pytest.raises(InvalidPolicyDocumentError):
        endpoints.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d", policy_text="{")], "us-east-1")
    with pytest.raises(InvalidParameterValueError):
        endpoints.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d", account_id="999999999999")], "us-east-1")


def test_a_change_on_another_node_is_seen_after_one_poll_interval(db: Database) -> None:
    time = FakeMonotonic()
    this_node, other_node = service(db, time), service(db, FakeMonotonic())
    this_node.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d")], "us-east-1")

    async def scenario() -> None:
        assert await this_node.policy_for(ENDPOINT) is None
        with db.transaction() as tx:
            row = tx.get_vpc_endpoint(ENDPOINT)
            assert row is not None
            other_node.set_policy(tx, row, DENY_ALL)
        time.now += 0.5
        assert await this_node.policy_for(ENDPOINT) is None  # still within the interval: cached
        time.now += 0.6
        policy = await this_node.policy_for(ENDPOINT)
        assert policy is not None and policy.statements[0].effect == "Deny"

    asyncio.run(scenario())


def test_a_change_on_this_node_is_seen_at_once_after_invalidate(db: Database) -> None:
    time = FakeMonotonic()
    endpoints = service(db, time)
    endpoints.declare([EndpointDeclaration(ENDPOINT, "vpc-0a1b2c3d")], "us-east-1")

    async def scenario() -> None:
        assert await endpoints.policy_for(ENDPOINT) is None
        with db.transaction() as tx:
            row = tx.get_vpc_endpoint(ENDPOINT)
            assert row is not None
            endpoints.set_policy(tx, row, DENY_ALL)
        endpoints.invalidate(ENDPOINT)
        assert await endpoints.policy_for(ENDPOINT) is not None

    asyncio.run(scenario())


def test_an_endpoint_missing_from_the_database_fails_closed(db: Database) -> None:
    policy = asyncio.run(service(db, FakeMonotonic()).policy_for("vpce-0ffffffffffffffff"))
    assert policy is not None and policy.statements[0].effect == "Deny"
