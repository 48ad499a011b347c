"""`GET /keystead/access/who-can?key=KEY[&action=kms:Decrypt]`: the access analyzer over HTTP.

A Keystead extension, not an AWS API (no botocore model has it): signed with SigV4 for the `kms`
service like every other request, answered with the analyzer's JSON report, errors in KMS's
JSON shape, and recorded in the audit trail as the read-only event `WhoCanUseKey`.
The caller needs `kms:GetKeyPolicy` on the key (the report reveals what the key policy says)
and `iam:GetAccountAuthorizationDetails` in its account (it reveals the account's IAM
policies). KEY is a key ID or key ARN of the caller's own account (GetKeyPolicy is not a
cross-account operation).
"""

from __future__ import annotations

from typing import Any

from keystead.analysis import AccessAnalyzer, canonical_action
from keystead.api.context import RequestContext
from keystead.api.handlers import Handler
from keystead.api.kms.common import key_resource
from keystead.blocking import run_blocking
from keystead.errors import NotFoundError, ValidationError
from keystead.keystore.keys import KeyService

WHO_CAN_PATH = "/keystead/access/who-can"
WHO_CAN_OPERATION = "WhoCanUseKey"


class AccessApi:
    def __init__(self, keys: KeyService, analyzer: AccessAnalyzer) -> None:
        self._keys = keys
        self._analyzer = analyzer

    async def who_can(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The who-can report for the key named by `key`.

        Raises:
            ValidationError: `key` missing, or `action` not a key action.
            NotFoundError: no such key in the caller's account and region.
            AccessDeniedError: the caller may not read the key policy or the account's IAM policies.
        """
        key_id = params.get("key")
        if not key_id:
            raise ValidationError(
                "1 validation error detected: Value null at 'key' failed to satisfy constraint: "
                "Member must not be null"
            )
        action = params.get("action") or None
        if action is not None:
            action = canonical_action(action)
        ref = await self._keys.resolve(
            key_id, account_id=ctx.principal.account_id, region=ctx.region, allow_alias=False
        )
        if ref.key.account_id != ctx.principal.account_id:
            raise NotFoundError(f"Key '{ref.arn}' does not exist")
        await ctx.authorize("kms:GetKeyPolicy", key_resource(ref))
        await ctx.authorize("iam:GetAccountAuthorizationDetails", None)
        report = await run_blocking(self._analyzer.who_can, ref.key.key_id, action)
        return report.as_json()


def access_routes(api: AccessApi) -> dict[str, tuple[str, Handler]]:
    """The extension paths the pipeline serves: path -> (operation name, handler)."""
    return {WHO_CAN_PATH: (WHO_CAN_OPERATION, Handler(api.who_can, read_only=True))}
