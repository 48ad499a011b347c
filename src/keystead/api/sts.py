"""STS operations (awsQuery). GetCallerIdentity needs a signature but no permission."""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers


async def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    return {"user_id": principal.principal_id, "account": principal.account_id, "arn": principal.arn}


def sts_handlers() -> Handlers:
    return {"GetCallerIdentity": Handler(get_caller_identity, read_only=True)}
