"""Database URLs and engines: SQLite (WAL, one file, several worker processes) and PostgreSQL.

SQLite settings and why:
- `journal_mode=WAL`: readers never block the writer and the writer never blocks readers.
- `synchronous=FULL`: in WAL mode, NORMAL may lose the last transactions on power loss. A
  created key or an acknowledged audit event must survive, so every commit fsyncs the WAL; the
  audit trail's group commit keeps the per-request cost of that fsync shared.
- `busy_timeout=5000`: a writer waits up to 5 s for another process's write to finish instead
  of failing at once.
- `foreign_keys=ON`: SQLite leaves them off unless asked, per connection.
- Write transactions start with `BEGIN IMMEDIATE`, taking the write lock up front (and waiting
  for it under the busy timeout). A deferred transaction that reads then writes would have to
  upgrade its lock, and SQLite fails such an upgrade at once with "database is locked" when
  another process wrote in between. The sqlite3 module's own BEGIN handling is switched off so
  that we emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite dialect documentation).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

# The execution option the "begin" hook reads to choose how a SQLite transaction starts.
SQLITE_BEGIN_OPTION = "keystead_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 5000

_POSTGRES_DRIVER_NAMES = ("postgresql", "postgres", "postgresql+psycopg")


def default_database_url(data_dir: str | os.PathLike[str]) -> str:
    """The URL of the default database: `<data-dir>/keystead.db`."""
    return f"sqlite:///{Path(data_dir).resolve() / 'keystead.db'}"


def normalise_url(url: str) -> URL:
    """Parse a database URL, pinning PostgreSQL to the psycopg 3 driver.

    Raises:
        ValueError: the URL names an unsupported backend or driver, or an in-memory SQLite database.
    """
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_DRIVER_NAMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            # An in-memory database is private to one connection, so it cannot serve a pool of
            # threads, let alone several processes. Tests use a file under their tmp_path.
            raise ValueError("in-memory SQLite is not supported; give a file path: sqlite:///<path>")
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use sqlite:///<path> or postgresql://user@host/dbname"
    )


def build_engine(url: URL, *, pool_size: int) -> Engine:
    """Create the engine for `url` (already normalised), configured as this module describes.

    Raises:
        ValueError: the URL's backend is not supported.
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size)
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(url, pool_size=pool_size)
    raise ValueError(f"unsupported backend {url.get_backend_name()!r}")


def _postgres_engine(url: URL, *, pool_size: int) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # Nodes behind a load balancer outlive database restarts and failovers; a stale pooled
        # connection is detected on checkout rather than failing the request.
        pool_pre_ping=True,
        pool_recycle=1800,
        isolation_level="READ COMMITTED",
        connect_args={"connect_timeout": 10},
    )


def _sqlite_engine(url: URL, *, pool_size: int) -> Engine:
    path = Path(str(url.database))
    _create_private_file(path)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # The sqlite3 module's own timeout is also SQLite's busy handler; set both to one value.
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only; SQLite gives -wal/-shm the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Stop the sqlite3 module from emitting BEGIN itself; `_begin_sqlite_transaction` does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _ensure_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _ensure_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting), retrying while other processes hold it.

    Switching needs an exclusive lock, and SQLite reports "database is locked" for it at once,
    without consulting the busy handler, when several processes open a new file together.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))
    if str(mode).lower() != "wal":
        # A driver error, so that it surfaces like any other database failure (a StorageError).
        raise sqlite3.OperationalError(
            f"SQLite refused WAL mode (got {mode!r}); is the file on a network share?"
        )


def _begin_sqlite_transaction(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "BEGIN"))
