"""The durable audit trail with group commit, and its periodic signed digests.

A request's response waits until its events are durable. Writing each event in its own
transaction would cost one fsync per request; instead events queue up while a batch is being
written and the next batch takes all of them, so the cost of one commit (and of one update of
the hash chain's head, see storage/audit_chain_repo.py) is shared by every request that arrived
meanwhile. Mutations don't come here: they write their events inside their own transaction,
where `Tx.append_audit_events` extends the same chain.

A background task signs a digest of the chain every `digest_interval` seconds when it grew
(audit/digest.py). A failing digest is logged and retried at the next interval; it never fails
requests, whose events are already durable and chained.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from keystead.audit.digest import DigestWriter
from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.storage import AuditEventRow, Database, Tx
from keystead.storage.rows import AuditDigestRow

log = logging.getLogger(__name__)
MAX_BATCH = 1000
DEFAULT_DIGEST_INTERVAL = 60.0
# The stored payload's exact form (it is hashed into the chain): compact, sorted keys, UTF-8.
# One encoder for all records; json.dumps with keywords would build a new one per call.
_PAYLOAD_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def event_row(event: Mapping[str, Any], event_time: datetime) -> AuditEventRow:
    """The stored form of a record; its account is the record's recipientAccountId."""
    return AuditEventRow(
        event_id=event["eventID"],
        account_id=event.get("recipientAccountId"),
        event_time=event_time,
        event_source=event["eventSource"],
        event_name=event["eventName"],
        payload=_PAYLOAD_ENCODER.encode(event),
        seq=None,
    )


class AuditTrail:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        digests: DigestWriter | None = None,
        digest_interval: float = DEFAULT_DIGEST_INTERVAL,
    ) -> None:
        self._db = db
        self._clock = clock
        self._digests = digests
        self._digest_interval = digest_interval
        self._pending: list[tuple[AuditEventRow, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._digest_task: asyncio.Task[None] | None = None

    async def record(self, rows: Sequence[AuditEventRow]) -> None:
        """Return once every row is durably stored and chained (batched with concurrent events).

        Raises:
            Exception: whatever the database raised; the request must then fail too.
        """
        if not rows:
            return
        loop = asyncio.get_running_loop()
        futures = []
        for row in rows:
            future: asyncio.Future[None] = loop.create_future()
            self._pending.append((row, future))
            futures.append(future)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        self._start_digests()
        await asyncio.gather(*futures)

    def record_in(self, tx: Tx, rows: Sequence[AuditEventRow]) -> None:
        """Record events inside a caller's write transaction (mutations, background actions)."""
        tx.append_audit_events(rows)

    def write_digest(self) -> AuditDigestRow | None:
        """Sign the chain now, if it grew since the last digest (blocking; for the CLI and tests).

        Raises:
            StorageError, KeyringError: the database or the signing key failed.
        """
        if self._digests is None:
            return None
        with self._db.transaction() as tx:
            return self._digests.write(tx, self._clock.now())

    def _start_digests(self) -> None:
        if self._digests is not None and (self._digest_task is None or self._digest_task.done()):
            self._digest_task = asyncio.create_task(self._digest_loop())

    async def _digest_loop(self) -> None:
        digests = self._digests
        if digests is None:
            return
        while True:
            await asyncio.sleep(self._digest_interval)
            try:
                await run_blocking(self._periodic_digest, digests)
            except Exception:  # the next interval retries; requests are unaffected
                log.exception("writing an audit digest failed")

    def _periodic_digest(self, digests: DigestWriter) -> None:
        # Every worker process runs this loop; half an interval since the newest digest (any
        # process's) keeps several workers from signing the same few events one after another.
        with self._db.transaction() as tx:
            digests.write(tx, self._clock.now(), min_interval_seconds=self._digest_interval / 2)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await run_blocking(self._write, [row for row, _ in batch])
            except Exception as exc:  # every waiter learns the batch failed
                log.exception("audit batch of %d events failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _write(self, rows: list[AuditEventRow]) -> None:
        with self._db.transaction() as tx:
            tx.append_audit_events(rows)
