"""Repositories for KMS grants and the per-key grant state (version counter and count)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from keystead.storage._txbase import TxBase, check_limit, row_values, to_row
from keystead.storage.rows import GrantRow
from keystead.storage.schema import grants, key_grant_states


class GrantRepository(TxBase):
    __slots__ = ()

    def insert_grant(self, row: GrantRow) -> tuple[int, int]:
        """Store a grant and bump its key's grant state; returns (new version, new grant count).

        The counter row is updated before the insert, so concurrent creators on one key serialise
        on it (a row lock on PostgreSQL, the write lock on SQLite) and the returned count is exact.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the key does not exist, or the grant id is taken.
        """
        state = self._bump_grant_state(row.key_id, +1)
        self._writer().execute(grants.insert().values(row_values(row)))
        return state

    def delete_grant(self, key_id: str, grant_id: str) -> int | None:
        """Delete one grant of a key; the key's new grant version, or None when there was no such grant.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = delete(grants).where(grants.c.key_id == key_id, grants.c.grant_id == grant_id)
        if self._writer().execute(stmt).rowcount != 1:
            return None
        return self._bump_grant_state(key_id, -1)[0]

    def get_grant(self, grant_id: str) -> GrantRow | None:
        """The grant with this id (grant ids are globally unique), or None."""
        mapping = self._conn.execute(select(grants).where(grants.c.grant_id == grant_id)).mappings().first()
        return None if mapping is None else to_row(GrantRow, mapping)

    def find_grants_by_name(self, key_id: str, name: str) -> list[GrantRow]:
        """The grants of a key that carry this Name (CreateGrant's idempotency lookup)."""
        query = select(grants).where(grants.c.key_id == key_id, grants.c.name == name)
        return [to_row(GrantRow, m) for m in self._conn.execute(query.order_by(grants.c.grant_id)).mappings()]

    def list_grants(
        self, key_id: str, *, grantee: str | None, grant_id: str | None, after: str | None, limit: int
    ) -> list[GrantRow]:
        """One page of a key's grants ordered by grant id, optionally filtered, starting after `after`.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(grants).where(grants.c.key_id == key_id)
        if grantee is not None:
            query = query.where(grants.c.grantee_principal == grantee)
        if grant_id is not None:
            query = query.where(grants.c.grant_id == grant_id)
        if after is not None:
            query = query.where(grants.c.grant_id > after)
        found = self._conn.execute(query.order_by(grants.c.grant_id).limit(limit))
        return [to_row(GrantRow, m) for m in found.mappings()]

    def list_retirable_grants(
        self, retiring_principal: str, region: str, *, after: str | None, limit: int
    ) -> list[GrantRow]:
        """One page of the grants in a region whose retiring principal is this one, by grant id.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(grants).where(
            grants.c.retiring_principal == retiring_principal, grants.c.region == region
        )
        if after is not None:
            query = query.where(grants.c.grant_id > after)
        found = self._conn.execute(query.order_by(grants.c.grant_id).limit(limit))
        return [to_row(GrantRow, m) for m in found.mappings()]

    def all_grants_of_key(self, key_id: str) -> tuple[int, list[GrantRow]]:
        """Every grant of a key with the grant version they belong to (one snapshot), to build an index."""
        version = self.grant_version(key_id)
        query = select(grants).where(grants.c.key_id == key_id).order_by(grants.c.grant_id)
        return version, [to_row(GrantRow, m) for m in self._conn.execute(query).mappings()]

    def grant_version(self, key_id: str) -> int:
        """The key's grant version: 0 when it never had a grant, bumped by every grant change."""
        query = select(key_grant_states.c.version).where(key_grant_states.c.key_id == key_id)
        return int(self._conn.execute(query).scalar() or 0)

    def count_grants(self, key_id: str) -> int:
        """How many grants a key has (from the counter row, not by counting)."""
        query = select(key_grant_states.c.grant_count).where(key_grant_states.c.key_id == key_id)
        return int(self._conn.execute(query).scalar() or 0)

    def _bump_grant_state(self, key_id: str, delta: int) -> tuple[int, int]:
        conn = self._writer()
        conn.execute(
            self._insert(key_grant_states)
            .values(key_id=key_id, version=0, grant_count=0)
            .on_conflict_do_nothing()
        )
        stmt = (
            update(key_grant_states)
            .where(key_grant_states.c.key_id == key_id)
            .values(
                version=key_grant_states.c.version + 1,
                grant_count=func.max(key_grant_states.c.grant_count + delta, 0)
                if conn.dialect.name == "sqlite"
                else func.greatest(key_grant_states.c.grant_count + delta, 0),
            )
            .returning(key_grant_states.c.version, key_grant_states.c.grant_count)
        )
        version, count = self._writer().execute(stmt).one()
        return int(version), int(count)
