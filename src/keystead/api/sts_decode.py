"""STS DecodeAuthorizationMessage: the details behind an encoded authorization failure message.

[STS-API:DecodeAuthorizationMessage] Needs `sts:DecodeAuthorizationMessage`. The answer is the
JSON document (allowed, explicitDeny, matchedStatements, failures, context) as a string. A message
opens only for callers of the account whose principal was denied: another account's denial is as
invalid to them as a forged one (docs/compatibility.md).
"""

from __future__ import annotations

import json

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.sts_common import Params, Result, StsDeps
from keystead.errors import InvalidAuthorizationMessageError
from keystead.identity.authorization_messages import INVALID, AuthorizationMessages


class AuthorizationMessageDecoder:
    def __init__(self, deps: StsDeps, messages: AuthorizationMessages) -> None:
        self._deps = deps
        self._messages = messages

    def handlers(self) -> Handlers:
        return {"DecodeAuthorizationMessage": Handler(self.decode, read_only=True)}

    async def decode(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("sts:DecodeAuthorizationMessage")
        document = await self._messages.open(params["encoded_message"])
        principal = document.get("context", {}).get("principal", {})
        arn = principal.get("arn", "") if isinstance(principal, dict) else ""
        if arn.split(":")[4:5] != [ctx.principal.account_id]:
            raise InvalidAuthorizationMessageError(INVALID)
        return {"decoded_message": json.dumps(document, separators=(",", ":"))}
