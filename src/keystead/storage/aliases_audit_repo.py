"""Repositories for KMS aliases and the audit trail."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Executable, delete, select, update

from keystead.storage._txbase import TxBase, check_limit, row_values, to_row
from keystead.storage.rows import AliasRow, AuditEventRow
from keystead.storage.schema import aliases, audit_events

_APPEND_EVENTS: dict[str, Executable] = {}  # dialect name -> INSERT ... ON CONFLICT DO NOTHING
_EVENT_COLUMNS = tuple(f.name for f in dataclasses.fields(AuditEventRow) if f.name != "seq")


class AliasRepository(TxBase):
    __slots__ = ()

    def insert_alias(self, row: AliasRow) -> bool:
        """Create an alias; False (nothing written) when the name is taken in that account and region.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the target key does not exist (a foreign-key violation).
        """
        return self._insert_unless_exists(aliases, row_values(row))

    def get_alias(self, account_id: str, region: str, alias_name: str) -> AliasRow | None:
        """The alias with this name in an account and region, or None."""
        query = select(aliases).where(
            aliases.c.account_id == account_id, aliases.c.region == region, aliases.c.alias_name == alias_name
        )
        mapping = self._conn.execute(query).mappings().first()
        return None if mapping is None else to_row(AliasRow, mapping)

    def list_aliases(
        self, account_id: str, region: str, *, key_id: str | None, after: str | None, limit: int
    ) -> list[AliasRow]:
        """One page of aliases, ordered by name, starting after `after`; only those of `key_id` if given.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(aliases).where(aliases.c.account_id == account_id, aliases.c.region == region)
        if key_id is not None:
            query = query.where(aliases.c.target_key_id == key_id)
        if after is not None:
            query = query.where(aliases.c.alias_name > after)
        found = self._conn.execute(query.order_by(aliases.c.alias_name).limit(limit))
        return [to_row(AliasRow, m) for m in found.mappings()]

    def update_alias(
        self, account_id: str, region: str, alias_name: str, target_key_id: str, at: datetime
    ) -> bool:
        """Point an alias at another key; False when there is no such alias.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the target key does not exist (a foreign-key violation).
        """
        stmt = (
            update(aliases)
            .where(
                aliases.c.account_id == account_id,
                aliases.c.region == region,
                aliases.c.alias_name == alias_name,
            )
            .values(target_key_id=target_key_id, last_updated_date=at)
        )
        return self._writer().execute(stmt).rowcount == 1

    def delete_alias(self, account_id: str, region: str, alias_name: str) -> bool:
        """Delete an alias; False when there is no such alias.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = delete(aliases).where(
            aliases.c.account_id == account_id, aliases.c.region == region, aliases.c.alias_name == alias_name
        )
        return self._writer().execute(stmt).rowcount == 1


class AuditRepository(TxBase):
    __slots__ = ()

    def append_audit_events(self, rows: Sequence[AuditEventRow]) -> None:
        """Append a batch of events in one executemany; the database assigns each its `seq`.

        An event whose `event_id` is already stored is skipped, so re-sending a batch whose commit
        outcome was unknown (a dropped connection) does not duplicate it.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        if not rows:
            return
        conn = self._writer()
        # Built once per dialect: this runs for every group-commit batch of the audit trail.
        stmt = _APPEND_EVENTS.get(conn.dialect.name)
        if stmt is None:
            stmt = self._insert(audit_events).on_conflict_do_nothing(index_elements=[audit_events.c.event_id])
            _APPEND_EVENTS[conn.dialect.name] = stmt
        conn.execute(stmt, [{name: getattr(r, name) for name in _EVENT_COLUMNS} for r in rows])

    def list_audit_events(
        self, account_id: str | None, *, after_seq: int | None, limit: int
    ) -> list[AuditEventRow]:
        """One page of events in append order (by `seq`), after `after_seq`; every account's when None.

        On PostgreSQL, `seq` comes from a sequence, which orders by insert, not by commit: a reader
        paging with `after_seq` while writers commit may see a lower `seq` appear behind its cursor.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = select(audit_events)
        if account_id is not None:
            query = query.where(audit_events.c.account_id == account_id)
        if after_seq is not None:
            query = query.where(audit_events.c.seq > after_seq)
        found = self._conn.execute(query.order_by(audit_events.c.seq).limit(limit))
        return [to_row(AuditEventRow, m) for m in found.mappings()]
