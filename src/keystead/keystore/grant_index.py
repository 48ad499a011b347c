"""The in-memory grant index: every KMS authorization asks it, so it must not touch the database.

One `KeyGrants` per key, indexed by grant id and by grantee principal ARN, so finding the grants
a caller holds costs the same with 10 grants on the key as with 50,000. The index follows the
key's grant version (`key_grant_states.version`): changes made on this node are applied in
place; changes made by other nodes are noticed by polling the version at most every
`poll_seconds` per key (one indexed row read), and then the key's grants are reloaded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.keystore.grants import Grant
from keystead.storage import Database

POLL_SECONDS = 2.0
MAX_INDEXED_KEYS = 10_000
_MAX_REMEMBERED_REMOVALS = 10_000
# A token names a grant the index may not have loaded yet. Trust it when it was issued no
# earlier than this before the index's last look at the database (the commit follows the
# token's issue by the length of one transaction).
TOKEN_SLACK = timedelta(seconds=10)


@dataclass(slots=True)
class KeyGrants:
    """The grants of one key as of `version`."""

    key_id: str
    version: int
    synced_at: datetime  # wall-clock time of the last database read (for grant tokens)
    checked_at: float  # monotonic time of the last version check
    by_id: dict[str, Grant] = field(default_factory=dict)
    by_grantee: dict[str, dict[str, Grant]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, key_id: str, version: int, grants: Iterable[Grant], synced_at: datetime) -> KeyGrants:
        index = cls(key_id, version, synced_at, time.monotonic())
        for grant in grants:
            index.add(grant)
        return index

    def add(self, grant: Grant) -> None:
        self.by_id[grant.grant_id] = grant
        self.by_grantee.setdefault(grant.grantee, {})[grant.grant_id] = grant
        self.removed.discard(grant.grant_id)

    def remove(self, grant_id: str) -> None:
        grant = self.by_id.pop(grant_id, None)
        if grant is not None:
            held = self.by_grantee.get(grant.grantee)
            if held is not None:
                held.pop(grant_id, None)
                if not held:
                    del self.by_grantee[grant.grantee]
        if len(self.removed) >= _MAX_REMEMBERED_REMOVALS:
            self.removed.clear()
        self.removed.add(grant_id)

    def held_by(self, grantee: str) -> Iterable[Grant]:
        """The grants whose grantee is exactly this principal ARN."""
        held = self.by_grantee.get(grantee)
        return () if held is None else held.values()

    def token_grant_is_live(self, grant_id: str, issued_at: datetime) -> bool:
        """Whether a grant known only from a token may still be in force (not retired or revoked)."""
        if grant_id in self.by_id:
            return True
        return grant_id not in self.removed and issued_at >= self.synced_at - TOKEN_SLACK


class GrantIndex:
    """Bounded cache of `KeyGrants`, least recently used key evicted first."""

    def __init__(self, db: Database, clock: Clock, *, poll_seconds: float = POLL_SECONDS) -> None:
        self._db = db
        self._clock = clock
        self._poll = poll_seconds
        self._keys: OrderedDict[str, KeyGrants] = OrderedDict()

    async def for_key(self, key_id: str) -> KeyGrants:
        """The key's grants, current to within `poll_seconds` (at once for this node's changes).

        Raises:
            StorageError: the database failed while refreshing.
        """
        index = self._keys.get(key_id)
        if index is not None:
            self._keys.move_to_end(key_id)
            if time.monotonic() - index.checked_at < self._poll:
                return index
            now = self._clock.now()
            version = await run_blocking(self._read_version, key_id)
            if version == index.version:
                index.checked_at, index.synced_at = time.monotonic(), now
                return index
        return await self._load(key_id, index)

    async def _load(self, key_id: str, previous: KeyGrants | None) -> KeyGrants:
        now = self._clock.now()
        version, grants = await run_blocking(self._read_all, key_id)
        current = self._keys.get(key_id)
        if current is not None and current is not previous and current.version >= version:
            return current  # a concurrent refresh got a newer view first
        index = KeyGrants.build(key_id, version, grants, now)
        if previous is not None:
            # Remember what disappeared, so that its tokens stop working here too.
            index.removed = previous.removed | (previous.by_id.keys() - index.by_id.keys())
        self._keys[key_id] = index
        if len(self._keys) > MAX_INDEXED_KEYS:
            self._keys.popitem(last=False)
        return index

    def applied(
        self, key_id: str, version: int, *, added: Grant | None = None, removed: str | None = None
    ) -> None:
        """Record a grant change this node committed, which took the key to `version`."""
        index = self._keys.get(key_id)
        if index is None or index.version >= version:
            return
        if index.version != version - 1:
            # Another node changed the key in between: reload rather than guess.
            del self._keys[key_id]
            return
        if added is not None:
            index.add(added)
        if removed is not None:
            index.remove(removed)
        index.version = version

    def forget(self, key_id: str) -> None:
        """Drop a key's index (e.g. once the key is deleted)."""
        self._keys.pop(key_id, None)

    def _read_version(self, key_id: str) -> int:
        with self._db.reader() as tx:
            return tx.grant_version(key_id)

    def _read_all(self, key_id: str) -> tuple[int, list[Grant]]:
        with self._db.reader() as tx:
            version, rows = tx.all_grants_of_key(key_id)
        return version, [Grant.from_row(row) for row in rows]
