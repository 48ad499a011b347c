"""The single `authorize()` seam of the pipeline.

Until the policy engine is wired in, this fails closed: only an account's root user may act,
and only on its own account's resources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from keystead.api.context import RequestContext, ResourceAccess
from keystead.errors import AccessDeniedError, MalformedPolicyDocumentError


class RootOnlyAuthorizer:
    async def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: ResourceAccess | None,
        extra_context: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        principal = ctx.principal
        if principal.is_root and (resource is None or resource.account_id == principal.account_id):
            return
        target = resource.arn if resource is not None else "*"
        raise AccessDeniedError(
            f"User: {principal.arn} is not authorized to perform: {action} on resource: {target} "
            f"because no resource-based policy allows the {action} action"
        )


async def validate_key_policy(ctx: RequestContext, text: str, key_arn: str | None, bypass: bool) -> None:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise MalformedPolicyDocumentError("The policy is not valid JSON.") from exc
    if not isinstance(document, dict) or "Statement" not in document:
        raise MalformedPolicyDocumentError("The policy must be a JSON object with a Statement.")
