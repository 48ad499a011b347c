"""Contract: keyring terms, accounts and access keys (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from keystead.storage import Database, StorageError
from keystead.storage.testing import T0, sample_access_key, sample_account


def test_keyring_terms_read_back_in_term_order(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.insert_keyring_term(2, b"\x02sealed-two", T0)
        assert tx.insert_keyring_term(1, b"\x01sealed-one", T0)
    with db.reader() as tx:
        terms = tx.keyring_terms()
    assert list(terms.items()) == [(1, b"\x01sealed-one"), (2, b"\x02sealed-two")]


def test_inserting_an_existing_keyring_term_returns_false_and_keeps_the_first(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.insert_keyring_term(1, b"first", T0)
        assert not tx.insert_keyring_term(1, b"second", T0)
    with db.reader() as tx:
        assert tx.keyring_terms() == {1: b"first"}


def test_an_inserted_account_reads_back_equal_by_id_and_by_email(db: Database) -> None:
    account = sample_account("111122223333")
    with db.transaction() as tx:
        assert tx.insert_account(account)
    with db.reader() as tx:
        assert tx.get_account("111122223333") == account
        assert tx.get_account_by_email(account.email) == account


def test_unknown_accounts_read_as_none(db: Database) -> None:
    with db.reader() as tx:
        assert tx.get_account("999999999999") is None
        assert tx.get_account_by_email("nobody@example.com") is None


def test_inserting_an_account_with_a_taken_id_returns_false_and_keeps_the_first(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.insert_account(sample_account("111122223333", name="first"))
        assert not tx.insert_account(sample_account("111122223333", name="second", email="other@example.com"))
        assert tx.get_account("111122223333").name == "first"  # type: ignore[union-attr]


def test_inserting_an_account_with_a_taken_email_returns_false(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.insert_account(sample_account("111122223333", email="same@example.com"))
        assert not tx.insert_account(sample_account("444455556666", email="same@example.com"))
        # On PostgreSQL a raised unique violation would have aborted the transaction; it did not.
        assert [a.account_id for a in tx.list_accounts()] == ["111122223333"]


def test_list_accounts_is_ordered_by_account_id(db: Database) -> None:
    with db.transaction() as tx:
        for account_id in ("555555555555", "111111111111", "333333333333"):
            tx.insert_account(sample_account(account_id))
    with db.reader() as tx:
        assert [a.account_id for a in tx.list_accounts()] == ["111111111111", "333333333333", "555555555555"]


def test_timestamps_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    in_paris = T0.astimezone(timezone(timedelta(hours=2)))
    with db.transaction() as tx:
        tx.insert_account(sample_account(created_at=in_paris))
    with db.reader() as tx:
        created_at = tx.get_account("111122223333").created_at  # type: ignore[union-attr]
    assert created_at == T0
    assert created_at.tzinfo == timezone.utc


def test_a_naive_timestamp_is_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(StorageError) as raised, db.transaction() as tx:
        tx.insert_account(sample_account(created_at=T0.replace(tzinfo=None)))
    assert isinstance(raised.value.__cause__.__cause__, ValueError)  # type: ignore[union-attr]
    with db.reader() as tx:
        assert tx.list_accounts() == []


def test_an_inserted_access_key_reads_back_equal(db: Database) -> None:
    key = sample_access_key("AKIAEXAMPLE000000001")
    with db.transaction() as tx:
        tx.insert_account(sample_account())
        assert tx.insert_access_key(key)
        assert not tx.insert_access_key(key)
    with db.reader() as tx:
        assert tx.get_access_key("AKIAEXAMPLE000000001") == key
        assert tx.get_access_key("AKIAUNKNOWN000000000") is None


def test_an_access_key_for_an_unknown_account_is_a_storage_error(db: Database) -> None:
    with pytest.raises(StorageError), db.transaction() as tx:
        tx.insert_access_key(sample_access_key(account_id="999999999999"))


def test_access_keys_list_per_owner_oldest_first_with_none_meaning_root(db: Database) -> None:
    with db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_access_key(sample_access_key("AKIAROOT000000000002", created_at=T0 + timedelta(1)))
        tx.insert_access_key(sample_access_key("AKIAROOT000000000001", created_at=T0 + timedelta(2)))
        tx.insert_access_key(sample_access_key("AKIAALICE00000000001", user_name="alice"))
        tx.insert_access_key(sample_access_key("AKIABOB0000000000001", user_name="bob"))
    with db.reader() as tx:
        assert [k.access_key_id for k in tx.list_access_keys("111122223333", None)] == [
            "AKIAROOT000000000002",
            "AKIAROOT000000000001",
        ]
        assert [k.access_key_id for k in tx.list_access_keys("111122223333", "alice")] == [
            "AKIAALICE00000000001"
        ]
        assert tx.list_access_keys("111122223333", "carol") == []
        assert tx.list_access_keys("444455556666", None) == []


def test_set_access_key_status_changes_it_and_reports_unknown_keys(db: Database) -> None:
    with db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_access_key(sample_access_key("AKIAEXAMPLE000000001"))
        assert tx.set_access_key_status("AKIAEXAMPLE000000001", "Inactive")
        assert not tx.set_access_key_status("AKIAUNKNOWN000000000", "Inactive")
    with db.reader() as tx:
        assert tx.get_access_key("AKIAEXAMPLE000000001").status == "Inactive"  # type: ignore[union-attr]


def test_delete_access_key_removes_it_once(db: Database) -> None:
    with db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_access_key(sample_access_key("AKIAEXAMPLE000000001"))
        assert tx.delete_access_key("AKIAEXAMPLE000000001")
        assert not tx.delete_access_key("AKIAEXAMPLE000000001")
        assert tx.get_access_key("AKIAEXAMPLE000000001") is None


def test_recorded_access_key_use_only_moves_forward_in_time(db: Database) -> None:
    later, earlier = T0 + timedelta(hours=2), T0 + timedelta(hours=1)
    with db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_access_key(sample_access_key("AKIAEXAMPLE000000001"))
        tx.record_access_key_use("AKIAEXAMPLE000000001", later, "kms", "eu-west-1")
        tx.record_access_key_use("AKIAEXAMPLE000000001", earlier, "sts", "us-east-1")
    with db.reader() as tx:
        key = tx.get_access_key("AKIAEXAMPLE000000001")
    assert key is not None
    assert (key.last_used_at, key.last_used_service, key.last_used_region) == (later, "kms", "eu-west-1")


def test_wrapped_secrets_and_password_hashes_stay_out_of_repr() -> None:
    assert "wrapped-secret" not in repr(sample_access_key())
    assert "argon2" not in repr(sample_account())
