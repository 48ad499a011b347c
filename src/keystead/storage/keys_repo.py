"""Repositories for KMS keys, their material versions and their tags."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from keystead.errors import ConflictError, NotFoundError
from keystead.storage._txbase import TxBase, check_limit, row_values, to_row
from keystead.storage.rows import KeyMaterialRow, KeyRow
from keystead.storage.schema import aliases, key_materials, key_replicas, key_tags, keys

# Identity and placement never change after creation; row_version is ours to bump.
_IMMUTABLE_KEY_FIELDS = frozenset({"key_id", "account_id", "region", "row_version"})
_UPDATABLE_KEY_FIELDS = frozenset(f.name for f in dataclasses.fields(KeyRow)) - _IMMUTABLE_KEY_FIELDS


class KeyRepository(TxBase):
    __slots__ = ()

    # --- keys ------------------------------------------------------------------------------

    def insert_key(self, row: KeyRow) -> bool:
        """Create a key; False (nothing written) when the key id exists (ids are globally unique).

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the account does not exist (a foreign-key violation).
        """
        return self._insert_unless_exists(keys, row_values(row))

    def get_key(self, key_id: str) -> KeyRow | None:
        """The key with this id, in whatever account and region, or None."""
        mapping = self._conn.execute(select(keys).where(keys.c.key_id == key_id)).mappings().first()
        return None if mapping is None else to_row(KeyRow, mapping)

    def list_keys(self, account_id: str, region: str, *, after: str | None, limit: int) -> list[KeyRow]:
        """One page of an account's keys in a region, ordered by key id, starting after `after`.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(keys).where(keys.c.account_id == account_id, keys.c.region == region)
        if after is not None:
            query = query.where(keys.c.key_id > after)
        found = self._conn.execute(query.order_by(keys.c.key_id).limit(limit))
        return [to_row(KeyRow, m) for m in found.mappings()]

    def list_keys_due_for_deletion(self, now: datetime, *, limit: int) -> list[KeyRow]:
        """Keys whose scheduled deletion date has passed, earliest first (for the deletion sweep).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(keys).where(keys.c.deletion_date <= now).order_by(keys.c.deletion_date, keys.c.key_id)
        return [to_row(KeyRow, m) for m in self._conn.execute(query.limit(limit)).mappings()]

    def list_keys_due_for_rotation(self, now: datetime, *, limit: int) -> list[KeyRow]:
        """Keys whose next automatic rotation date has passed, earliest first (for the rotation sweep).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(keys)
            .where(keys.c.next_rotation_date <= now)
            .order_by(keys.c.next_rotation_date, keys.c.key_id)
        )
        return [to_row(KeyRow, m) for m in self._conn.execute(query.limit(limit)).mappings()]

    def update_key(self, key_id: str, expected_row_version: int, **changes: Any) -> KeyRow:
        """Change some fields of a key if nobody changed it since `expected_row_version`; bumps row_version.

        The check and the write are one UPDATE ... WHERE row_version = expected, so it holds under
        READ COMMITTED on PostgreSQL and across processes on SQLite.

        Raises:
            ConflictError: the key changed since `expected_row_version` was read.
            NotFoundError: there is no such key.
            TypeError: a change names an unknown or immutable field.
            ReadOnlyTransactionError: called in a reader.
        """
        unknown = set(changes) - _UPDATABLE_KEY_FIELDS
        if unknown:
            raise TypeError(f"update_key cannot change {sorted(unknown)}")
        stmt = (
            update(keys)
            .where(keys.c.key_id == key_id, keys.c.row_version == expected_row_version)
            .values(**changes, row_version=keys.c.row_version + 1)
            .returning(*keys.c)
        )
        mapping = self._writer().execute(stmt).mappings().first()
        if mapping is not None:
            return to_row(KeyRow, mapping)
        if self._conn.execute(select(keys.c.key_id).where(keys.c.key_id == key_id)).first() is None:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        raise ConflictError(f"Key '{key_id}' was modified concurrently; retry the request.")

    def delete_key(self, key_id: str) -> bool:
        """Delete a key with its material, tags and aliases (the end of a scheduled deletion).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        conn = self._writer()
        # Explicit rather than relying on ON DELETE CASCADE alone, so that the outcome does not
        # depend on a connection having foreign keys enabled.
        for table in (key_materials, key_tags, key_replicas):
            conn.execute(delete(table).where(table.c.key_id == key_id))
        conn.execute(delete(aliases).where(aliases.c.target_key_id == key_id))
        return conn.execute(delete(keys).where(keys.c.key_id == key_id)).rowcount == 1

    # --- key material versions -------------------------------------------------------------

    def insert_key_material(self, row: KeyMaterialRow) -> bool:
        """Store one wrapped key-material version; False when that (key, material id) exists.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the key does not exist (a foreign-key violation).
        """
        return self._insert_unless_exists(key_materials, row_values(row))

    def get_key_material(self, key_id: str, material_id: bytes) -> KeyMaterialRow | None:
        """One material version of a key, or None."""
        query = select(key_materials).where(
            key_materials.c.key_id == key_id, key_materials.c.material_id == material_id
        )
        mapping = self._conn.execute(query).mappings().first()
        return None if mapping is None else to_row(KeyMaterialRow, mapping)

    def list_key_materials(self, key_id: str) -> list[KeyMaterialRow]:
        """Every material version of a key, oldest first."""
        query = (
            select(key_materials)
            .where(key_materials.c.key_id == key_id)
            .order_by(key_materials.c.created_at, key_materials.c.material_id)
        )
        return [to_row(KeyMaterialRow, m) for m in self._conn.execute(query).mappings()]

    def set_key_material_state(self, key_id: str, material_id: bytes, state: str) -> bool:
        """Change a material version's state; False when there is no such version.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = (
            update(key_materials)
            .where(key_materials.c.key_id == key_id, key_materials.c.material_id == material_id)
            .values(state=state)
        )
        return self._writer().execute(stmt).rowcount == 1

    # --- tags ------------------------------------------------------------------------------

    def put_key_tags(self, key_id: str, tags: Mapping[str, str]) -> None:
        """Add tags to a key, overwriting the value of a tag key it already has.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the key does not exist (a foreign-key violation).
        """
        if not tags:
            return
        stmt = self._insert(key_tags)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key_tags.c.key_id, key_tags.c.tag_key],
            set_={"tag_value": stmt.excluded.tag_value},
        )
        rows = [{"key_id": key_id, "tag_key": k, "tag_value": v} for k, v in tags.items()]
        self._writer().execute(stmt, rows)

    def delete_key_tags(self, key_id: str, keys: Iterable[str]) -> None:
        """Remove these tag keys from a key; absent ones are ignored, as UntagResource does.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        wanted = list(keys)
        if wanted:
            self._writer().execute(
                delete(key_tags).where(key_tags.c.key_id == key_id, key_tags.c.tag_key.in_(wanted))
            )

    def list_key_tags(self, key_id: str) -> dict[str, str]:
        """A key's tags, ordered by tag key."""
        query = (
            select(key_tags.c.tag_key, key_tags.c.tag_value)
            .where(key_tags.c.key_id == key_id)
            .order_by(key_tags.c.tag_key)
        )
        return {k: v for k, v in self._conn.execute(query)}
