"""Multi-Region keys: replicas of a key in other Regions, and which Region is the primary.

[KMS DG:multi-region-keys-overview] Related multi-Region keys share their key id, key material,
key spec, usage, origin and rotation; each keeps its own policy, description, state, tags and
aliases. Here the key row in `keys` holds the shared part (and the per-Region part of the Region
where the key was created, its "home"); `key_replicas` holds the per-Region part of the others.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from keystead import arn
from keystead.errors import KMSInvalidStateError, NotFoundError, TagError
from keystead.keystore import states
from keystead.storage import KeyReplicaRow, KeyRow, Tx

PRIMARY = "PRIMARY"
REPLICA = "REPLICA"


def replica_view(home: KeyRow, replica: KeyReplicaRow) -> KeyRow:
    """The key as it looks in the replica's Region: shared properties with per-Region ones on top."""
    return dataclasses.replace(
        home,
        region=replica.region,
        description=replica.description,
        policy=replica.policy,
        key_state=replica.key_state,
        creation_date=replica.creation_date,
        deletion_date=replica.deletion_date,
        pending_window_days=replica.pending_window_days,
        row_version=replica.row_version,
    )


def replica_tags(replica: KeyReplicaRow) -> dict[str, str]:
    tags: dict[str, str] = json.loads(replica.tags)
    return tags


def encode_tags(tags: Mapping[str, str]) -> str:
    return json.dumps(dict(tags), sort_keys=True)


def primary_region(home: KeyRow, replicas: Sequence[KeyReplicaRow]) -> str:
    """The Region of the primary key: a replica promoted by UpdatePrimaryRegion, else the home Region."""
    return next((r.region for r in replicas if r.is_primary), home.region)


def key_type(region: str, home: KeyRow, replicas: Sequence[KeyReplicaRow]) -> str | None:
    """kms:MultiRegionKeyType of the key in `region`; None for a single-Region key."""
    if not home.multi_region:
        return None
    return PRIMARY if region == primary_region(home, replicas) else REPLICA


def configuration(region: str, home: KeyRow, replicas: Sequence[KeyReplicaRow]) -> dict[str, object] | None:
    """KeyMetadata.MultiRegionConfiguration of the key in `region` (snake_case); None if single-Region."""
    kind = key_type(region, home, replicas)
    if kind is None:
        return None
    primary = primary_region(home, replicas)

    def entry(where: str) -> dict[str, str]:
        return {"arn": arn.key_arn(where, home.account_id, home.key_id), "region": where}

    others = sorted({home.region, *(r.region for r in replicas)} - {primary})
    return {"multi_region_key_type": kind, "primary_key": entry(primary), "replica_keys": [entry(r) for r in others]}


def promote(tx: Tx, home: KeyRow, replicas: Sequence[KeyReplicaRow], region: str) -> None:
    """UpdatePrimaryRegion: make the key in `region` the primary (the old primary becomes a replica).

    Raises:
        ConflictError: a replica changed concurrently.
    """
    for replica in replicas:
        wanted = replica.region == region
        if replica.is_primary != wanted:
            tx.update_key_replica(replica.key_id, replica.region, replica.row_version, is_primary=wanted)
    # The key row's own Region is the primary whenever no replica is flagged; bump its version so
    # that a concurrent UpdatePrimaryRegion through the key row conflicts instead of interleaving.
    tx.update_key(home.key_id, home.row_version)


# --- per-Region changes to a replica ----------------------------------------------------------
# [KMS DG:multi-region-keys-overview] a replica's state, policy, description and tags are its own:
# these change its `key_replicas` row only, never the key row its shared properties come from.


def current_replica(tx: Tx, home: KeyRow, region: str) -> KeyReplicaRow:
    """The replica of `home` in `region`, read in the caller's transaction (not from a cache).

    Raises:
        NotFoundError: the key or that replica was deleted meanwhile.
    """
    found = next((r for r in tx.list_key_replicas(home.key_id) if r.region == region), None)
    if found is None:
        raise NotFoundError(f"Key '{arn.key_arn(region, home.account_id, home.key_id)}' does not exist")
    return found


def replica_arn(replica: KeyReplicaRow) -> str:
    return arn.key_arn(replica.region, replica.account_id, replica.key_id)


def set_replica_enabled(tx: Tx, home: KeyRow, region: str, enabled: bool) -> None:
    """EnableKey / DisableKey on a replica.

    Raises:
        KMSInvalidStateError: the replica is pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    states.check_can_change_enablement(replica_arn(replica), replica.key_state)
    new_state = states.ENABLED if enabled else states.DISABLED
    tx.update_key_replica(replica.key_id, region, replica.row_version, key_state=new_state)


def change_replica(tx: Tx, home: KeyRow, region: str, *, management: bool, **changes: Any) -> None:
    """Set a replica's policy or description; `management` changes stop at PendingDeletion.

    Raises:
        KMSInvalidStateError: a management change on a replica pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    if management:
        _check_not_pending_deletion(replica)
    tx.update_key_replica(replica.key_id, region, replica.row_version, **changes)


def tag_replica(tx: Tx, home: KeyRow, region: str, tags: Mapping[str, str], max_tags: int) -> None:
    """TagResource on a replica: add or overwrite its tags.

    Raises:
        TagError: more than `max_tags` tags afterwards.
        KMSInvalidStateError: the replica is pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    _check_not_pending_deletion(replica)
    merged = {**replica_tags(replica), **tags}
    if len(merged) > max_tags:
        raise TagError(f"A KMS key can have at most {max_tags} tags.")
    tx.update_key_replica(replica.key_id, region, replica.row_version, tags=encode_tags(merged))


def untag_replica(tx: Tx, home: KeyRow, region: str, tag_keys: Sequence[str]) -> None:
    """UntagResource on a replica (absent keys are ignored).

    Raises:
        KMSInvalidStateError: the replica is pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    _check_not_pending_deletion(replica)
    kept = {k: v for k, v in replica_tags(replica).items() if k not in set(tag_keys)}
    tx.update_key_replica(replica.key_id, region, replica.row_version, tags=encode_tags(kept))


def _check_not_pending_deletion(replica: KeyReplicaRow) -> None:
    if replica.key_state == states.PENDING_DELETION:
        raise KMSInvalidStateError(f"{replica_arn(replica)} is pending deletion.")


# --- deleting replicas ([KMS DG:multi-region-keys-delete]) -----------------------------------
# A replica is scheduled for deletion on its own, whatever the state of the other Regions.


def schedule_replica_deletion(tx: Tx, home: KeyRow, region: str, window_days: int, now: datetime) -> KeyRow:
    """ScheduleKeyDeletion on a replica: PendingDeletion until `now + window_days`; returns its view.

    Raises:
        KMSInvalidStateError: the replica is already pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    _check_not_pending_deletion(replica)
    changes: dict[str, Any] = {
        "key_state": states.PENDING_DELETION,
        "deletion_date": now + timedelta(days=window_days),
        "pending_window_days": window_days,
    }
    tx.update_key_replica(replica.key_id, region, replica.row_version, **changes)
    return replica_view(home, dataclasses.replace(replica, **changes))


def cancel_replica_deletion(tx: Tx, home: KeyRow, region: str) -> KeyRow:
    """CancelKeyDeletion on a replica: it comes back Disabled, like any key; returns its view.

    Raises:
        KMSInvalidStateError: the replica is not pending deletion.
        NotFoundError, ConflictError: the replica vanished or changed concurrently.
    """
    replica = current_replica(tx, home, region)
    if replica.key_state != states.PENDING_DELETION:
        raise KMSInvalidStateError(f"{replica_arn(replica)} is not pending deletion.")
    changes: dict[str, Any] = {
        "key_state": states.DISABLED, "deletion_date": None, "pending_window_days": None,
    }
    tx.update_key_replica(replica.key_id, region, replica.row_version, **changes)
    return replica_view(home, dataclasses.replace(replica, **changes))
