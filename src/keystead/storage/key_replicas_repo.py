"""Repository for replicas of multi-Region KMS keys (migrations 10 and 11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from keystead.errors import ConflictError
from keystead.storage._txbase import TxBase, check_limit, row_values, to_row
from keystead.storage.rows import KeyReplicaRow
from keystead.storage.schema import key_replicas

_UPDATABLE = frozenset({
    "description", "policy", "key_state", "tags", "is_primary", "deletion_date", "pending_window_days",
})


class KeyReplicaRepository(TxBase):
    __slots__ = ()

    def insert_key_replica(self, row: KeyReplicaRow) -> bool:
        """Create a replica; False (nothing written) when the key already has one in that Region.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the key or the account does not exist (a foreign-key violation).
        """
        return self._insert_unless_exists(key_replicas, row_values(row))

    def list_key_replicas(self, key_id: str) -> list[KeyReplicaRow]:
        """Every replica of a key, ordered by Region."""
        query = select(key_replicas).where(key_replicas.c.key_id == key_id).order_by(key_replicas.c.region)
        return [to_row(KeyReplicaRow, m) for m in self._conn.execute(query).mappings()]

    def list_replica_key_ids(self, account_id: str, region: str, *, after: str | None, limit: int) -> list[str]:
        """Ids of an account's replicas in a Region, ordered, starting after `after` (for ListKeys).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(key_replicas.c.key_id).where(
            key_replicas.c.account_id == account_id, key_replicas.c.region == region
        )
        if after is not None:
            query = query.where(key_replicas.c.key_id > after)
        return [r[0] for r in self._conn.execute(query.order_by(key_replicas.c.key_id).limit(limit))]

    def update_key_replica(self, key_id: str, region: str, expected_row_version: int, **changes: Any) -> None:
        """Change a replica if nobody changed it since `expected_row_version`; bumps row_version.

        Raises:
            ConflictError: the replica changed (or vanished) since it was read.
            TypeError: a change names a field that cannot change.
            ReadOnlyTransactionError: called in a reader.
        """
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise TypeError(f"update_key_replica cannot change {sorted(unknown)}")
        stmt = (
            update(key_replicas)
            .where(
                key_replicas.c.key_id == key_id,
                key_replicas.c.region == region,
                key_replicas.c.row_version == expected_row_version,
            )
            .values(**changes, row_version=key_replicas.c.row_version + 1)
        )
        if self._writer().execute(stmt).rowcount != 1:
            raise ConflictError(f"Key '{key_id}' was modified concurrently; retry the request.")

    def list_replicas_due_for_deletion(self, now: datetime, *, limit: int) -> list[KeyReplicaRow]:
        """Replicas whose scheduled deletion date has passed, earliest first (for the deletion sweep).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(key_replicas)
            .where(key_replicas.c.deletion_date <= now)
            .order_by(key_replicas.c.deletion_date, key_replicas.c.key_id, key_replicas.c.region)
        )
        return [to_row(KeyReplicaRow, m) for m in self._conn.execute(query.limit(limit)).mappings()]

    def delete_key_replica(self, key_id: str, region: str, expected_row_version: int) -> None:
        """Delete a replica if nobody changed it since `expected_row_version`.

        Raises:
            ConflictError: the replica changed (or vanished) since it was read.
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = delete(key_replicas).where(
            key_replicas.c.key_id == key_id,
            key_replicas.c.region == region,
            key_replicas.c.row_version == expected_row_version,
        )
        if self._writer().execute(stmt).rowcount != 1:
            raise ConflictError(f"Key '{key_id}' was modified concurrently; retry the request.")
