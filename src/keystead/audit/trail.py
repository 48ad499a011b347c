"""The durable audit trail with group commit.

A request's response waits until its event is durable. Writing each event in its own
transaction would cost one fsync per request; instead events queue up while a batch is being
written and the next batch takes all of them, so the cost of one commit is shared by every
request that arrived meanwhile (milliseconds of extra latency, no lost events).
Mutations don't come here: they write their event inside their own transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from keystead.blocking import run_blocking
from keystead.storage import Database, Tx
from keystead.storage import AuditEventRow

log = logging.getLogger(__name__)
MAX_BATCH = 1000


def event_row(event: Mapping[str, Any], account_id: str, event_time: datetime) -> AuditEventRow:
    return AuditEventRow(
        event_id=event["eventID"],
        account_id=account_id,
        event_time=event_time,
        event_source=event["eventSource"],
        event_name=event["eventName"],
        payload=json.dumps(event, separators=(",", ":"), sort_keys=True),
        seq=None,
    )


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[AuditEventRow, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: AuditEventRow) -> None:
        """Return once `row` is durably stored (batched with concurrent events).

        Raises:
            Exception: whatever the database raised; the request must then fail too.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await future

    def record_in(self, tx: Tx, row: AuditEventRow) -> None:
        """Record an event inside a caller's write transaction (mutations)."""
        tx.append_audit_events([row])

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
