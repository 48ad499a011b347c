"""Deleting multi-Region replicas in the background sweep, run directly with a FixedClock."""

from __future__ import annotations

from datetime import timedelta

from keystead.keystore import multi_region
from keystead.keystore.keys import KeyService, NewKeySpec
from keystead.storage import Database, KeyReplicaRow
from keystead.storage.testing import T0
from tests.unit.keystore.test_key_sweeps import ACCOUNT, _events, clock, db, parts  # noqa: F401 (fixtures)

AWAY = ("eu-west-1", "ap-south-1")


def _replicated_key(db: Database, keys: KeyService, regions: tuple[str, ...] = AWAY) -> str:
    spec = NewKeySpec(account_id=ACCOUNT, region="us-east-1", policy=None, multi_region=True)
    with db.transaction() as tx:
        key = keys.create_key(tx, spec)
        for region in regions:
            tx.insert_key_replica(KeyReplicaRow(
                key.key_id, region, ACCOUNT, "", key.policy, "Enabled", T0, "{}", is_primary=False,
            ))
    return key.key_id


def _schedule_replica(db: Database, key_id: str, region: str, days: int) -> None:
    with db.transaction() as tx:
        home = tx.get_key(key_id)
        assert home is not None
        multi_region.schedule_replica_deletion(tx, home, region, days, T0)


def test_a_replica_is_deleted_after_its_window_and_the_primary_and_other_replicas_stay(
    db, clock, parts
) -> None:
    keys, _, sweeper = parts
    key_id = _replicated_key(db, keys)
    _schedule_replica(db, key_id, "eu-west-1", 7)
    clock.set(T0 + timedelta(days=7) - timedelta(seconds=1))
    assert sweeper.delete_due_replicas() == []
    clock.set(T0 + timedelta(days=7))
    assert sweeper.delete_due_replicas() == [f"{key_id}/eu-west-1"]
    assert sweeper.delete_due_replicas() == []
    with db.reader() as tx:
        assert [r.region for r in tx.list_key_replicas(key_id)] == ["ap-south-1"]
        home = tx.get_key(key_id)
    assert home is not None and home.key_state == "Enabled"
    [event] = _events(db, "DeleteKey")
    assert event["awsRegion"] == "eu-west-1"


def test_a_primary_pending_replica_deletion_starts_its_own_window_when_its_last_replica_goes(
    db, clock, parts
) -> None:
    keys, services, sweeper = parts
    key_id = _replicated_key(db, keys)
    with db.transaction() as tx:
        scheduled = services.lifecycle.schedule_deletion(tx, key_id, 10)
    assert (scheduled.key_state, scheduled.deletion_date, scheduled.pending_window_days) == (
        "PendingReplicaDeletion", None, 10,
    )
    _schedule_replica(db, key_id, "eu-west-1", 7)
    _schedule_replica(db, key_id, "ap-south-1", 20)
    clock.set(T0 + timedelta(days=8))
    assert sweeper.delete_due_replicas() == [f"{key_id}/eu-west-1"]
    with db.reader() as tx:
        assert tx.get_key(key_id).key_state == "PendingReplicaDeletion"  # type: ignore[union-attr]
    last_gone = T0 + timedelta(days=21)
    clock.set(last_gone)
    assert sweeper.run_once().deleted == [f"{key_id}/ap-south-1"]
    with db.reader() as tx:
        home = tx.get_key(key_id)
    assert home is not None and home.key_state == "PendingDeletion"
    assert home.deletion_date == last_gone + timedelta(days=10)
    clock.set(last_gone + timedelta(days=10))
    assert sweeper.delete_due_keys() == [key_id]


def test_the_key_row_is_never_deleted_while_a_replica_still_holds_the_key(db, clock, parts) -> None:
    keys, _, sweeper = parts
    key_id = _replicated_key(db, keys, ("eu-west-1",))
    with db.transaction() as tx:
        home = tx.get_key(key_id)
        assert home is not None
        # As if a replica had been added after the primary was scheduled on its own.
        tx.update_key(
            key_id, home.row_version, key_state="PendingDeletion", deletion_date=T0, pending_window_days=7
        )
    clock.set(T0 + timedelta(days=1))
    assert sweeper.delete_due_keys() == []
    with db.reader() as tx:
        assert len(tx.list_key_replicas(key_id)) == 1
