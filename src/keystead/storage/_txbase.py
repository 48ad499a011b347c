"""What every repository mixin of `Tx` shares: the connection, the read-only guard, dialect inserts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite

from keystead.storage.errors import ReadOnlyTransactionError

_RowT = TypeVar("_RowT")


class TxBase:
    """One open transaction on one connection. Not thread-safe: use it from one thread."""

    __slots__ = ("_conn", "_writable")

    def __init__(self, conn: Connection, *, writable: bool) -> None:
        self._conn = conn
        self._writable = writable

    @property
    def writable(self) -> bool:
        return self._writable

    def _writer(self) -> Connection:
        if not self._writable:
            raise ReadOnlyTransactionError("write attempted in a read-only transaction")
        return self._conn

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects spell ON CONFLICT the same way; only the construct's class differs.
        if self._conn.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _insert_unless_exists(self, table: Table, values: Mapping[str, Any]) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING; True when the row was written.

        A unique violation must not raise: on PostgreSQL it would abort the whole transaction.
        """
        stmt = self._insert(table).values(dict(values)).on_conflict_do_nothing()
        # SQLAlchemy keeps an INSERT's rowcount only when asked (it is -1 otherwise on psycopg).
        result = self._writer().execute(stmt.execution_options(preserve_rowcount=True))
        return result.rowcount == 1


def check_limit(limit: int) -> None:
    """Reject a page size below 1 (the protocol layer validates clients' limits before this).

    Raises:
        ValueError: limit is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def row_values(row: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row dataclass as column values (shallow: `dataclasses.asdict` deep-copies every field)."""
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name not in exclude}


def to_row(cls: type[_RowT], mapping: RowMapping) -> _RowT:
    """Build a row dataclass from a result row whose column names are its field names."""
    return cls(**mapping)
