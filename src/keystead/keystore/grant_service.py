"""The grant service: create, retire, revoke and list grants; the index authorization reads.

Writes run inside the caller's transaction (the handler's `ctx.mutate`, which also records the
audit event); once committed, the handler reports the change with `committed(...)` so the
in-memory index follows at once on this node.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.errors import InvalidMarkerError, LimitExceededError, NotFoundError
from keystead.keystore.grant_index import GrantIndex, KeyGrants
from keystead.keystore.grant_tokens import GrantTokens, TokenGrant
from keystead.keystore.grants import GRANT_ID, MAX_GRANTS_PER_KEY, Grant, NewGrant, new_grant_id
from keystead.storage import Database, KeyRow, Tx

DEFAULT_PAGE = 50
MAX_PAGE = 100  # the documented maximum; the model allows 1000, and KMS "might return fewer"


@dataclass(frozen=True, slots=True)
class Created:
    grant: Grant
    token: str
    version: int | None  # None when an existing grant was returned (Name idempotency)


@dataclass(frozen=True, slots=True)
class GrantPage:
    grants: list[Grant]
    next_marker: str | None


class GrantService:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock, index: GrantIndex | None = None) -> None:
        self._db = db
        self._clock = clock
        self.tokens = GrantTokens(keyring)
        self.index = index or GrantIndex(db, clock)

    async def grants_of_key(self, key_id: str) -> KeyGrants:
        """The in-memory index of a key's grants (see GrantIndex.for_key).

        Raises:
            StorageError: the database failed while refreshing.
        """
        return await self.index.for_key(key_id)

    def open_token(self, token: str) -> TokenGrant:
        """Raises:
            InvalidGrantTokenError: not a grant token of this service.
        """
        return self.tokens.open(token)

    def create(self, tx: Tx, key: KeyRow, request: NewGrant) -> Created:
        """Create a grant on `key`, or return the grant a same-Name, same-parameters request made.

        Raises:
            LimitExceededError: the key already has 50,000 grants.
        """
        now = self._clock.now()
        if request.name is not None:
            for row in tx.find_grants_by_name(key.key_id, request.name):
                existing = Grant.from_row(row)
                if existing.same_request(request):
                    return Created(existing, self.tokens.issue(existing, now), None)
        grant = Grant(
            grant_id=new_grant_id(), key_id=key.key_id, region=key.region, issuing_account=key.account_id,
            grantee=request.grantee, operations=request.operations, retiring=request.retiring,
            constraint=request.constraint, name=request.name, creation_date=now,
        )
        version, count = tx.insert_grant(grant.to_row())
        if count > MAX_GRANTS_PER_KEY:
            # Raising rolls the insert back; the counter row serialised concurrent creators.
            raise LimitExceededError(
                f"The request was rejected because the number of grants on the KMS key exceeds "
                f"the limit of {MAX_GRANTS_PER_KEY}."
            )
        return Created(grant, self.tokens.issue(grant, now), version)

    def find(self, tx: Tx, key_id: str, grant_id: str) -> Grant:
        """One grant of a key.

        Raises:
            NotFoundError: the key has no grant with this id.
        """
        row = tx.get_grant(grant_id) if GRANT_ID.match(grant_id) else None
        if row is None or row.key_id != key_id:
            raise NotFoundError(f"Grant ID {grant_id} not found")
        return Grant.from_row(row)

    def delete(self, tx: Tx, key_id: str, grant_id: str) -> int:
        """Retire or revoke one grant; the key's new grant version.

        Raises:
            NotFoundError: the key has no grant with this id.
        """
        version = tx.delete_grant(key_id, grant_id)
        if version is None:
            raise NotFoundError(f"Grant ID {grant_id} not found")
        return version

    def committed_create(self, created: Created) -> None:
        """Tell the index about a CreateGrant once its transaction has committed."""
        if created.version is not None:
            self.index.applied(created.grant.key_id, created.version, added=created.grant)

    def committed_delete(self, key_id: str, grant_id: str, version: int) -> None:
        """Tell the index about a RetireGrant/RevokeGrant once its transaction has committed."""
        self.index.applied(key_id, version, removed=grant_id)

    def list_for_key(
        self, key_id: str, *, grantee: str | None, grant_id: str | None, limit: int | None, marker: str | None
    ) -> GrantPage:
        """One page of a key's grants (blocking: run it off the event loop).

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        size = _page_size(limit)
        with self._db.reader() as tx:
            rows = tx.list_grants(
                key_id, grantee=grantee, grant_id=grant_id, after=_decode(marker), limit=size + 1
            )
        return _page([Grant.from_row(r) for r in rows], size)

    def list_retirable(
        self, retiring: str, region: str, *, limit: int | None, marker: str | None
    ) -> GrantPage:
        """One page of a region's grants retirable by `retiring` (blocking).

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        size = _page_size(limit)
        with self._db.reader() as tx:
            rows = tx.list_retirable_grants(retiring, region, after=_decode(marker), limit=size + 1)
        return _page([Grant.from_row(r) for r in rows], size)

    def load(self, key_id: str, grant_id: str) -> Grant:
        """One grant from the database (blocking).

        Raises:
            NotFoundError: the key has no grant with this id.
        """
        with self._db.reader() as tx:
            return self.find(tx, key_id, grant_id)


def _page_size(limit: int | None) -> int:
    return min(limit or DEFAULT_PAGE, MAX_PAGE)


def _page(grants: list[Grant], size: int) -> GrantPage:
    if len(grants) > size:
        return GrantPage(grants[:size], _encode(grants[size - 1].grant_id))
    return GrantPage(grants, None)


def _encode(grant_id: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(grant_id)).decode()


def _decode(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(marker.encode()).hex()
    except (ValueError, binascii.Error) as exc:
        raise InvalidMarkerError("The request contains an invalid marker.") from exc
    if not GRANT_ID.match(decoded):
        raise InvalidMarkerError("The request contains an invalid marker.")
    return decoded

