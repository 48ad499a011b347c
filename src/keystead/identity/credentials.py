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
from keystead.identity.iam.key_usage import AccessKeyUsage
from keystead.identity.ids import TEMPORARY_KEY_PREFIX
from keystead.identity.sessions import SessionTokens
from keystead.storage import Database
from keystead.storage.rows import IamUserRow
from keystead.types import Principal, PrincipalType

CACHE_SECONDS = 5.0
MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class SigningCredential:
    secret_access_key: str = field(repr=False)
    principal: Principal


class CredentialResolver:
    def __init__(
        self, db: Database, keyring: Keyring, clock: Clock, sessions: SessionTokens | None = None
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock
        self._sessions = sessions or SessionTokens(db, keyring, clock)
        self._cache: dict[str, tuple[float, SigningCredential]] = {}
        self._usage = AccessKeyUsage(db)  # GetAccessKeyLastUsed, batched (identity/iam/key_usage.py)

    async def resolve(self, access_key_id: str, session_token: str | None) -> SigningCredential:
        """The credential for a signed request.

        Raises:
            UnrecognizedClientError: unknown or inactive key, or a temporary key without a valid token.
            ExpiredTokenError: temporary credentials whose session has expired.
        """
        if access_key_id.startswith(TEMPORARY_KEY_PREFIX):
            # STS credentials carry their whole state in the sealed token (identity/sessions.py).
            if session_token is None:
                raise UnrecognizedClientError()
            secret, principal = await self._sessions.verify(access_key_id, session_token)
            return SigningCredential(secret, principal)
        if session_token is not None:
            raise UnrecognizedClientError()  # a long-term key never comes with a session token
        cached = self._cache.get(access_key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        credential = await run_blocking(self._load, access_key_id)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[access_key_id] = (time.monotonic() + CACHE_SECONDS, credential)
        return credential

    def note_use(self, access_key_id: str, service: str, region: str) -> None:
        """Remember that a request authenticated with this key (written later, in a batch)."""
        self._usage.note(access_key_id, self._clock.now(), service, region)

    def forget(self, access_key_id: str) -> None:
        """Drop a cached credential after its key changed on this node."""
        self._cache.pop(access_key_id, None)

    def _load(self, access_key_id: str) -> SigningCredential:
        with self._db.reader() as tx:
            row = tx.get_access_key(access_key_id)
            if row is None or row.status != "Active":
                raise UnrecognizedClientError()
            user = None
            if row.user_name is not None:
                user = tx.get_iam_entity(IamUserRow, row.account_id, row.user_name)
                if user is None:
                    raise UnrecognizedClientError()
                tags = tx.entity_tags(user.user_id)
        secret = self._keyring.unwrap(row.secret_wrapped, purpose=ACCESS_KEY_SECRET_PURPOSE).decode()
        if user is None:
            principal = Principal(
                type=PrincipalType.ROOT,
                account_id=row.account_id,
                arn=arn.root_arn(row.account_id),
                principal_id=row.account_id,
                access_key_id=access_key_id,
                identity_arn=arn.root_arn(row.account_id),
            )
        else:
            user_arn = arn.user_arn(row.account_id, user.path, user.user_name)
            principal = Principal(
                type=PrincipalType.USER,
                account_id=row.account_id,
                arn=user_arn,
                principal_id=user.user_id,
                access_key_id=access_key_id,
                name=user.user_name,
                identity_arn=user_arn,
                tags=tags,
            )
        return SigningCredential(secret, principal)
