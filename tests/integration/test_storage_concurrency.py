"""Storage under several processes at once: racing migrations and concurrent writers.

Each worker is a separate process (spawned, so it shares nothing with pytest's process) with its
own `Database`, as uvicorn workers or separate nodes would have. Runs on SQLite and PostgreSQL;
the PostgreSQL case follows the same rule as the contract tests: skipped with a message when the
server is unreachable, failed instead when `CI` is set.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from keystead.errors import ConflictError
from keystead.storage import LATEST_VERSION, Database
from keystead.storage.testing import (
    PostgresUnavailableError,
    sample_account,
    sample_audit_event,
    sample_key,
    temporary_postgres_database,
)

_SPAWN = multiprocessing.get_context("spawn")
_WORKER_TIMEOUT_S = 120
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database (for SQLite: a file that does not exist yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'keystead.db'}"
        return
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(temporary_postgres_database())
        except PostgresUnavailableError as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
            pytest.skip(f"PostgreSQL unreachable, skipping the postgresql backend: {exc}")
        yield url


# --- workers (module-level so that spawned processes can import them) ---------------------------


def _report(results: Any, work: Callable[[], object]) -> None:
    try:
        results.put(("ok", work()))
    except BaseException:  # the parent must see every failure, including "database is locked"
        results.put(("error", traceback.format_exc()))


def _migrate(url: str, start: Barrier, results: Any) -> None:
    def work() -> int:
        start.wait(timeout=_WORKER_TIMEOUT_S)
        database = Database(url)
        try:
            return database.migrate()
        finally:
            database.dispose()

    _report(results, work)


def _increment_and_audit(url: str, worker: int, rounds: int, start: Barrier, results: Any) -> None:
    """Read-modify-write the key's counter `rounds` times, retrying lost optimistic checks."""

    def work() -> int:
        database = Database(url)
        conflicts = 0
        start.wait(timeout=_WORKER_TIMEOUT_S)
        try:
            for i in range(rounds):
                while True:
                    try:
                        with database.transaction() as tx:
                            key = tx.get_key(KEY_ID)
                            assert key is not None
                            tx.update_key(KEY_ID, key.row_version, description=str(int(key.description) + 1))
                            tx.append_audit_events([sample_audit_event(f"worker-{worker}-{i}")])
                        break
                    except ConflictError:
                        conflicts += 1
            return conflicts
        finally:
            database.dispose()

    _report(results, work)


def _run_workers(targets: list[tuple[Callable[..., None], tuple[object, ...]]]) -> list[object]:
    """Start the workers together, wait for all, and return their results or fail with their tracebacks."""
    start = _SPAWN.Barrier(len(targets))
    results = _SPAWN.Queue()
    processes = [_SPAWN.Process(target=fn, args=(*args, start, results)) for fn, args in targets]
    for process in processes:
        process.start()
    outcomes = []
    try:
        for _ in processes:
            outcomes.append(results.get(timeout=_WORKER_TIMEOUT_S))
    except queue.Empty:
        pytest.fail("a storage worker process did not finish in time")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
    errors = [detail for status, detail in outcomes if status == "error"]
    assert not errors, "\n".join(str(e) for e in errors)
    return [detail for _, detail in outcomes]


# --- tests ------------------------------------------------------------------------------------


def test_processes_migrating_a_new_database_at_once_all_end_at_the_latest_version(database_url: str) -> None:
    versions = _run_workers([(_migrate, (database_url,)) for _ in range(4)])
    assert versions == [LATEST_VERSION] * 4
    database = Database(database_url)
    try:
        assert database.schema_version() == LATEST_VERSION
    finally:
        database.dispose()


def test_concurrent_writers_in_two_processes_lose_no_update_and_never_see_a_locked_database(
    database_url: str,
) -> None:
    database = Database(database_url)
    database.migrate()
    with database.transaction() as tx:
        tx.insert_account(sample_account())
        tx.insert_key(sample_key(KEY_ID, description="0"))
    rounds = 150

    conflicts = _run_workers([(_increment_and_audit, (database_url, worker, rounds)) for worker in (1, 2)])

    try:
        with database.reader() as tx:
            key = tx.get_key(KEY_ID)
            events = tx.list_audit_events(None, after_seq=None, limit=10 * rounds)
    finally:
        database.dispose()
    assert key is not None
    assert (key.description, key.row_version) == (str(2 * rounds), 1 + 2 * rounds)
    assert len(events) == 2 * rounds
    if database.backend == "sqlite":
        # BEGIN IMMEDIATE serialises whole transactions, so a read-then-write never races.
        assert conflicts == [0, 0]


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_worker_gets_its_own_connections_and_leaves_the_parents_working(database_url: str) -> None:
    # uvicorn and gunicorn build the app, then fork workers: pooled connections must not be shared.
    database = Database(database_url)
    try:
        database.migrate()
        with database.transaction() as tx:  # the parent's pool now holds an open connection
            tx.insert_account(sample_account("111111111111"))
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 only if its own write commits
            status = 1
            try:
                with database.transaction() as tx:
                    tx.insert_account(sample_account("222222222222"))
                status = 0
            finally:
                os._exit(status)
        _, wait_status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(wait_status) == 0
        with database.transaction() as tx:
            tx.insert_account(sample_account("333333333333"))
        with database.reader() as tx:
            assert [a.account_id for a in tx.list_accounts()] == [
                "111111111111",
                "222222222222",
                "333333333333",
            ]
    finally:
        database.dispose()
