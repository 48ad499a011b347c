"""Contract: declared VPC endpoints (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystead.errors import NotFoundError
from keystead.storage import Database
from keystead.storage.rows import VpcEndpointRow
from keystead.storage.testing import T0, sample_account

ACCOUNT = "111122223333"


def endpoint(endpoint_id: str, **overrides: object) -> VpcEndpointRow:
    values: dict[str, object] = {
        "vpc_endpoint_id": endpoint_id, "account_id": ACCOUNT, "region": "us-east-1", "vpc_id": "vpc-0a1b2c3d",
        "service_name": "com.amazonaws.us-east-1.kms", "policy_document": None, "created_at": T0, "updated_at": T0,
    }
    values.update(overrides)
    return VpcEndpointRow(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_with_account(db: Database) -> Database:
    with db.transaction() as tx:
        tx.insert_account(sample_account(ACCOUNT))
    return db


def test_a_declared_endpoint_reads_back_and_lists_by_account_and_region(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000b"), replace_policy=False)
        tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000a"), replace_policy=False)
        tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000c", region="eu-west-1"), replace_policy=False)
    with db_with_account.reader() as tx:
        assert tx.get_vpc_endpoint("vpce-0000000000000000a") == endpoint("vpce-0000000000000000a")
        listed = [row.vpc_endpoint_id for row in tx.list_vpc_endpoints(ACCOUNT, "us-east-1")]
        assert listed == ["vpce-0000000000000000a", "vpce-0000000000000000b"]


def test_a_policy_change_bumps_the_version_other_nodes_poll(db_with_account: Database) -> None:
    later = T0 + timedelta(minutes=1)
    with db_with_account.transaction() as tx:
        tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000a"), replace_policy=False)
        changed = tx.set_vpc_endpoint_policy("vpce-0000000000000000a", '{"Statement": []}', later)
    assert (changed.row_version, changed.policy_document, changed.updated_at) == (2, '{"Statement": []}', later)
    with db_with_account.reader() as tx:
        assert tx.vpc_endpoint_versions(["vpce-0000000000000000a", "vpce-0000000000000000f"]) == {
            "vpce-0000000000000000a": 2}


def test_redeclaring_replaces_the_policy_only_when_asked(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000a", policy_document="P1"), replace_policy=True)
        kept = tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000a", vpc_id="vpc-0b0b0b0b"), replace_policy=False)
        replaced = tx.declare_vpc_endpoint(endpoint("vpce-0000000000000000a", policy_document="P2"), replace_policy=True)
    assert (kept.policy_document, kept.vpc_id, kept.row_version) == ("P1", "vpc-0b0b0b0b", 2)
    assert (replaced.policy_document, replaced.row_version) == ("P2", 3)


def test_changing_a_missing_endpoint_is_not_found(db_with_account: Database) -> None:
    with pytest.raises(NotFoundError), db_with_account.transaction() as tx:
        tx.set_vpc_endpoint_policy("vpce-0000000000000000a", None, T0)
