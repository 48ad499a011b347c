"""Contract: transaction boundaries, readers and error mapping (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from keystead.errors import NotFoundError
from keystead.storage import Database, ReadOnlyTransactionError, StorageError
from keystead.storage.testing import T0, sample_account, sample_audit_event, sample_key


class _Boom(Exception):
    pass


def test_a_transaction_commits_when_its_block_exits(db: Database) -> None:
    with db.transaction() as tx:
        tx.insert_account(sample_account())
    with db.reader() as tx:
        assert tx.get_account("111122223333") is not None


def test_an_exception_in_the_block_rolls_back_everything_and_passes_through_unchanged(db: Database) -> None:
    with pytest.raises(_Boom), db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_key(sample_key("1234abcd-12ab-34cd-56ef-1234567890ab"))
        tx.insert_keyring_term(1, b"sealed", T0)
        tx.append_audit_events([sample_audit_event("event-1")])
        raise _Boom
    with db.reader() as tx:
        assert tx.list_accounts() == []
        assert tx.get_key("1234abcd-12ab-34cd-56ef-1234567890ab") is None
        assert tx.keyring_terms() == {}
        assert tx.list_audit_events(None, after_seq=None, limit=10) == []


def test_a_domain_error_raised_by_the_repository_rolls_back_the_transaction(db: Database) -> None:
    with pytest.raises(NotFoundError), db.transaction() as tx:
        tx.insert_account(sample_account())
        tx.update_key("1234abcd-12ab-34cd-56ef-1234567890ab", 1, description="x")
    with db.reader() as tx:
        assert tx.list_accounts() == []


def test_a_database_failure_is_a_storage_error_with_the_driver_error_chained(db: Database) -> None:
    with pytest.raises(StorageError) as raised, db.transaction() as tx:
        tx.insert_key(sample_key(account_id="999999999999"))  # foreign-key violation
    assert raised.value.__cause__ is not None
    assert raised.value.code == "KMSInternalException"


@pytest.mark.parametrize(
    "write",
    [
        lambda tx: tx.insert_account(sample_account()),
        lambda tx: tx.insert_keyring_term(1, b"x", T0),
        lambda tx: tx.put_key_tags("k", {"a": "b"}),
        lambda tx: tx.append_audit_events([sample_audit_event()]),
        lambda tx: tx.update_key("k", 1, description="x"),
        lambda tx: tx.delete_alias("111122223333", "us-east-1", "alias/x"),
    ],
)
def test_write_methods_in_a_reader_raise_read_only(db: Database, write: object) -> None:
    with db.reader() as tx:
        assert not tx.writable
        with pytest.raises(ReadOnlyTransactionError):
            write(tx)  # type: ignore[operator]


def test_a_reader_keeps_its_snapshot_while_a_writer_commits(db: Database) -> None:
    with db.reader() as snapshot:
        assert snapshot.list_accounts() == []
        with db.transaction() as tx:
            tx.insert_account(sample_account())
        assert snapshot.list_accounts() == []
    with db.reader() as fresh:
        assert [a.account_id for a in fresh.list_accounts()] == ["111122223333"]
