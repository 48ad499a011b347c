"""STS sessions: temporary credentials whose whole state travels inside the session token.

`issue` turns a session principal (built by STS: an assumed role, a federated user, or a user's
or root's GetSessionToken session) into an `ASIA…` access key id, a secret and a sealed token;
`verify` opens a token on any node, checks that it belongs to the access key id and has not
expired, and gives back the secret that verifies the request's signature plus the principal.

Claims are compact JSON. Times are epoch seconds. The secret is inside the sealed token, so a
token is worth as much as the secret: it is never logged and never stored.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.crypto.passwords import new_secret_access_key
from keystead.crypto.session_tokens import SessionTokenError, open_token, seal_token, token_key_id
from keystead.errors import ExpiredTokenError, UnrecognizedClientError
from keystead.identity.ids import TEMPORARY_KEY_PREFIX, new_access_key_id
from keystead.identity.tokens import TokenKeys
from keystead.storage import Database
from keystead.types import Principal, PrincipalType, SessionInfo

CLAIMS_VERSION = 1
MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    """What STS hands out: the Credentials element of every STS response, and who they are."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    principal: Principal


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def encode_claims(principal: Principal, secret: str) -> bytes:
    """The claims JSON of a session principal (which must carry its session and access key id)."""
    session = principal.session
    assert session is not None and principal.access_key_id is not None, "only sessions have tokens"
    claims: dict[str, Any] = {
        "v": CLAIMS_VERSION,
        "ak": principal.access_key_id,
        "sk": secret,
        "acct": principal.account_id,
        "type": principal.type.value,
        "arn": principal.arn,
        "pid": principal.principal_id,
        "name": principal.name,
        "iarn": principal.identity_arn,
        "tags": dict(principal.tags),
        "s": {
            "iss": session.issuer_arn,
            "iid": session.issuer_id,
            "n": session.session_name,
            "iat": _epoch(session.issued_at),
            "exp": _epoch(session.expires_at),
            "mfa": session.mfa_authenticated,
            "si": session.source_identity,
            "pol": list(session.session_policies),
            "ttk": list(session.transitive_tag_keys),
        },
    }
    return json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_claims(raw: bytes) -> tuple[str, Principal]:
    """(secret, principal) from claims JSON.

    Raises:
        UnrecognizedClientError: claims of an unknown version or shape.
    """
    try:
        claims = json.loads(raw)
        if claims["v"] != CLAIMS_VERSION:
            raise UnrecognizedClientError()
        s = claims["s"]
        session = SessionInfo(
            issuer_arn=s["iss"], issuer_id=s["iid"], session_name=s["n"], issued_at=_time(s["iat"]),
            expires_at=_time(s["exp"]), mfa_authenticated=bool(s["mfa"]), source_identity=s["si"],
            session_policies=tuple(s["pol"]), transitive_tag_keys=tuple(s["ttk"]),
        )
        principal = Principal(
            type=PrincipalType(claims["type"]), account_id=claims["acct"], arn=claims["arn"],
            principal_id=claims["pid"], access_key_id=claims["ak"], name=claims["name"],
            identity_arn=claims["iarn"], tags=dict(claims["tags"]), session=session,
        )
        return str(claims["sk"]), principal
    except (KeyError, TypeError, ValueError):
        # Only a token sealed by our own keys gets here, so this is a format we no longer read.
        raise UnrecognizedClientError() from None


class SessionTokens:
    """Issues and verifies temporary credentials; one per process, shared by STS and SigV4."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._keys = TokenKeys(db, keyring, clock)
        self._clock = clock
        self._verified: dict[str, tuple[float, str, Principal]] = {}

    async def issue(self, principal: Principal) -> IssuedCredentials:
        """New temporary credentials for a session principal (its `session` says until when)."""
        session = principal.session
        assert session is not None, "a session principal carries its SessionInfo"
        access_key_id = new_access_key_id(temporary=True)
        secret = new_secret_access_key()
        principal = replace(principal, access_key_id=access_key_id)
        key_id, key = await self._keys.current()
        token = seal_token(encode_claims(principal, secret), key_id, key)
        return IssuedCredentials(access_key_id, secret, token, session.expires_at, principal)

    async def verify(self, access_key_id: str, token: str) -> tuple[str, Principal]:
        """The secret and principal of temporary credentials presented with a request.

        Raises:
            UnrecognizedClientError: not an ASIA key, a token that does not open, or a token
                issued for another access key id.
            ExpiredTokenError: the session has expired.
        """
        if not access_key_id.startswith(TEMPORARY_KEY_PREFIX):
            raise UnrecognizedClientError()
        cached = self._verified.get(token)
        if cached is not None and cached[0] > time.monotonic():
            secret, principal = cached[1], cached[2]
        else:
            secret, principal = await self._open(token)
            if len(self._verified) >= MAX_CACHED:
                self._verified.clear()
            self._verified[token] = (time.monotonic() + 60.0, secret, principal)
        if principal.access_key_id != access_key_id:
            raise UnrecognizedClientError()
        assert principal.session is not None
        if self._clock.now() >= principal.session.expires_at:
            raise ExpiredTokenError()
        return secret, principal

    async def _open(self, token: str) -> tuple[str, Principal]:
        try:
            key = await self._keys.lookup(token_key_id(token))
            raw = open_token(token, lambda _: key)
        except SessionTokenError:
            raise UnrecognizedClientError() from None
        return decode_claims(raw)
