"""The periodic work of a server process: flush key-usage notes, delete keys whose waiting period
is over, rotate keys that are due, expire imported material.

Every worker process runs this loop; the sweeps are single-flight per key through the database
(see keystore/sweeps.py), so several workers or nodes never do the same work twice. Started and
stopped by the ASGI lifespan (server/app.py).
"""

from __future__ import annotations

import asyncio
import logging
import random

from keystead.audit.events import build_service_event
from keystead.audit.trail import event_row
from keystead.blocking import run_blocking
from keystead.keystore.keys import key_arn_of
from keystead.keystore.sweeps import KeySweeper, ServiceEvent, SweepReport
from keystead.keystore.usage import KeyUsageTracker
from keystead.storage import Tx

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 60.0


def record_service_event(tx: Tx, event: ServiceEvent) -> None:
    """Append the CloudTrail record of a change KMS made on its own, in the change's transaction."""
    key = event.key
    record = build_service_event(
        event.event_name,
        account_id=key.account_id,
        region=key.region,
        event_time=event.at,
        resources=[{"accountId": key.account_id, "type": "AWS::KMS::Key", "ARN": key_arn_of(key)}],
        additional_event_data=event.details,
    )
    tx.append_audit_events([event_row(record, event.at)])


class BackgroundTasks:
    def __init__(self, sweeper: KeySweeper, usage: KeyUsageTracker, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self._sweeper = sweeper
        self._usage = usage
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> SweepReport:
        """One round: flush usage notes, then every sweep (off the event loop)."""
        try:
            await self._usage.flush()
        except Exception:
            log.exception("flushing key usage failed; the notes are kept for the next round")
        return await run_blocking(self._sweeper.run_once)

    def start(self) -> None:
        """Begin the periodic loop on the running event loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="keystead-background")

    async def stop(self) -> None:
        """Stop the loop and flush what is left, so a clean shutdown loses no usage notes."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self._usage.flush()
        except Exception:
            log.exception("final flush of key usage failed")

    async def _loop(self) -> None:
        while True:
            # Jitter spreads the workers' rounds so they rarely contend for the same keys.
            await asyncio.sleep(self._interval * random.uniform(0.5, 1.0))
            try:
                report = await self.run_once()
            except Exception:
                log.exception("background round failed; retrying next round")
                continue
            if report.deleted or report.rotated or report.expired:
                log.info(
                    "background: deleted %d, rotated %d, expired material of %d keys",
                    len(report.deleted), len(report.rotated), len(report.expired),
                )
