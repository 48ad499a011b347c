"""Contract: KMS aliases (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystead.storage import Database, StorageError
from keystead.storage.testing import T0, sample_account, sample_alias, sample_key

KEY_A = "aaaaaaaa-0000-0000-0000-000000000000"
KEY_B = "bbbbbbbb-0000-0000-0000-000000000000"
ACCOUNT = "111122223333"


@pytest.fixture
def db_with_keys(db: Database) -> Database:
    with db.transaction() as tx:
        tx.insert_account(sample_account(ACCOUNT))
        tx.insert_key(sample_key(KEY_A))
        tx.insert_key(sample_key(KEY_B))
    return db


def test_an_inserted_alias_reads_back_equal(db_with_keys: Database) -> None:
    alias = sample_alias("alias/payments", KEY_A)
    with db_with_keys.transaction() as tx:
        assert tx.insert_alias(alias)
    with db_with_keys.reader() as tx:
        assert tx.get_alias(ACCOUNT, "us-east-1", "alias/payments") == alias
        assert tx.get_alias(ACCOUNT, "eu-west-1", "alias/payments") is None
        assert tx.get_alias("444455556666", "us-east-1", "alias/payments") is None


def test_an_alias_name_is_unique_per_account_and_region_only(db_with_keys: Database) -> None:
    with db_with_keys.transaction() as tx:
        assert tx.insert_alias(sample_alias("alias/payments", KEY_A))
        assert not tx.insert_alias(sample_alias("alias/payments", KEY_B))
        assert tx.insert_alias(sample_alias("alias/payments", KEY_B, region="eu-west-1"))
        assert tx.get_alias(ACCOUNT, "us-east-1", "alias/payments").target_key_id == KEY_A  # type: ignore[union-attr]


def test_an_alias_to_an_unknown_key_is_a_storage_error(db_with_keys: Database) -> None:
    with pytest.raises(StorageError), db_with_keys.transaction() as tx:
        tx.insert_alias(sample_alias("alias/dangling", "cccccccc-0000-0000-0000-000000000000"))


def test_list_aliases_pages_in_name_order_and_filters_by_key(db_with_keys: Database) -> None:
    names = ["alias/d", "alias/a", "alias/c", "alias/b", "alias/e"]
    with db_with_keys.transaction() as tx:
        for i, name in enumerate(names):
            tx.insert_alias(sample_alias(name, KEY_A if i % 2 == 0 else KEY_B))
        tx.insert_alias(sample_alias("alias/elsewhere", KEY_A, region="eu-west-1"))
    with db_with_keys.reader() as tx:
        first = tx.list_aliases(ACCOUNT, "us-east-1", key_id=None, after=None, limit=3)
        rest = tx.list_aliases(ACCOUNT, "us-east-1", key_id=None, after=first[-1].alias_name, limit=3)
        of_a = tx.list_aliases(ACCOUNT, "us-east-1", key_id=KEY_A, after=None, limit=10)
        of_a_after = tx.list_aliases(ACCOUNT, "us-east-1", key_id=KEY_A, after="alias/c", limit=10)
    assert [a.alias_name for a in first] == ["alias/a", "alias/b", "alias/c"]
    assert [a.alias_name for a in rest] == ["alias/d", "alias/e"]
    assert [a.alias_name for a in of_a] == ["alias/c", "alias/d", "alias/e"]
    assert [a.alias_name for a in of_a_after] == ["alias/d", "alias/e"]


def test_update_alias_retargets_it_and_reports_unknown_aliases(db_with_keys: Database) -> None:
    at = T0 + timedelta(hours=1)
    with db_with_keys.transaction() as tx:
        tx.insert_alias(sample_alias("alias/payments", KEY_A))
        assert tx.update_alias(ACCOUNT, "us-east-1", "alias/payments", KEY_B, at)
        assert not tx.update_alias(ACCOUNT, "us-east-1", "alias/unknown", KEY_B, at)
    with db_with_keys.reader() as tx:
        alias = tx.get_alias(ACCOUNT, "us-east-1", "alias/payments")
    assert alias is not None
    assert (alias.target_key_id, alias.creation_date, alias.last_updated_date) == (KEY_B, T0, at)


def test_delete_alias_removes_it_once(db_with_keys: Database) -> None:
    with db_with_keys.transaction() as tx:
        tx.insert_alias(sample_alias("alias/payments", KEY_A))
        assert tx.delete_alias(ACCOUNT, "us-east-1", "alias/payments")
        assert not tx.delete_alias(ACCOUNT, "us-east-1", "alias/payments")
        assert tx.get_alias(ACCOUNT, "us-east-1", "alias/payments") is None


def test_alias_names_sort_by_code_point_on_every_backend(db_with_keys: Database) -> None:
    # PostgreSQL would otherwise sort by the database's locale, which ignores punctuation and case.
    names = ["alias/ab", "alias/B", "alias/a-b", "alias/a_b", "alias/A"]
    with db_with_keys.transaction() as tx:
        for name in names:
            tx.insert_alias(sample_alias(name, KEY_A))
    with db_with_keys.reader() as tx:
        listed = tx.list_aliases(ACCOUNT, "us-east-1", key_id=None, after=None, limit=10)
    assert [a.alias_name for a in listed] == sorted(names)
