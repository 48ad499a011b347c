"""Encoded authorization failure messages: a denial's details, sealed so only STS can read them.

[STS-API:DecodeAuthorizationMessage] Some denials (EC2's UnauthorizedOperation) carry an encoded
message; the details may be privileged, so the caller needs `sts:DecodeAuthorizationMessage` to
read them. We seal the JSON document with the rotating STS token keys (any node opens it, no
database round trip) under a label of its own, so that a session token never decodes as a
message nor a message opens as a session token. A message lives as long as its token key is
retained (see `tokens.RETAIN_FOR`).
"""

from __future__ import annotations

import json
from typing import Any

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.crypto.session_tokens import SessionTokenError, open_token, seal_token, token_key_id
from keystead.errors import InvalidAuthorizationMessageError
from keystead.identity.tokens import TokenKeys
from keystead.storage import Database

MESSAGE_LABEL = b"keystead/sts-authorization-message"
# botocore's model caps EncodedMessage at 10,240 characters; a message must fit to be decodable.
MAX_ENCODED_CHARS = 10_240
INVALID = "The encoded authorization message is not valid."


class AuthorizationMessages:
    """Seals and opens authorization messages; one per process."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._keys = TokenKeys(db, keyring, clock)

    async def seal(self, document: dict[str, Any]) -> str:
        """The encoded form of a decoded-message document (shrunk to fit the model's limit)."""
        key_id, key = await self._keys.current()
        encoded = seal_token(_compact(document), key_id, key, label=MESSAGE_LABEL)
        if len(encoded) > MAX_ENCODED_CHARS:
            # Condition values are the bulk of a large message; the decision itself always fits.
            trimmed = {**document, "context": {**document.get("context", {}), "conditions": {"items": []}}}
            encoded = seal_token(_compact(trimmed), key_id, key, label=MESSAGE_LABEL)
        return encoded

    async def open(self, encoded: str) -> dict[str, Any]:
        """The document inside an encoded message.

        Raises:
            InvalidAuthorizationMessageError: not a message this deployment sealed (or its key
                has been retired); one error for every cause.
        """
        try:
            key = await self._keys.lookup(token_key_id(encoded))
            raw = open_token(encoded, lambda _: key, label=MESSAGE_LABEL)
            document = json.loads(raw)
        except (SessionTokenError, ValueError):
            raise InvalidAuthorizationMessageError(INVALID) from None
        if not isinstance(document, dict):
            raise InvalidAuthorizationMessageError(INVALID)
        return document


def _compact(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
