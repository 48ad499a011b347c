"""The periodic work on keys: delete keys whose waiting period is over, rotate keys that are due,
and expire imported material past its ValidTo.

Every worker on every node may run these at once. Each key is handled in its own transaction
that first re-reads the key and then changes it with an optimistic row_version check, so exactly
one runner wins per key; the others hit ConflictError (or find the work done) and move on. The
winner records the service event in the same transaction (`on_event`, supplied by the caller so
that this layer does not depend on the audit layer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from keystead.clock import Clock
from keystead.errors import ConflictError, NotFoundError
from keystead.keystore import multi_region, states
from keystead.keystore.imports import EXPIRES, ImportService
from keystead.keystore.keys import KeyService
from keystead.keystore.lifecycle import DEFAULT_PENDING_WINDOW_DAYS
from keystead.keystore.rotation import AUTOMATIC, RotationService
from keystead.storage import Database, KeyRow, Tx

log = logging.getLogger(__name__)
BATCH = 100


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """A change KMS made on its own (CloudTrail eventType AwsServiceEvent)."""

    event_name: str  # DeleteKey | RotateKey | DeleteExpiredKeyMaterial
    key: KeyRow
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Tx, ServiceEvent], None]


@dataclass(frozen=True, slots=True)
class SweepReport:
    deleted: list[str]
    rotated: list[str]
    expired: list[str]


class KeySweeper:
    def __init__(
        self, db: Database, keys: KeyService, rotation: RotationService, imports: ImportService,
        clock: Clock, on_event: EventSink,
    ) -> None:
        self._db = db
        self._keys = keys
        self._rotation = rotation
        self._imports = imports
        self._clock = clock
        self._on_event = on_event

    def run_once(self) -> SweepReport:
        """One pass of every sweep (blocking; the background task calls it through run_blocking)."""
        deleted = self.delete_due_replicas() + self.delete_due_keys()
        return SweepReport(deleted, self.rotate_due_keys(), self.expire_imported_material())

    def delete_due_keys(self) -> list[str]:
        """Delete keys whose scheduled deletion date has passed; returns the ids this runner deleted."""
        now = self._clock.now()
        with self._db.reader() as tx:
            due = tx.list_keys_due_for_deletion(now, limit=BATCH)
        return [k.key_id for k in due if self._once(k.key_id, lambda tx, key: self._delete(tx, key, now))]

    def delete_due_replicas(self) -> list[str]:
        """Delete multi-Region replicas whose deletion date has passed; returns "key_id/region" of each.

        A primary waiting in PendingReplicaDeletion becomes PendingDeletion (its own waiting period
        starts) in the transaction that deletes its last replica.
        """
        now = self._clock.now()
        with self._db.reader() as tx:
            due = tx.list_replicas_due_for_deletion(now, limit=BATCH)
        deleted = []
        for replica in due:
            region = replica.region
            if self._once(replica.key_id, lambda tx, key: self._delete_replica(tx, key, region, now)):
                deleted.append(f"{replica.key_id}/{region}")
        return deleted

    def rotate_due_keys(self) -> list[str]:
        """Rotate enabled keys whose next automatic rotation date has passed."""
        now = self._clock.now()
        with self._db.reader() as tx:
            due = tx.list_enabled_keys_due_for_rotation(now, limit=BATCH)
        return [k.key_id for k in due if self._once(k.key_id, lambda tx, key: self._rotate(tx, key, now))]

    def expire_imported_material(self) -> list[str]:
        """Delete imported material whose ValidTo has passed (the key goes back to PendingImport)."""
        now = self._clock.now()
        with self._db.reader() as tx:
            due = tx.list_keys_with_expired_material(now, limit=BATCH)
        return [k.key_id for k in due if self._once(k.key_id, lambda tx, key: self._expire(tx, key, now))]

    def _once(self, key_id: str, act: Callable[[Tx, KeyRow], bool]) -> bool:
        try:
            with self._db.transaction() as tx:
                key = tx.get_key(key_id)
                done = key is not None and act(tx, key)
        except (ConflictError, NotFoundError):
            return False  # another runner got there first
        except Exception:
            log.exception("background work on key %s failed; it will be retried", key_id)
            return False
        finally:
            self._keys.forget(key_id)
        return done

    def _delete(self, tx: Tx, key: KeyRow, now: datetime) -> bool:
        if key.key_state != states.PENDING_DELETION or key.deletion_date is None or key.deletion_date > now:
            return False
        if tx.list_key_replicas(key.key_id):
            return False  # other Regions still hold the key: deleting its row would cascade to them
        tx.update_key(key.key_id, key.row_version)  # claim it: a concurrent runner now conflicts
        tx.delete_key_lifecycle_rows(key.key_id)
        tx.delete_key(key.key_id)
        self._on_event(tx, ServiceEvent("DeleteKey", key, now))
        return True

    def _delete_replica(self, tx: Tx, key: KeyRow, region: str, now: datetime) -> bool:
        replicas = tx.list_key_replicas(key.key_id)
        replica = next((r for r in replicas if r.region == region), None)
        if replica is None or replica.key_state != states.PENDING_DELETION:
            return False
        if replica.deletion_date is None or replica.deletion_date > now:
            return False
        tx.delete_key_replica(key.key_id, region, replica.row_version)  # conflicts for a concurrent runner
        self._on_event(tx, ServiceEvent("DeleteKey", multi_region.replica_view(key, replica), now))
        if len(replicas) == 1 and key.key_state == states.PENDING_REPLICA_DELETION:
            window = key.pending_window_days or DEFAULT_PENDING_WINDOW_DAYS
            tx.update_key(
                key.key_id, key.row_version, key_state=states.PENDING_DELETION,
                deletion_date=now + timedelta(days=window),
            )
        return True

    def _rotate(self, tx: Tx, key: KeyRow, now: datetime) -> bool:
        due = key.next_rotation_date is not None and key.next_rotation_date <= now
        if not (due and key.rotation_enabled and key.key_state == states.ENABLED):
            return False
        rotated = self._rotation.rotate(tx, key, AUTOMATIC, now)
        assert rotated.current_material_id is not None
        self._on_event(tx, ServiceEvent("RotateKey", key, now, {"keyMaterialId": rotated.current_material_id.hex()}))
        return True

    def _expire(self, tx: Tx, key: KeyRow, now: datetime) -> bool:
        if key.expiration_model != EXPIRES or key.valid_to is None or key.valid_to > now:
            return False
        self._imports.delete_material(tx, key.key_id)
        self._on_event(tx, ServiceEvent("DeleteExpiredKeyMaterial", key, now))
        return True
