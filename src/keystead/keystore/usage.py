"""When each key was last used for cryptography (GetKeyLastUsage), tracked without a write per request.

Uses are noted in memory on the event loop (latest wins per key) and flushed in one batch by
the background task. A read merges the unflushed note of this process with the stored row, so a
node sees its own uses at once; other nodes' uses appear after their next flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keystead.blocking import run_blocking
from keystead.storage import Database, KeyRow
from keystead.storage.rows import KeyLastUsageRow

TRACKING_MIGRATION = 3  # usage is recorded from the migration that created its table
MAX_PENDING = 100_000


@dataclass(frozen=True, slots=True)
class LastUsage:
    usage: KeyLastUsageRow | None
    tracking_start: datetime


class KeyUsageTracker:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, KeyLastUsageRow] = {}
        self._tracking_since: datetime | None = None

    def note(self, key_id: str, operation: str, at: datetime, request_id: str) -> None:
        """Remember a successful cryptographic use (event loop only; no I/O)."""
        previous = self._pending.get(key_id)
        if previous is None or previous.used_at <= at:
            self._pending[key_id] = KeyLastUsageRow(key_id, operation, at, request_id)

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Write every noted use in one transaction; on failure the notes are kept for next time.

        Raises:
            StorageError: the database failed (the background task logs it and retries).
        """
        batch, self._pending = self._pending, {}
        if not batch:
            return 0
        try:
            await run_blocking(self._write, list(batch.values()))
        except Exception:
            for row in batch.values():
                if len(self._pending) < MAX_PENDING:
                    self.note(row.key_id, row.operation, row.used_at, row.request_id)
            raise
        return len(batch)

    async def last_usage(self, key: KeyRow) -> LastUsage:
        """The key's last use (stored or still in memory) and the date tracking began for it."""
        stored, since = await run_blocking(self._read, key.key_id)
        pending = self._pending.get(key.key_id)
        if pending is not None and (stored is None or pending.used_at > stored.used_at):
            stored = pending
        start = key.creation_date if since is None else max(key.creation_date, since)
        return LastUsage(stored, start)

    def _write(self, rows: list[KeyLastUsageRow]) -> None:
        with self._db.transaction() as tx:
            tx.record_key_last_usage(rows)

    def _read(self, key_id: str) -> tuple[KeyLastUsageRow | None, datetime | None]:
        with self._db.reader() as tx:
            if self._tracking_since is None:
                self._tracking_since = tx.migration_applied_at(TRACKING_MIGRATION)
            return tx.get_key_last_usage(key_id), self._tracking_since
