"""Database URLs and the SQLite connection settings (durability, locking, file mode)."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystead.storage import Database, default_database_url
from keystead.storage.engine import SQLITE_BUSY_TIMEOUT_MS, build_engine, normalise_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://keystead@db.internal:5432/keystead",
        "postgres://keystead@db.internal:5432/keystead",
        "postgresql+psycopg://keystead@db.internal:5432/keystead",
    ],
)
def test_postgresql_urls_are_pinned_to_psycopg_3(url: str) -> None:
    normalised = normalise_url(url)
    assert normalised.drivername == "postgresql+psycopg"
    assert (normalised.host, normalised.database) == ("db.internal", "keystead")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x?mode=memory&uri=true",
        "mysql://x@y/z",
        "postgresql+psycopg2://x@y/z",
    ],
)
def test_unsupported_urls_are_refused_with_a_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(url)


def test_the_default_url_is_keystead_db_in_the_data_dir(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/keystead.db"


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "keystead.db"


@pytest.fixture
def sqlite_db(sqlite_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{sqlite_path}")
    database.migrate()
    yield database
    database.dispose()


def test_sqlite_connections_are_wal_fully_synchronous_with_foreign_keys_and_a_busy_timeout(
    sqlite_path: Path,
) -> None:
    engine = build_engine(normalise_url(f"sqlite:///{sqlite_path}"), pool_size=1)
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }


def test_the_sqlite_file_and_its_directory_are_created_private(
    sqlite_db: Database, sqlite_path: Path
) -> None:
    assert stat.S_IMODE(sqlite_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sqlite_path.parent.stat().st_mode) == 0o700


def _try_to_take_the_write_lock(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_sqlite_write_transaction_holds_the_write_lock_from_its_first_statement(
    sqlite_db: Database, sqlite_path: Path
) -> None:
    with sqlite_db.transaction() as tx:
        tx.keyring_terms()  # a read only: a deferred BEGIN would not have locked anything yet
        assert not _try_to_take_the_write_lock(sqlite_path)
    assert _try_to_take_the_write_lock(sqlite_path)


def test_a_sqlite_reader_does_not_block_writers(sqlite_db: Database, sqlite_path: Path) -> None:
    with sqlite_db.reader() as tx:
        tx.keyring_terms()
        assert _try_to_take_the_write_lock(sqlite_path)


def test_the_display_url_masks_the_password() -> None:
    database = Database("postgresql://keystead:s3cret@db.internal/keystead")
    try:
        assert "s3cret" not in database.display_url
        assert database.backend == "postgresql"
    finally:
        database.dispose()
