"""One parametrized fixture runs every storage contract test on SQLite and on PostgreSQL.

The PostgreSQL case needs the server on 127.0.0.1:5432 (or $KEYSTEAD_TEST_POSTGRES_URL). When it
is unreachable the case is skipped with a message, except in CI (the `CI` variable set), where a
silently skipped backend would hide a broken one, so it fails.

`db` is a migrated, empty database. On PostgreSQL it is one throw-away database per session,
emptied before each test (creating and migrating a database costs ~0.3 s; TRUNCATE a few ms).
`database_url` is a brand-new empty database per test, for the migration tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from keystead.clock import FixedClock
from keystead.storage import Database
from keystead.storage.engine import normalise_url
from keystead.storage.schema import metadata, schema_migrations
from keystead.storage.testing import T0, PostgresUnavailableError, temporary_postgres_database


def _enter_postgres_database(cleanup: ExitStack) -> str:
    try:
        return cleanup.enter_context(temporary_postgres_database())
    except PostgresUnavailableError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable, skipping the postgresql backend: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty (unmigrated) database on the backend, removed after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'keystead.db'}"
        return
    with ExitStack() as cleanup:
        yield _enter_postgres_database(cleanup)


@pytest.fixture(scope="session")
def _shared_postgres() -> Iterator[tuple[str, Engine]]:
    with ExitStack() as cleanup:
        url = _enter_postgres_database(cleanup)
        migrated = Database(url)
        migrated.migrate()
        migrated.dispose()
        engine = create_engine(normalise_url(url), pool_size=1)
        cleanup.callback(engine.dispose)
        yield url, engine


def _empty_all_tables(engine: Engine) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables if t is not schema_migrations)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database on the backend, whose clock stands still at T0."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'keystead.db'}"
    else:
        url, engine = request.getfixturevalue("_shared_postgres")
        _empty_all_tables(engine)
    database = Database(url, clock=FixedClock(T0))
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()
