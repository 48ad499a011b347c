"""From an access key id to the secret that verifies its signature and the principal it names.

This is on the hot path of every signed request, so resolved credentials are cached in memory
(unwrapped secrets never leave the process) for a short time, and dropped at once when this
node changes a key. Another node's change is seen within CACHE_SECONDS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from keystead import arn
from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.errors import UnrecognizedClientError
from keystead.identity.accounts import ACCESS_KEY_SECRET_PURPOSE
from keystead.identity.ids import TEMPORARY_KEY_PREFIX
from keystead.storage import Database
from keystead.types import Principal, PrincipalType

CACHE_SECONDS = 5.0
MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class SigningCredential:
    secret_access_key: str = field(repr=False)
    principal: Principal


class CredentialResolver:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock
        self._cache: dict[str, tuple[float, SigningCredential]] = {}

    async def resolve(self, access_key_id: str, session_token: str | None) -> SigningCredential:
        """The credential for a signed request.

        Raises:
            UnrecognizedClientError: unknown or inactive key, or a temporary key without a valid token.
        """
        if access_key_id.startswith(TEMPORARY_KEY_PREFIX) or session_token is not None:
            # Temporary credentials arrive with STS; until then no session token is valid.
            raise UnrecognizedClientError()
        cached = self._cache.get(access_key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        credential = await run_blocking(self._load, access_key_id)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[access_key_id] = (time.monotonic() + CACHE_SECONDS, credential)
        return credential

    def forget(self, access_key_id: str) -> None:
        """Drop a cached credential after its key changed on this node."""
        self._cache.pop(access_key_id, None)

    def _load(self, access_key_id: str) -> SigningCredential:
        with self._db.reader() as tx:
            row = tx.get_access_key(access_key_id)
        if row is None or row.status != "Active" or row.user_name is not None:
            # IAM users' keys are resolved by the IAM work; until then they can't authenticate.
            raise UnrecognizedClientError()
        secret = self._keyring.unwrap(row.secret_wrapped, purpose=ACCESS_KEY_SECRET_PURPOSE).decode()
        principal = Principal(
            type=PrincipalType.ROOT,
            account_id=row.account_id,
            arn=arn.root_arn(row.account_id),
            principal_id=row.account_id,
            access_key_id=access_key_id,
            identity_arn=arn.root_arn(row.account_id),
        )
        return SigningCredential(secret, principal)
