"""The rotating STS token keys, shared by every node through the database and cached in memory.

A token key seals session tokens for ROTATE_AFTER; then whichever node next issues a token adds
a new one (a lost race just adopts the winner's). Old keys keep opening the tokens they sealed
until those have expired, and are dropped after RETAIN_FOR. Keys are stored wrapped under the
keyring (`WrapPurpose.STS_TOKEN_KEY`), unwrapped once per process.

Verification never needs the database once a key is cached; a token sealed by a key this node
has not seen yet (another node just rotated) costs one read, after which it is cached too.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.session_tokens import new_token_key
from keystead.storage import Database
from keystead.storage.rows import StsTokenKeyRow

ROTATE_AFTER = timedelta(hours=24)
# Longest session (GetSessionToken/GetFederationToken: 36 h) sealed at the very end of a key's life.
RETAIN_FOR = ROTATE_AFTER + timedelta(hours=36) + timedelta(hours=1)
# How long a key id unknown to the database is remembered as unknown: forged tokens naming random
# key ids must not each cost a database read.
NEGATIVE_CACHE_SECONDS = 30.0


class TokenKeys:
    """The token keys of this deployment: the current one for sealing, any retained one for opening."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock
        self._keys: dict[int, bytes] = {}
        self._created: dict[int, datetime] = {}
        self._unknown: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def current(self) -> tuple[int, bytes]:
        """The key new tokens are sealed under, rotating it when it is due (first use: one write)."""
        newest = max(self._keys, default=None)
        if newest is not None and self._clock.now() - self._created[newest] < ROTATE_AFTER:
            return newest, self._keys[newest]
        async with self._lock:
            await run_blocking(self._refresh_or_rotate)
        newest = max(self._keys)
        return newest, self._keys[newest]

    def cached(self, key_id: int) -> bytes | None:
        """A key already in memory (no I/O), or None."""
        return self._keys.get(key_id)

    async def lookup(self, key_id: int) -> bytes | None:
        """A key for opening a token: from memory, else once from the database."""
        key = self._keys.get(key_id)
        if key is not None:
            return key
        if self._unknown.get(key_id, 0.0) > time.monotonic() or not 0 < key_id <= 0xFFFFFFFF:
            return None
        row = await run_blocking(self._read_one, key_id)
        if row is None:
            if len(self._unknown) > 1000:
                self._unknown.clear()
            self._unknown[key_id] = time.monotonic() + NEGATIVE_CACHE_SECONDS
            return None
        self._adopt(row)
        return self._keys[key_id]

    def _read_one(self, key_id: int) -> StsTokenKeyRow | None:
        with self._db.reader() as tx:
            return tx.get_sts_token_key(key_id)

    def _adopt(self, row: StsTokenKeyRow) -> None:
        self._keys[row.key_id] = self._keyring.unwrap(row.key_wrapped, purpose=WrapPurpose.STS_TOKEN_KEY)
        self._created[row.key_id] = row.created_at
        self._unknown.pop(row.key_id, None)

    def _refresh_or_rotate(self) -> None:
        now = self._clock.now()
        with self._db.reader() as tx:
            rows = tx.sts_token_keys()
        for row in rows:
            if row.key_id not in self._keys:
                self._adopt(row)
        if rows and now - rows[-1].created_at < ROTATE_AFTER:
            return
        with self._db.transaction() as tx:
            next_id = tx.max_sts_token_key_id() + 1
            wrapped = self._keyring.wrap(new_token_key(), purpose=WrapPurpose.STS_TOKEN_KEY)
            tx.insert_sts_token_key(StsTokenKeyRow(next_id, wrapped, now))
            tx.delete_sts_token_keys_before(now - RETAIN_FOR)
        # Whether our insert won or another node's did, the stored key with that id is the one.
        row = self._read_one(next_id)
        if row is not None:
            self._adopt(row)
        for key_id in [k for k, created in self._created.items() if now - created > RETAIN_FOR]:
            self._keys.pop(key_id, None)
            self._created.pop(key_id, None)
