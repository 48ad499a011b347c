"""When each long-term access key was last used, for GetAccessKeyLastUsed, recorded cheaply.

[IAM:id_credentials_access-keys][BM-IAM GetAccessKeyLastUsed] Every authenticated request notes
its key here, in memory (a dict store: no I/O on the request path). The latest use of each key
is written in one transaction per batch, at most FLUSH_SECONDS after the batch's first use, off
the event loop; the repository only ever moves a key's time forward, so batches from several
nodes or workers may land in any order. A crash loses at most one unflushed batch, so the
reported time can be up to FLUSH_SECONDS early, never later than the truth.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from keystead.blocking import run_blocking
from keystead.identity.ids import TEMPORARY_KEY_PREFIX
from keystead.storage import Database

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0


class AccessKeyUsage:
    def __init__(self, db: Database, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._db = db
        self._flush_seconds = flush_seconds
        self._pending: dict[str, tuple[datetime, str, str]] = {}
        self._scheduled = False

    def note(self, access_key_id: str, at: datetime, service: str, region: str) -> None:
        """Remember a use; the next background flush writes it. Never blocks."""
        if access_key_id.startswith(TEMPORARY_KEY_PREFIX):
            return  # STS credentials are not IAM access keys
        self._pending[access_key_id] = (at, service, region)
        if not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (a synchronous caller): flush() must be called explicitly
            self._scheduled = True
            loop.call_later(self._flush_seconds, lambda: loop.create_task(self._flush_in_background()))

    async def _flush_in_background(self) -> None:
        self._scheduled = False
        # Swapped here, on the event loop thread that also runs note(), so no use slips between.
        batch, self._pending = self._pending, {}
        try:
            await run_blocking(self._write, batch)
        except Exception:
            # Last-used times are advisory: a failed batch is logged, never a failed request.
            log.exception("could not record access key last use")

    def flush(self) -> int:
        """Write every pending use in one transaction; the number of keys written. Blocking.

        Raises:
            StorageError: the database failed (the batch is dropped, not retried).
        """
        batch, self._pending = self._pending, {}
        return self._write(batch)

    def _write(self, batch: dict[str, tuple[datetime, str, str]]) -> int:
        if not batch:
            return 0
        with self._db.transaction() as tx:
            for key_id, (at, service, region) in sorted(batch.items()):
                tx.record_access_key_use(key_id, at, service, region)
        return len(batch)
