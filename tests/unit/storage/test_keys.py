"""Contract: KMS keys, their material versions and tags (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystead.errors import ConflictError, NotFoundError
from keystead.storage import Database, StorageError
from keystead.storage.testing import T0, sample_account, sample_alias, sample_key, sample_key_material

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def db_with_account(db: Database) -> Database:
    with db.transaction() as tx:
        tx.insert_account(sample_account("111122223333"))
        tx.insert_account(sample_account("444455556666"))
    return db


def test_an_inserted_key_reads_back_equal_with_every_field(db_with_account: Database) -> None:
    key = sample_key(
        KEY_ID,
        description="payments",
        deletion_date=T0 + timedelta(days=7),
        pending_window_days=7,
        multi_region=True,
        current_material_id=b"\x00\xff" * 16,
        rotation_enabled=True,
        rotation_period_days=365,
        next_rotation_date=T0 + timedelta(days=365),
        valid_to=T0 + timedelta(days=30),
        expiration_model="KEY_MATERIAL_EXPIRES",
    )
    with db_with_account.transaction() as tx:
        assert tx.insert_key(key)
    with db_with_account.reader() as tx:
        assert tx.get_key(KEY_ID) == key


def test_inserting_an_existing_key_id_returns_false_and_keeps_the_first(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        assert tx.insert_key(sample_key(KEY_ID, description="first"))
        assert not tx.insert_key(sample_key(KEY_ID, description="second", account_id="444455556666"))
        assert tx.get_key(KEY_ID).description == "first"  # type: ignore[union-attr]


def test_an_unknown_key_reads_as_none(db: Database) -> None:
    with db.reader() as tx:
        assert tx.get_key(KEY_ID) is None


def test_a_key_for_an_unknown_account_is_a_storage_error(db: Database) -> None:
    with pytest.raises(StorageError), db.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID, account_id="999999999999"))


def test_list_keys_pages_one_account_and_region_in_key_id_order(db_with_account: Database) -> None:
    ids = [f"0000000{i}-0000-0000-0000-000000000000" for i in (5, 1, 4, 2, 3)]
    with db_with_account.transaction() as tx:
        for key_id in ids:
            tx.insert_key(sample_key(key_id))
        tx.insert_key(sample_key("00000000-elsewhere-region", region="eu-west-1"))
        tx.insert_key(sample_key("00000000-other-account", account_id="444455556666"))
    pages: list[list[str]] = []
    after = None
    with db_with_account.reader() as tx:
        while page := tx.list_keys("111122223333", "us-east-1", after=after, limit=2):
            pages.append([k.key_id for k in page])
            after = page[-1].key_id
    assert pages == [sorted(ids)[0:2], sorted(ids)[2:4], sorted(ids)[4:]]


def test_list_keys_refuses_a_limit_below_one(db: Database) -> None:
    with db.reader() as tx, pytest.raises(ValueError):
        tx.list_keys("111122223333", "us-east-1", after=None, limit=0)


def test_update_key_changes_fields_and_bumps_the_row_version(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        updated = tx.update_key(KEY_ID, 1, key_state="Disabled", description="off")
    assert (updated.key_state, updated.description, updated.row_version) == ("Disabled", "off", 2)
    with db_with_account.reader() as tx:
        assert tx.get_key(KEY_ID) == updated


def test_update_key_with_a_stale_row_version_is_a_conflict_and_changes_nothing(
    db_with_account: Database,
) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        tx.update_key(KEY_ID, 1, description="won the race")
    with pytest.raises(ConflictError), db_with_account.transaction() as tx:
        tx.update_key(KEY_ID, 1, description="lost the race")
    with db_with_account.reader() as tx:
        key = tx.get_key(KEY_ID)
    assert key is not None
    assert (key.description, key.row_version) == ("won the race", 2)


def test_update_key_of_an_unknown_key_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError), db.transaction() as tx:
        tx.update_key(KEY_ID, 1, description="x")


@pytest.mark.parametrize("field", ["account_id", "region", "row_version", "no_such_field"])
def test_update_key_refuses_identity_fields_and_unknown_names(db_with_account: Database, field: str) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        with pytest.raises(TypeError):
            tx.update_key(KEY_ID, 1, **{field: "x"})


def test_delete_key_removes_its_material_tags_and_aliases(db_with_account: Database) -> None:
    other = "ffffffff-0000-0000-0000-000000000000"
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        tx.insert_key(sample_key(other))
        tx.insert_key_material(sample_key_material(KEY_ID))
        tx.put_key_tags(KEY_ID, {"team": "payments"})
        tx.insert_alias(sample_alias("alias/payments", KEY_ID))
        tx.insert_alias(sample_alias("alias/other", other))
        assert tx.delete_key(KEY_ID)
        assert not tx.delete_key(KEY_ID)
    with db_with_account.reader() as tx:
        assert tx.get_key(KEY_ID) is None
        assert tx.list_key_materials(KEY_ID) == []
        assert tx.list_key_tags(KEY_ID) == {}
        aliases = tx.list_aliases("111122223333", "us-east-1", key_id=None, after=None, limit=10)
        assert [a.alias_name for a in aliases] == ["alias/other"]


def test_keys_due_for_deletion_and_rotation_are_listed_earliest_first(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key("k-delete-late", deletion_date=T0 + timedelta(days=2)))
        tx.insert_key(sample_key("k-delete-early", deletion_date=T0 + timedelta(days=1)))
        tx.insert_key(sample_key("k-delete-future", deletion_date=T0 + timedelta(days=30)))
        tx.insert_key(sample_key("k-rotate", next_rotation_date=T0 + timedelta(days=1)))
        tx.insert_key(sample_key("k-rotate-future", next_rotation_date=T0 + timedelta(days=30)))
    now = T0 + timedelta(days=3)
    with db_with_account.reader() as tx:
        assert [k.key_id for k in tx.list_keys_due_for_deletion(now, limit=10)] == [
            "k-delete-early",
            "k-delete-late",
        ]
        assert [k.key_id for k in tx.list_keys_due_for_deletion(now, limit=1)] == ["k-delete-early"]
        assert [k.key_id for k in tx.list_keys_due_for_rotation(now, limit=10)] == ["k-rotate"]


def test_key_materials_read_back_oldest_first_and_duplicates_return_false(db_with_account: Database) -> None:
    second = sample_key_material(KEY_ID, b"\x02" * 32, created_at=T0 + timedelta(days=1), state="CURRENT")
    first = sample_key_material(KEY_ID, b"\x01" * 32, created_at=T0, state="NON_CURRENT")
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        assert tx.insert_key_material(second)
        assert tx.insert_key_material(first)
        assert not tx.insert_key_material(first)
    with db_with_account.reader() as tx:
        assert tx.list_key_materials(KEY_ID) == [first, second]
        assert tx.get_key_material(KEY_ID, b"\x02" * 32) == second
        assert tx.get_key_material(KEY_ID, b"\x03" * 32) is None


def test_set_key_material_state_changes_one_version(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        tx.insert_key_material(sample_key_material(KEY_ID, b"\x01" * 32))
        assert tx.set_key_material_state(KEY_ID, b"\x01" * 32, "NON_CURRENT")
        assert not tx.set_key_material_state(KEY_ID, b"\x09" * 32, "NON_CURRENT")
        assert tx.get_key_material(KEY_ID, b"\x01" * 32).state == "NON_CURRENT"  # type: ignore[union-attr]


def test_put_key_tags_adds_and_overwrites_and_list_is_ordered_by_tag_key(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        tx.put_key_tags(KEY_ID, {"team": "payments", "env": "dev"})
        tx.put_key_tags(KEY_ID, {"env": "prod", "cost-center": ""})
        tx.put_key_tags(KEY_ID, {})
    with db_with_account.reader() as tx:
        assert list(tx.list_key_tags(KEY_ID).items()) == [
            ("cost-center", ""),
            ("env", "prod"),
            ("team", "payments"),
        ]


def test_delete_key_tags_removes_the_named_tags_and_ignores_absent_ones(db_with_account: Database) -> None:
    with db_with_account.transaction() as tx:
        tx.insert_key(sample_key(KEY_ID))
        tx.put_key_tags(KEY_ID, {"a": "1", "b": "2", "c": "3"})
        tx.delete_key_tags(KEY_ID, ["a", "c", "never-there"])
        tx.delete_key_tags(KEY_ID, [])
    with db_with_account.reader() as tx:
        assert tx.list_key_tags(KEY_ID) == {"b": "2"}


def test_tags_on_an_unknown_key_are_a_storage_error(db: Database) -> None:
    with pytest.raises(StorageError), db.transaction() as tx:
        tx.put_key_tags(KEY_ID, {"a": "1"})
