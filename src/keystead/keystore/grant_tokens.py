"""Grant tokens: opaque, sealed copies of a grant that any node can verify without a database.

A token carries the whole grant, sealed (AEAD) under the keyring with its own purpose label, so
a grantee can use a grant at once on a node whose grant index has not yet seen it (AWS's
"eventual consistency" window, [DG:grant-tokens]). Each CreateGrant returns a fresh token
(random nonce); all tokens of one grant are interchangeable.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType

from keystead.crypto.keyring import Keyring
from keystead.errors import InvalidGrantTokenError, KeyringError
from keystead.keystore.grants import Grant, GrantConstraint

TOKEN_PURPOSE = "kms-grant-token"
_FORMAT = 1
_MAX_TOKEN_CHARS = 8192
_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid token says: the grant, and when the token was issued."""

    grant: Grant
    issued_at: datetime


class GrantTokens:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        # Clients resend the same token with every call; opening it once is enough.
        self._opened: OrderedDict[str, TokenGrant] = OrderedDict()

    def issue(self, grant: Grant, issued_at: datetime) -> str:
        """A new token for `grant`."""
        constraint = grant.constraint
        body = {
            "v": _FORMAT, "g": grant.grant_id, "k": grant.key_id, "r": grant.region,
            "a": grant.issuing_account,
            "p": grant.grantee, "o": list(grant.operations), "rp": grant.retiring, "n": grant.name,
            "c": None if constraint is None else [constraint.type, dict(constraint.context)],
            "t": issued_at.timestamp(),
        }
        sealed = self._keyring.wrap(json.dumps(body, separators=(",", ":")).encode(), purpose=TOKEN_PURPOSE)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, token: str) -> TokenGrant:
        """The grant a token carries.

        Raises:
            InvalidGrantTokenError: not a token this service issued (or tampered with).
        """
        cached = self._opened.get(token)
        if cached is not None:
            self._opened.move_to_end(token)
            return cached
        opened = self._open(token)
        self._opened[token] = opened
        if len(self._opened) > _CACHE_SIZE:
            self._opened.popitem(last=False)
        return opened

    def _open(self, token: str) -> TokenGrant:
        if not token or len(token) > _MAX_TOKEN_CHARS:
            raise InvalidGrantTokenError("Invalid grant token.")
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body = json.loads(self._keyring.unwrap(sealed, purpose=TOKEN_PURPOSE))
            if body.get("v") != _FORMAT:
                raise ValueError("unknown token format")
            constraint = None
            if body["c"] is not None:
                constraint = GrantConstraint(body["c"][0], MappingProxyType(dict(body["c"][1])))
            grant = Grant(
                grant_id=body["g"], key_id=body["k"], region=body["r"], issuing_account=body["a"],
                grantee=body["p"], operations=tuple(body["o"]), retiring=body["rp"], constraint=constraint,
                name=body["n"],
            )
            issued_at = datetime.fromtimestamp(float(body["t"]), tz=timezone.utc)
        except (KeyringError, ValueError, KeyError, TypeError, IndexError, AttributeError, binascii.Error):
            raise InvalidGrantTokenError("Invalid grant token.") from None
        return TokenGrant(grant, issued_at)
