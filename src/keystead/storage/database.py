"""`Database`: the engine for one URL, its transactions and its migrations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from keystead.clock import Clock, SystemClock
from keystead.storage import migrations
from keystead.storage.engine import SQLITE_BEGIN_OPTION, build_engine, normalise_url
from keystead.storage.errors import SchemaVersionError, StorageError
from keystead.storage.tx import Tx


class Database:
    """A SQLite or PostgreSQL database, reached through one engine (connection pool) per process.

    Calls are synchronous and short: the service layer runs them in a thread pool.
    """

    def __init__(self, url: str, *, clock: Clock | None = None, pool_size: int = 5) -> None:
        """Parse `url` and build the engine; no connection is opened yet.

        Raises:
            ValueError: the URL is not a supported SQLite or PostgreSQL URL.
        """
        self._url = normalise_url(url)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._engine = build_engine(self._url, pool_size=pool_size)
        self._pid = os.getpid()
        self._fork_lock = threading.Lock()
        self._write_options: dict[str, object]
        self._read_options: dict[str, object]
        if self.backend == "sqlite":
            self._write_options = {SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"}
            self._read_options = {SQLITE_BEGIN_OPTION: "BEGIN DEFERRED"}
        else:
            # Writes run at READ COMMITTED (the engine default) and rely on optimistic checks;
            # a reader gets one snapshot for all its statements.
            self._write_options = {}
            self._read_options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._url.get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for logs and error messages."""
        return self._url.render_as_string(hide_password=True)

    def migrate(self) -> int:
        """Apply pending schema migrations (idempotent, safe when processes race) and return the version.

        Raises:
            SchemaVersionError: the database was migrated by a newer Keystead.
            StorageError: the database failed.
        """
        with self._connection(self._write_options) as conn:
            return migrations.migrate(conn, self._clock.now())

    def schema_version(self) -> int:
        """The database's schema version; 0 when it was never migrated.

        Raises:
            StorageError: the database failed.
        """
        with self._connection(self._read_options) as conn:
            return migrations.read_version(conn)

    def require_current_schema(self) -> None:
        """Check at start-up that the schema is the one this code was written for.

        Raises:
            SchemaVersionError: the schema is older (run `keystead migrate`) or newer than this code.
            StorageError: the database failed.
        """
        found = self.schema_version()
        if found != migrations.LATEST_VERSION:
            raise SchemaVersionError(
                f"database schema is version {found}, this Keystead needs {migrations.LATEST_VERSION}; "
                "run `keystead migrate`"
            )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction: commits when the block exits, rolls back if it raises.

        Raises:
            StorageError: the database failed (the caller's own exceptions pass through unchanged).
        """
        with self._connection(self._write_options) as conn:
            yield Tx(conn, writable=True)

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        """One read-only transaction over a consistent snapshot; write methods raise in it.

        Raises:
            StorageError: the database failed.
        """
        with self._connection(self._read_options) as conn:
            yield Tx(conn, writable=False)

    def dispose(self) -> None:
        """Close every pooled connection of this process."""
        self._engine.dispose()

    @contextmanager
    def _connection(self, options: dict[str, object]) -> Iterator[Connection]:
        try:
            with self._engine_for_this_process().connect() as conn:
                conn.execution_options(**options)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            # SQLAlchemy's and the driver's exceptions stop here: the layers above know keystead
            # errors only. The cause stays chained for the log.
            raise StorageError() from exc

    def _engine_for_this_process(self) -> Engine:
        # A forked worker must not share its parent's pooled connections (two processes on one
        # socket or SQLite handle). Dropping them without closing leaves the parent's intact.
        if os.getpid() != self._pid:
            with self._fork_lock:
                if os.getpid() != self._pid:
                    self._engine.dispose(close=False)
                    self._pid = os.getpid()
        return self._engine
