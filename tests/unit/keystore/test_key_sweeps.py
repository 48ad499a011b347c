"""The background sweeps, run directly with a FixedClock against a real (SQLite) database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from keystead.clock import FixedClock
from keystead.crypto.keyring import Keyring
from keystead.crypto.symmetric import new_symmetric_material
from keystead.keystore.imports import MaterialTerms
from keystead.keystore.keys import KeyService, NewKeySpec
from keystead.keystore.lifecycle_services import LifecycleServices
from keystead.keystore.sweeps import KeySweeper
from keystead.server.background import record_service_event
from keystead.storage import Database
from keystead.storage.testing import T0, sample_account

ACCOUNT = "111122223333"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'keystead.db'}", clock=clock)
    database.migrate()
    with database.transaction() as tx:
        tx.insert_account(sample_account(ACCOUNT))
    yield database
    database.dispose()


@pytest.fixture
def parts(db: Database, clock: FixedClock) -> tuple[KeyService, LifecycleServices, KeySweeper]:
    keyring = Keyring.open(b"\x07" * 32, {1: Keyring.seal_term(b"\x07" * 32, 1)})
    keys = KeyService(db, keyring, clock)
    services = LifecycleServices.build(db, keys, keyring, clock)
    sweeper = KeySweeper(db, keys, services.rotation, services.imports, clock, record_service_event)
    return keys, services, sweeper


def _new_key(db: Database, keys: KeyService, origin: str = "AWS_KMS", services: LifecycleServices | None = None) -> str:
    spec = NewKeySpec(account_id=ACCOUNT, region="us-east-1", policy=None, origin=origin)
    with db.transaction() as tx:
        if origin == "EXTERNAL":
            assert services is not None
            return services.imports.create_external_key(tx, spec).key_id
        return keys.create_key(tx, spec).key_id


def _events(db: Database, name: str) -> list[dict[str, object]]:
    with db.reader() as tx:
        rows = tx.list_audit_events(ACCOUNT, after_seq=None, limit=1000)
    return [json.loads(r.payload) for r in rows if r.event_name == name]


def test_a_key_is_deleted_only_after_its_waiting_period(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys)
    with db.transaction() as tx:
        services.lifecycle.schedule_deletion(tx, key_id, 7)
    clock.set(T0 + timedelta(days=7) - timedelta(seconds=1))
    assert sweeper.delete_due_keys() == []
    clock.set(T0 + timedelta(days=7))
    assert sweeper.delete_due_keys() == [key_id]
    with db.reader() as tx:
        assert tx.get_key(key_id) is None
    [event] = _events(db, "DeleteKey")
    assert event["eventType"] == "AwsServiceEvent"
    assert event["userIdentity"] == {"accountId": ACCOUNT, "invokedBy": "kms.amazonaws.com"}
    assert event["resources"][0]["ARN"].endswith(f":key/{key_id}")  # type: ignore[index]


def test_two_sweepers_delete_a_due_key_exactly_once(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys)
    with db.transaction() as tx:
        services.lifecycle.schedule_deletion(tx, key_id, 7)
    clock.set(T0 + timedelta(days=8))
    assert sweeper.delete_due_keys() == [key_id]
    assert sweeper.delete_due_keys() == []
    assert len(_events(db, "DeleteKey")) == 1


def test_a_cancelled_deletion_is_not_carried_out(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys)
    with db.transaction() as tx:
        services.lifecycle.schedule_deletion(tx, key_id, 7)
        assert services.lifecycle.cancel_deletion(tx, key_id).key_state == "Disabled"
    clock.set(T0 + timedelta(days=30))
    assert sweeper.delete_due_keys() == []


def test_automatic_rotation_makes_new_material_current_and_reschedules(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys)
    with db.transaction() as tx:
        before = services.rotation.enable(tx, key_id, 90)
    assert before.next_rotation_date == T0 + timedelta(days=90)
    clock.set(T0 + timedelta(days=90, minutes=1))
    assert sweeper.rotate_due_keys() == [key_id]
    assert sweeper.rotate_due_keys() == []
    with db.reader() as tx:
        after = tx.get_key(key_id)
        materials = tx.list_key_materials(key_id)
    assert after is not None and after.current_material_id != before.current_material_id
    assert after.next_rotation_date == clock.now() + timedelta(days=90)
    assert {m.state for m in materials} == {"CURRENT", "NON_CURRENT"}
    [event] = _events(db, "RotateKey")
    assert event["additionalEventData"] == {"keyMaterialId": after.current_material_id.hex()}  # type: ignore[union-attr]


def test_disabled_keys_are_not_rotated_until_enabled(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys)
    with db.transaction() as tx:
        services.rotation.enable(tx, key_id, 90)
        keys.set_enabled(tx, key_id, False)
    clock.set(T0 + timedelta(days=100))
    assert sweeper.rotate_due_keys() == []
    with db.transaction() as tx:
        keys.set_enabled(tx, key_id, True)
    assert sweeper.rotate_due_keys() == [key_id]


def test_expired_imported_material_is_deleted_and_the_key_waits_for_import(db, clock, parts) -> None:
    keys, services, sweeper = parts
    key_id = _new_key(db, keys, "EXTERNAL", services)
    terms = MaterialTerms(T0 + timedelta(days=1), "KEY_MATERIAL_EXPIRES")
    with db.transaction() as tx:
        imported = services.imports.import_material(tx, key_id, new_symmetric_material(), terms, None, None)
    assert imported.key_state == "Enabled"
    clock.set(T0 + timedelta(hours=23))
    assert sweeper.expire_imported_material() == []
    clock.set(T0 + timedelta(days=1))
    assert sweeper.expire_imported_material() == [key_id]
    with db.reader() as tx:
        key = tx.get_key(key_id)
        assert key is not None and key.key_state == "PendingImport" and key.valid_to is None
        assert tx.get_key_material(key_id, imported.current_material_id) is None  # type: ignore[arg-type]
    assert len(_events(db, "DeleteExpiredKeyMaterial")) == 1
