"""Contract: versioned migrations (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text

from keystead.clock import FixedClock
from keystead.storage import LATEST_VERSION, Database, SchemaVersionError
from keystead.storage.engine import normalise_url
from keystead.storage.schema import metadata, schema_migrations
from keystead.storage.testing import T0


@pytest.fixture
def raw_engine(database_url: str) -> Iterator[Engine]:
    """A plain engine on the same database, to look at it from outside the storage layer."""
    engine = create_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def fresh(database_url: str) -> Iterator[Database]:
    database = Database(database_url, clock=FixedClock(T0))
    yield database
    database.dispose()


def test_an_empty_database_is_at_version_zero(fresh: Database) -> None:
    assert fresh.schema_version() == 0


def test_migrate_brings_an_empty_database_to_the_latest_version(fresh: Database) -> None:
    assert fresh.migrate() == LATEST_VERSION
    assert fresh.schema_version() == LATEST_VERSION
    fresh.require_current_schema()


def test_migrating_twice_is_a_no_op(fresh: Database, raw_engine: Engine) -> None:
    fresh.migrate()
    with raw_engine.connect() as conn:
        before = conn.execute(select(schema_migrations)).all()
    assert fresh.migrate() == LATEST_VERSION
    with raw_engine.connect() as conn:
        assert conn.execute(select(schema_migrations)).all() == before
    assert [row.version for row in before] == list(range(1, LATEST_VERSION + 1))


def test_an_unmigrated_database_fails_the_start_up_check(fresh: Database) -> None:
    with pytest.raises(SchemaVersionError):
        fresh.require_current_schema()


def test_a_database_from_a_newer_keystead_is_refused(fresh: Database, raw_engine: Engine) -> None:
    fresh.migrate()
    with raw_engine.begin() as conn:
        conn.execute(
            schema_migrations.insert().values(version=LATEST_VERSION + 1, description="future", applied_at=T0)
        )
    with pytest.raises(SchemaVersionError):
        fresh.migrate()
    with pytest.raises(SchemaVersionError):
        fresh.require_current_schema()


def _describe(engine: Engine, table_names: list[str]) -> dict[str, Any]:
    """What the schema must agree on: columns, nullability, keys, indexes, unique constraints."""
    inspector = inspect(engine)
    described = {}
    for name in table_names:
        described[name] = {
            "columns": {
                c["name"]: (
                    type(c["type"]).__name__,
                    getattr(c["type"], "collation", None),
                    getattr(c["type"], "timezone", None),
                    c["nullable"],
                )
                for c in inspector.get_columns(name)
            },
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]))
                for i in inspector.get_indexes(name)
                if not i.get("unique")
            ),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
        }
    return described


def test_the_migrated_schema_equals_the_tables_the_repositories_query(
    database_url: str, fresh: Database, raw_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fresh.migrate()
    names = sorted(metadata.tables)
    assert sorted(inspect(raw_engine).get_table_names()) == names
    reference_url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'r.db'}"
    if raw_engine.dialect.name == "postgresql":
        # Build the reference from schema.py in a second schema of the same database.
        with raw_engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA reference"))
            conn.execute(text("SET search_path TO reference"))
            metadata.create_all(conn)
        reference = create_engine(
            normalise_url(database_url), connect_args={"options": "-c search_path=reference"}
        )
    else:
        reference = create_engine(reference_url)
        metadata.create_all(reference)
    try:
        assert _describe(raw_engine, names) == _describe(reference, names)
    finally:
        reference.dispose()


def test_sorted_identifier_columns_compare_by_code_point(fresh: Database, raw_engine: Engine) -> None:
    fresh.migrate()
    columns = {c["name"]: c for c in inspect(raw_engine).get_columns("aliases")}
    # SQLite's default collation is already binary; PostgreSQL's must be pinned to "C".
    expected = "C" if raw_engine.dialect.name == "postgresql" else None
    assert getattr(columns["alias_name"]["type"], "collation", None) == expected
