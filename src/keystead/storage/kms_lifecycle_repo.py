"""Repositories for the KMS key lifecycle: rotations, last key usage, and the background sweeps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from keystead.storage._txbase import TxBase, check_limit, row_values, to_row
from keystead.storage.rows import KeyLastUsageRow, KeyRotationRow, KeyRow
from keystead.storage.schema import key_last_usage, key_materials, key_rotations, keys, schema_migrations


class KmsLifecycleRepository(TxBase):
    __slots__ = ()

    # --- rotations -------------------------------------------------------------------------

    def insert_key_rotation(self, row: KeyRotationRow) -> bool:
        """Record a completed rotation; False when that material is already recorded.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(key_rotations, row_values(row))

    def list_key_rotations(self, key_id: str, *, offset: int, limit: int) -> list[KeyRotationRow]:
        """One page of a key's completed rotations, oldest first.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(key_rotations)
            .where(key_rotations.c.key_id == key_id)
            .order_by(key_rotations.c.rotation_date, key_rotations.c.material_id)
            .offset(offset)
            .limit(limit)
        )
        return [to_row(KeyRotationRow, m) for m in self._conn.execute(query).mappings()]

    def count_key_rotations(self, key_id: str, rotation_type: str) -> int:
        """How many rotations of one type a key has had (the on-demand quota counts them)."""
        query = select(func.count()).where(
            key_rotations.c.key_id == key_id, key_rotations.c.rotation_type == rotation_type
        )
        return int(self._conn.execute(query).scalar() or 0)

    def list_enabled_keys_due_for_rotation(self, now: datetime, *, limit: int) -> list[KeyRow]:
        """Enabled keys with automatic rotation on whose next rotation date has passed.

        Disabled keys are left out so that they cannot starve the sweep: they rotate once enabled.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(keys)
            .where(keys.c.next_rotation_date <= now, keys.c.rotation_enabled.is_(True), keys.c.key_state == "Enabled")
            .order_by(keys.c.next_rotation_date, keys.c.key_id)
            .limit(limit)
        )
        return [to_row(KeyRow, m) for m in self._conn.execute(query).mappings()]

    # --- imported material -----------------------------------------------------------------

    def list_keys_with_expired_material(self, now: datetime, *, limit: int) -> list[KeyRow]:
        """Keys whose imported material's ValidTo has passed, earliest first.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(keys)
            .where(keys.c.valid_to <= now, keys.c.expiration_model == "KEY_MATERIAL_EXPIRES")
            .order_by(keys.c.valid_to, keys.c.key_id)
            .limit(limit)
        )
        return [to_row(KeyRow, m) for m in self._conn.execute(query).mappings()]

    def delete_key_material(self, key_id: str, material_id: bytes) -> bool:
        """Remove one material version (deleted or expired imported material).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = delete(key_materials).where(
            key_materials.c.key_id == key_id, key_materials.c.material_id == material_id
        )
        return self._writer().execute(stmt).rowcount == 1

    # --- last usage ------------------------------------------------------------------------

    def record_key_last_usage(self, rows: Sequence[KeyLastUsageRow]) -> None:
        """Upsert a batch of last uses; a stored use newer than the batch's is kept.

        Rows for keys deleted meanwhile are skipped, so a flush never fails on them.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        if not rows:
            return
        existing = set(
            self._conn.execute(select(keys.c.key_id).where(keys.c.key_id.in_([r.key_id for r in rows]))).scalars()
        )
        values = [row_values(r) for r in rows if r.key_id in existing]
        if not values:
            return
        stmt = self._insert(key_last_usage)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key_last_usage.c.key_id],
            set_={c: getattr(stmt.excluded, c) for c in ("operation", "used_at", "request_id")},
            where=stmt.excluded.used_at > key_last_usage.c.used_at,
        )
        self._writer().execute(stmt, values)

    def get_key_last_usage(self, key_id: str) -> KeyLastUsageRow | None:
        """The last recorded cryptographic use of a key, or None."""
        query = select(key_last_usage).where(key_last_usage.c.key_id == key_id)
        mapping = self._conn.execute(query).mappings().first()
        return None if mapping is None else to_row(KeyLastUsageRow, mapping)

    def migration_applied_at(self, version: int) -> datetime | None:
        """When a schema migration ran (usage tracking starts with migration 3)."""
        query = select(schema_migrations.c.applied_at).where(schema_migrations.c.version == version)
        return self._conn.execute(query).scalar()

    # --- deletion --------------------------------------------------------------------------

    def delete_key_lifecycle_rows(self, key_id: str) -> None:
        """Remove a key's rotations and last usage (before `delete_key`, which knows v1 tables only).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        conn = self._writer()
        for table in (key_rotations, key_last_usage):
            conn.execute(delete(table).where(table.c.key_id == key_id))
