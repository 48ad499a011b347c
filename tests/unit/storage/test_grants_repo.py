"""Contract: KMS grants and the per-key grant state (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from keystead.storage import Database, StorageError
from keystead.storage.rows import GrantRow
from keystead.storage.testing import T0, sample_account, sample_key

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "5678abcd-12ab-34cd-56ef-1234567890ab"
ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::444455556666:root"


def grant(n: int, key_id: str = KEY_ID, **overrides: object) -> GrantRow:
    values: dict[str, object] = {
        "grant_id": f"{n:064x}", "key_id": key_id, "region": "us-east-1", "issuing_account": "111122223333",
        "name": None, "grantee_principal": ALICE, "retiring_principal": None, "operations": '["Encrypt"]',
        "constraint_type": None, "constraint_context": None, "creation_date": T0,
    }
    values.update(overrides)
    return GrantRow(**values)  # type: ignore[arg-type]


@pytest.fixture
def keyed(db: Database) -> Database:
    with db.transaction() as tx:
        tx.insert_account(sample_account("111122223333"))
        tx.insert_key(sample_key(KEY_ID))
        tx.insert_key(sample_key(OTHER_KEY))
    return db


def test_a_grant_reads_back_equal_and_bumps_the_key_version_and_count(keyed: Database) -> None:
    row = grant(1, name="n", retiring_principal=BOB, constraint_type="EncryptionContextSubset",
                constraint_context='{"a": "b"}')
    with keyed.transaction() as tx:
        assert tx.insert_grant(row) == (1, 1)
        assert tx.insert_grant(grant(2)) == (2, 2)
    with keyed.reader() as tx:
        assert tx.get_grant(row.grant_id) == row
        assert tx.grant_version(KEY_ID) == 2
        assert tx.count_grants(KEY_ID) == 2
        assert tx.grant_version(OTHER_KEY) == 0


def test_deleting_a_grant_bumps_the_version_and_a_missing_one_returns_none(keyed: Database) -> None:
    with keyed.transaction() as tx:
        tx.insert_grant(grant(1))
    with keyed.transaction() as tx:
        assert tx.delete_grant(OTHER_KEY, grant(1).grant_id) is None  # wrong key
        assert tx.delete_grant(KEY_ID, grant(1).grant_id) == 2
        assert tx.delete_grant(KEY_ID, grant(1).grant_id) is None
    with keyed.reader() as tx:
        assert tx.count_grants(KEY_ID) == 0
        assert tx.get_grant(grant(1).grant_id) is None


def test_a_grant_on_a_missing_key_is_refused_and_writes_nothing(keyed: Database) -> None:
    with pytest.raises(StorageError):
        with keyed.transaction() as tx:
            tx.insert_grant(grant(1, key_id="00000000-0000-0000-0000-000000000000"))
    with keyed.reader() as tx:
        assert tx.get_grant(grant(1).grant_id) is None


def test_grants_list_by_key_filtered_and_paged_in_grant_id_order(keyed: Database) -> None:
    with keyed.transaction() as tx:
        for n in (3, 1, 2):
            tx.insert_grant(grant(n))
        tx.insert_grant(grant(4, grantee_principal=BOB))
        tx.insert_grant(grant(5, key_id=OTHER_KEY))
    with keyed.reader() as tx:
        ids = [g.grant_id for g in tx.list_grants(KEY_ID, grantee=None, grant_id=None, after=None, limit=10)]
        assert ids == [grant(n).grant_id for n in (1, 2, 3, 4)]
        after = tx.list_grants(KEY_ID, grantee=None, grant_id=None, after=grant(2).grant_id, limit=1)
        assert [g.grant_id for g in after] == [grant(3).grant_id]
        bobs = tx.list_grants(KEY_ID, grantee=BOB, grant_id=None, after=None, limit=10)
        assert [g.grant_id for g in bobs] == [grant(4).grant_id]
        version, every = tx.all_grants_of_key(KEY_ID)
        assert version == 4 and len(every) == 4


def test_retirable_grants_and_names_are_found(keyed: Database) -> None:
    with keyed.transaction() as tx:
        tx.insert_grant(grant(1, retiring_principal=BOB, name="a"))
        tx.insert_grant(grant(2, key_id=OTHER_KEY, retiring_principal=BOB))
        tx.insert_grant(grant(3, retiring_principal=BOB, region="eu-west-1"))
        tx.insert_grant(grant(4, name="a"))
    with keyed.reader() as tx:
        found = tx.list_retirable_grants(BOB, "us-east-1", after=None, limit=10)
        assert [g.grant_id for g in found] == [grant(1).grant_id, grant(2).grant_id]
        named = tx.find_grants_by_name(KEY_ID, "a")
        assert [g.grant_id for g in named] == [grant(1).grant_id, grant(4).grant_id]


def test_deleting_a_key_deletes_its_grants(keyed: Database) -> None:
    with keyed.transaction() as tx:
        tx.insert_grant(grant(1))
    with keyed.transaction() as tx:
        tx.delete_key(KEY_ID)
    with keyed.reader() as tx:
        assert tx.get_grant(grant(1).grant_id) is None
        assert tx.grant_version(KEY_ID) == 0
